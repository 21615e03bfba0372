// A portal with a broker link to a real Mosquitto 2.0 running the dynamic-security plugin: the
// portal's CA and CRL on a TLS listener (phones), a plain control listener on loopback (the
// portal's control account, made with `mosquitto_ctrl dynsec init`). Phones are MQTT.js clients
// holding the bundles the portal mailed (read back in-process with node-forge).
import path from 'node:path';
import forge from 'node-forge';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { startTestPortal, type TestPortal, type TestPortalOptions } from './harness.js';
import { MemoryMailer } from './mailer.js';
import { freePort, Mosquitto, type MosquittoOptions } from './mosquitto.js';
import { Scratch } from './openssl.js';
import { serverFiles } from './pki.js';
import { tempDir } from './temp-dir.js';

export const CONTROL = { username: 'enroll-control', password: 'control-password-for-tests' };

export interface LinkedPortal {
  portal: TestPortal;
  mailer: MemoryMailer;
  broker: Mosquitto;
  brokerOptions: MosquittoOptions;
  dynsecFile: string;
  controlPort: number;
  tlsPort: number;
  scratch: Scratch;
  serverFiles: { serverCert: string; serverKey: string };
  close(): Promise<void>;
}

/**
 * Timings short enough for tests: the link retries within a second. A probe is refused within a
 * second once the broker reads the CRL; its deadline (15 s) only outlasts a loaded machine, and a
 * test that waits for the deadline to pass sets a short one (`SHORT_PROBE_DEADLINE`).
 */
export const TEST_BROKER_TIMINGS = {
  backoffFirstMs: 100,
  backoffMaxMs: 1000,
  probeDeadlineMs: 15_000,
  kickRetryMs: 500,
  reconcileRetryMs: 2000,
};

/** For a test that waits for a probe's deadline to pass (a probe never refused). */
export const SHORT_PROBE_DEADLINE = { brokerTimings: { ...TEST_BROKER_TIMINGS, probeDeadlineMs: 5000 } };

export async function startLinkedPortal(
  options: { acl?: boolean; portal?: TestPortalOptions; brokerFirst?: boolean; controlTls?: boolean } = {},
): Promise<LinkedPortal> {
  const controlPort = await freePort();
  const tlsPort = await freePort();
  const pidFile = path.join(tempDir('enroll-pid-'), 'mosquitto.pid');
  const mailer = new MemoryMailer();
  const portal = await startTestPortal({
    ...options.portal,
    env: {
      BROKER_CONTROL_URL: `${options.controlTls ? 'mqtts' : 'mqtt'}://${CONTROL.username}:${CONTROL.password}@127.0.0.1:${controlPort}`,
      MQTT_PORT: String(tlsPort),
      BROKER_RELOAD_COMMAND: `kill -HUP "$(cat ${pidFile})"`,
      ...options.portal?.env,
    },
    deps: { mailer, brokerTimings: TEST_BROKER_TIMINGS, ...options.portal?.deps },
  });
  const scratch = new Scratch();
  const server = await serverFiles(scratch, portal.ca);
  const dynsecFile = path.join(scratch.dir, 'dynsec.json');
  const brokerOptions: MosquittoOptions = {
    pidFile,
    port: tlsPort,
    acl: options.acl ?? false,
    dynsec: { file: dynsecFile, controlPort, admin: CONTROL, tls: options.controlTls ?? false },
  };
  const files = {
    caFile: path.join(portal.dataDir, 'ca.crt'),
    crlFile: path.join(portal.dataDir, 'crl.pem'),
    serverCert: server.serverCert,
    serverKey: server.serverKey,
  };
  const broker = await Mosquitto.start(files, brokerOptions);
  const linked: LinkedPortal = {
    portal,
    mailer,
    broker,
    brokerOptions,
    dynsecFile,
    controlPort,
    tlsPort,
    scratch,
    serverFiles: server,
    async close() {
      await linked.broker.stop();
      await portal.close();
    },
  };
  return linked;
}

/** Stops the broker and starts it again on the same ports with the same dynsec file. */
export async function restartBroker(linked: LinkedPortal, options: Partial<MosquittoOptions> = {}): Promise<void> {
  await linked.broker.stop();
  linked.broker = await Mosquitto.start(linked.broker.files, { ...linked.brokerOptions, ...options });
}

