// Establishing that the broker really reloaded its CRL. A reload command's exit status only proves
// that a signal was sent (Mosquitto ignores a CRL it cannot read on SIGHUP, and the signal may go
// to the wrong process), so the portal signs a certificate for itself, revokes it in the same CRL
// as the revocation it is about to enforce, and connects with it to the phones' TLS listener: once
// the broker answers "certificate revoked", it reads a CRL at least that new.
import type { IClientOptions } from 'mqtt';
import { loadMqtt } from './mqtt.js';
import type { Ca } from '../pki/ca.js';
import { issueClientCertificate } from '../pki/issue.js';
import { generateRsaKeyPair, type KeyPairPem } from '../pki/keys.js';

/** Not a valid username (spaces, capitals): no person and no dynsec client can ever have it. */
const PROBE_COMMON_NAME = 'Enroll CRL probe';
/** How long a probe certificate is valid; expired probes leave the CRL. */
const PROBE_DAYS = 1;

export type ProbeVerdict =
  /** The broker refused the probe as revoked: the CRL is in force. */
  | { verdict: 'refused' }
  /** The broker still accepts the probe: it has not read the new CRL (yet). */
  | { verdict: 'accepted' }
  /** No TLS answer at all: the listener is not reachable from the portal. */
  | { verdict: 'unreachable'; error: string };

export interface ProbeTarget {
  host: string;
  port: number;
}

let probeKey: Promise<KeyPairPem> | undefined;

/** Signs a new probe certificate (one key per process; a new certificate and serial each time). */
export async function signProbe(
  ca: Ca,
  now: Date,
): Promise<{ serial: string; pem: string; notAfter: Date; key: string }> {
  probeKey ??= generateRsaKeyPair(2048);
  const keys = await probeKey;
  const cert = issueClientCertificate({
    ca,
    username: PROBE_COMMON_NAME,
    publicKeyPem: keys.publicKeyPem,
    days: PROBE_DAYS,
    now,
  });
  return { serial: cert.serial, pem: cert.pem, notAfter: cert.notAfter, key: keys.privateKeyPem };
}

/** The probe key, once a probe was signed in this process. */
export async function probeKeyPem(): Promise<string> {
  probeKey ??= generateRsaKeyPair(2048);
  return (await probeKey).privateKeyPem;
}

/** One connection attempt with the probe certificate. */
function attempt(
  mqtt: Awaited<ReturnType<typeof loadMqtt>>,
  target: ProbeTarget,
  caPem: string,
  certPem: string,
  keyPem: string,
): Promise<ProbeVerdict> {
  return new Promise((resolve) => {
    let settled = false;
    // MQTT.js hands the TLS options to tls.connect, checkServerIdentity included.
    const options: IClientOptions & { checkServerIdentity: () => undefined } = {
      protocol: 'mqtts',
      host: target.host,
      port: target.port,
      ca: caPem,
      cert: certPem,
      key: keyPem,
      rejectUnauthorized: true,
      // Only the answer to the client certificate matters here, not the name the phones use.
      checkServerIdentity: () => undefined,
      clientId: `owntracks-enroll-probe-${Math.random().toString(16).slice(2, 10)}`,
      reconnectPeriod: 0,
      connectTimeout: 3_000,
      clean: true,
    };
    const client = mqtt.connect(options);
    const finish = (verdict: ProbeVerdict) => {
      if (settled) return;
      settled = true;
      client.end(true);
      resolve(verdict);
    };
    client.on('connect', () => finish({ verdict: 'accepted' }));
    client.on('error', (error) => {
      const code = (error as { code?: unknown }).code;
      finish(
        code === 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED' || /certificate revoked/i.test(error.message)
          ? { verdict: 'refused' }
          : { verdict: 'unreachable', error: typeof code === 'string' ? code : error.message },
      );
    });
    client.on('close', () => finish({ verdict: 'unreachable', error: 'connection closed' }));
  });
}

/**
 * Connects with the probe until the broker refuses it as revoked, or the deadline passes; every
 * `intervalMs` while it is still accepted (the reload signal may not have been handled yet).
 */
export async function probeUntilRefused(
  target: ProbeTarget,
  caPem: string,
  probe: { pem: string; key: string },
  options: { deadlineMs?: number; intervalMs?: number } = {},
): Promise<ProbeVerdict> {
  const deadline = Date.now() + (options.deadlineMs ?? 10_000);
  let last: ProbeVerdict;
  do {
    last = await attempt(await loadMqtt(), target, caPem, probe.pem, probe.key);
    if (last.verdict === 'refused') return last;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  } while (Date.now() < deadline);
  return last;
}
