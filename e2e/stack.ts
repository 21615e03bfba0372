// The whole product for the browser journeys: the portal as its own process on a free port with a
// fresh DATA_DIR, a real SMTP server, and a real Mosquitto that trusts the portal's CA, reads its
// CRL, and is reloaded by the portal through BROKER_RELOAD_COMMAND. With `dynsec`, Mosquitto runs
// the dynamic-security plugin with a control listener, and the portal has a broker link to it.
//
// The CA is made here before the portal starts, as the portal would make it (its common name and
// the name constraints of the same environment) but with the test CA's RSA 2048 key: an RSA 4096
// key took 2-8 s of CPU per stack, and no journey depends on its size (ca.int.test.ts checks the
// CA the portal makes itself, at 4096 bits, with openssl). The portal runs from server/ compiled once
// per Playwright worker (server/testing/compiled.ts), not through tsx's loader.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../server/config.js';
import { dataFiles } from '../server/data-dir.js';
import { createCa, loadCa } from '../server/pki/ca.js';
import { compiledFile } from '../server/testing/compiled.js';
import { tempDir } from '../server/testing/temp-dir.js';
import { freePort, Mosquitto } from '../server/testing/mosquitto.js';
import { Scratch } from '../server/testing/openssl.js';
import { serverFiles, TEST_CA_KEY_BITS } from '../server/testing/pki.js';
import { TestSmtpServer } from '../server/testing/smtp.js';

export class Stack {
  private constructor(
    readonly baseUrl: string,
    readonly dataDir: string,
    readonly smtp: TestSmtpServer,
    readonly broker: Mosquitto,
    readonly scratch: Scratch,
    private readonly portal: ChildProcess,
    readonly log: string[],
  ) {}

  static async start(options: { dynsec?: boolean; env?: Record<string, string> } = {}): Promise<Stack> {
    const dataDir = tempDir('enroll-e2e-');
    const scratch = new Scratch();
    const control = options.dynsec
      ? { port: await freePort(), username: 'enroll-control', password: 'control-password-for-journeys' }
      : undefined;
    const pidFile = path.join(tempDir('enroll-e2e-broker-'), 'mosquitto.pid');
    const smtp = await TestSmtpServer.start();
    const port = await freePort();
    const mqttPort = await freePort();
    const log: string[] = [];
    const env = {
      ...process.env,
      PORT: String(port),
      DATA_DIR: dataDir,
      SMTP_URL: smtp.url,
      MQTT_HOST: '127.0.0.1',
      // The new CA's name constraints: the broker journey issues a server certificate for this name.
      CA_SERVER_NAMES: 'mqtt.example.org',
      MQTT_PORT: String(mqttPort),
      BROKER_RELOAD_COMMAND: `kill -HUP "$(cat ${pidFile})"`,
      LOG_LEVEL: 'info',
      ...(control && {
        BROKER_CONTROL_URL: `mqtt://${control.username}:${control.password}@127.0.0.1:${control.port}`,
      }),
      ...options.env,
    };
    const config = loadConfig(env);
    const made = await createCa(config.caCommonName, new Date(), TEST_CA_KEY_BITS, config.caServerNames);
    writeFileSync(dataFiles(dataDir).caKey, made.keyPem, { mode: 0o600 });
    writeFileSync(dataFiles(dataDir).caCert, made.certPem, { mode: 0o644 });
    const portal = spawn(process.execPath, [compiledFile('server/main.ts')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    portal.stdout.on('data', (chunk: Buffer) => log.push(...String(chunk).split('\n').filter(Boolean)));
    portal.stderr.on('data', (chunk: Buffer) => log.push(...String(chunk).split('\n').filter(Boolean)));
    try {
      await waitFor(
        () => log.some((line) => line.includes('is ready at')),
        60_000,
        () => `portal did not start:\n${log.join('\n')}`,
      );
    } catch (error) {
      // Not left running after a failed start: a stray portal kept a core busy for the rest of the run.
      portal.kill('SIGKILL');
      await smtp.close();
      throw error;
    }

    const ca = loadCa(
      readFileSync(path.join(dataDir, 'ca.crt'), 'utf8'),
      readFileSync(path.join(dataDir, 'ca.key'), 'utf8'),
      undefined,
      new Date(),
    );
    const broker = await Mosquitto.start(
      {
        caFile: path.join(dataDir, 'ca.crt'),
        crlFile: path.join(dataDir, 'crl.pem'),
        ...(await serverFiles(scratch, ca)),
      },
      {
        pidFile,
        port: mqttPort,
        ...(control && {
          acl: false,
          dynsec: { file: scratch.path('dynsec.json'), controlPort: control.port, admin: control },
        }),
      },
    );
    return new Stack(`http://127.0.0.1:${port}`, dataDir, smtp, broker, scratch, portal, log);
  }

  /** The one-time setup link the portal printed, as a path. */
  setupPath(): string {
    const line = this.log.find((entry) => entry.includes('/setup?token='));
    if (!line) throw new Error('no setup link in the log');
    const url = new URL(/(http:\/\/\S+\/setup\?token=[\w-]+)/.exec(line)![1]!);
    return url.pathname + url.search;
  }

  async stop() {
    const exited = new Promise((resolve) => this.portal.once('exit', resolve));
    this.portal.kill('SIGTERM');
    await exited;
    await this.broker.stop();
    await this.smtp.close();
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number, message: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