/** Resolves once `check` is true, polling every 50 ms; rejects with `what` after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Device {
  username: string;
  device: string;
  certificateId: number;
  certPem: string;
  keyPem: string;
}

/** Issues through the use case (as the form does) and opens the mailed bundle with its passphrase. */
export async function issueDevice(linked: LinkedPortal, username: string, device: string): Promise<Device> {
  const outcome = await linked.portal.services.enrollment.issue(
    {
      username,
      email: `${username}@example.org`,
      device,
      days: 30,
      keyBits: 2048,
      format: 'compatible',
      changeEmail: false,
    },
    { name: 'admin' },
  );
  if (!outcome.ok) throw new Error(`issue refused: ${JSON.stringify(outcome)}`);
  const mail = linked.mailer.messages.at(-1)!;
  const p12 = mail.parsed.attachments.find((a) => a.filename?.endsWith('.p12'))!.content;
  const asn1 = forge.asn1.fromDer(forge.util.createBuffer(p12.toString('binary')));
  const bundle = forge.pkcs12.pkcs12FromAsn1(asn1, outcome.passphrase);
  const keyBag = bundle.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!]!;
  const certBags = bundle.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!]!;
  const own = certBags.find((bag) => bag.cert!.subject.getField('CN').value === username)!;
  return {
    username,
    device,
    certificateId: outcome.certificateId,
    certPem: forge.pki.certificateToPem(own.cert!),
    keyPem: forge.pki.privateKeyToPem(keyBag[0]!.key!),
  };
}

/**
 * A phone: MQTT.js with the device's certificate, client id `<user><device>` as the apps use,
 * reconnecting every `reconnectMs`. It counts its connections and the refusals it meets.
 */
export class Phone {
  readonly client: MqttClient;
  connects = 0;
  /** Connections that were up and closed: a refused attempt (no client in dynsec yet, revoked) is not one. */
  closes = 0;
  errors: string[] = [];
  connected = false;
  lastCloseAt = 0;
  lastConnectAt = 0;
  constructor(
    linked: LinkedPortal,
    readonly device: Device,
    reconnectMs = 100,
    /** More MQTT.js options (e.g. `resubscribe: false` for a phone that subscribes on each connect). */
    extra: IClientOptions = {},
  ) {
    this.client = mqtt.connect({
      protocol: 'mqtts',
      host: '127.0.0.1',
      port: linked.tlsPort,
      ca: linked.portal.ca.certPem,
      cert: device.certPem,
      key: device.keyPem,
      clientId: `${device.username}${device.device}`,
      reconnectPeriod: reconnectMs,
      connectTimeout: 3000,
      keepalive: 30,
      ...extra,
    });
    this.client.on('connect', () => {
      this.connects++;
      this.connected = true;
      this.lastConnectAt = Date.now();
    });
    this.client.on('close', () => {
      if (!this.connected) return;
      this.lastCloseAt = Date.now();
      this.connected = false;
      this.closes++;
    });
    this.client.on('error', (error) => this.errors.push((error as { code?: string }).code ?? error.message));
  }

  /** Publishes at QoS 1 and resolves true once the broker acknowledged it (an ACL refusal still acks). */
  async publish(topic: string, message: string): Promise<boolean> {
    try {
      await this.client.publishAsync(topic, message, { qos: 1 });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Whether the phone can use its own topics now: it subscribes to `owntracks/<user>/<device>`
   * (refused: granted QoS 128), publishes there and receives its own message within `timeoutMs`.
   * A message comes back in milliseconds: the default only outlasts a loaded machine, and a check
   * that expects no message passes a shorter wait.
   */
  async roundTrip(timeoutMs = 10_000): Promise<boolean> {
    const topic = `owntracks/${this.device.username}/${this.device.device}`;
    const text = `check-${Math.random().toString(16).slice(2)}`;
    try {
      const granted = await this.client.subscribeAsync(topic, { qos: 1 });
      if (granted.some((grant) => grant.qos === 128)) return false;
      const received = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        const onMessage = (_topic: string, payload: Buffer) => {
          if (String(payload) !== text) return;
          clearTimeout(timer);
          this.client.off('message', onMessage);
          resolve(true);
        };
        this.client.on('message', onMessage);
      });
      await this.client.publishAsync(topic, text, { qos: 1 });
      return await received;
    } catch {
      return false;
    }
  }

  async end(): Promise<void> {
    await this.client.endAsync(true);
  }
}
