// A real Mosquitto broker on a free loopback port, configured the way the portal tells admins to:
// TLS with require_certificate, use_identity_as_username, a crlfile and the OwnTracks ACL pattern.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './temp-dir.js';

const execFileAsync = promisify(execFile);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface BrokerFiles {
  caFile: string;
  crlFile: string;
  serverCert: string;
  serverKey: string;
}

export interface ClientIdentity {
  certFile: string;
  keyFile: string;
}

export class Mosquitto {
  private constructor(
    readonly port: number,
    readonly process: ChildProcess,
    readonly files: BrokerFiles,
    private readonly log: string[],
  ) {}

  static async start(files: BrokerFiles, options: { pidFile?: string; port?: number } = {}): Promise<Mosquitto> {
    const dir = tempDir('enroll-mosquitto-');
    const port = options.port ?? (await freePort());
    const acl = path.join(dir, 'acl');
    writeFileSync(acl, 'pattern readwrite owntracks/%u/#\n');
    const conf = path.join(dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [
        'user root', // a broker started as root drops to "mosquitto" before reading files; tests keep root
        'persistence false',
        ...(options.pidFile ? [`pid_file ${options.pidFile}`] : []),
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        'log_type notice',
        `listener ${port} 127.0.0.1`,
        `cafile ${files.caFile}`,
        `certfile ${files.serverCert}`,
        `keyfile ${files.serverKey}`,
        `crlfile ${files.crlFile}`,
        'require_certificate true',
        'use_identity_as_username true',
        `acl_file ${acl}`,
        '',
      ].join('\n'),
    );
    return Mosquitto.run(conf, port, files);
  }

  /**
   * Starts Mosquitto on a configuration written elsewhere (e.g. the text the Broker page offers),
   * listening on `port`; `files` are what clients need to reach it (caFile) and what it reads.
   */
  static async run(confFile: string, port: number, files: BrokerFiles): Promise<Mosquitto> {
    const child = spawn('mosquitto', ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    const log: string[] = [];
    child.stderr.on('data', (chunk: Buffer) => log.push(String(chunk)));
    const broker = new Mosquitto(port, child, files, log);
    await broker.waitUntilListening();
    return broker;
  }

  private async waitUntilListening() {
    const { connect } = await import('node:net');
    for (let attempt = 0; attempt < 100; attempt++) {
      if (this.process.exitCode !== null) throw new Error(`mosquitto exited: ${this.log.join('')}`);
      const open = await new Promise<boolean>((resolve) => {
        const socket = connect(this.port, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
      if (open) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`mosquitto did not listen: ${this.log.join('')}`);
  }

  /** Asks the broker to re-read its crlfile, as BROKER_RELOAD_COMMAND does in production. */
  reload() {
    this.process.kill('SIGHUP');
  }

  get pid(): number {
    return this.process.pid!;
  }

  get output(): string {
    return this.log.join('');
  }

  private tlsArgs(client: ClientIdentity) {
    return [
      '-h',
      '127.0.0.1',
      '-p',
      String(this.port),
      '--cafile',
      this.files.caFile,
      '--cert',
      client.certFile,
      '--key',
      client.keyFile,
    ];
  }

  /** Publishes one message; resolves true when the broker accepted the connection and the message. */
  async publish(client: ClientIdentity, topic: string, message: string): Promise<boolean> {
    try {
      await execFileAsync('mosquitto_pub', [...this.tlsArgs(client), '-t', topic, '-m', message, '-q', '1'], {
        timeout: 10_000,
      });
      return true;
    } catch {
      return false;
    }
  }

  /** Subscribes and resolves with the first message received within `seconds`, or undefined. */
  subscribeOnce(
    client: ClientIdentity,
    topic: string,
    seconds: number,
  ): { ready: Promise<void>; message: Promise<string | undefined> } {
    // stdbuf: mosquitto_sub block-buffers a piped stdout, which would hide its SUBACK until it exits.
    const child = spawn(
      'stdbuf',
      ['-oL', 'mosquitto_sub', ...this.tlsArgs(client), '-t', topic, '-C', '1', '-W', String(seconds), '-q', '1', '-d'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let debug = '';
    let onReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => (onReady = resolve));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += String(chunk);
      debug += String(chunk);
      if (debug.includes('SUBACK')) onReady();
    });
    child.stderr.on('data', () => {});
    const message = new Promise<string | undefined>((resolve) =>
      child.on('close', () => {
        onReady();
        const lines = stdout.split('\n').filter((line) => line && !/^(Client |Subscribed )/.test(line));
        resolve(lines.at(-1));
      }),
    );
    return { ready, message };
  }

  async stop() {
    if (this.process.exitCode !== null) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.kill('SIGTERM');
    await exited;
  }
}
