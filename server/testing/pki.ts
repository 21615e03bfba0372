// PKI fixtures shared by tests: one CA per test process (RSA 4096 takes a second or two to make).
import { createCa, loadCa, type Ca } from '../pki/ca.js';
import { generateRsaKeyPair } from '../pki/keys.js';
import { issueClientCertificate, issueServerCertificate } from '../pki/issue.js';
import { Scratch } from './openssl.js';

let shared: Promise<{ ca: Ca; keyPem: string }> | undefined;

export function testCa(): Promise<{ ca: Ca; keyPem: string }> {
  shared ??= createCa('Enroll Test CA', new Date()).then(({ certPem, keyPem }) => ({
    ca: loadCa(certPem, keyPem, undefined, new Date()),
    keyPem,
  }));
  return shared;
}

/** A client certificate and its key, written to files for openssl or mosquitto. */
export async function clientFiles(scratch: Scratch, ca: Ca, username: string, name = username) {
  const keys = await generateRsaKeyPair(2048);
  const cert = issueClientCertificate({ ca, username, publicKeyPem: keys.publicKeyPem, days: 30, now: new Date() });
  return {
    cert,
    keys,
    certFile: scratch.file(`${name}.crt`, cert.pem),
    keyFile: scratch.file(`${name}.key`, keys.privateKeyPem),
  };
}

/** The broker's server certificate for 127.0.0.1 and localhost. */
export async function serverFiles(scratch: Scratch, ca: Ca) {
  const keys = await generateRsaKeyPair(2048);
  const cert = issueServerCertificate({
    ca,
    hosts: ['localhost'],
    ips: ['127.0.0.1'],
    publicKeyPem: keys.publicKeyPem,
    days: 825,
    now: new Date(),
  });
  return {
    serverCert: scratch.file('server.crt', cert.pem),
    serverKey: scratch.file('server.key', keys.privateKeyPem),
    cert,
  };
}
