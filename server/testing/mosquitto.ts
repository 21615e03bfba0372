// A real Mosquitto broker on a free loopback port, configured the way the portal tells admins to:
// TLS with require_certificate, use_identity_as_username, a crlfile and the OwnTracks ACL pattern.
// With `dynsec`, the dynamic-security plugin and a plain control listener on loopback as well (the
// broker link's setup); `acl: false` leaves the acl_file out (access then comes from dynsec only).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './temp-dir.js';

const execFileAsync = promisify(execFile);

/** Whether a server could listen on the loopback port now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first port of the kernel's range for ephemeral ports (Linux's default range starts at 32768). */
function ephemeralPortsFrom(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768; // not Linux
  }
}

const handedOut = new Set<number>();

/**
 * A loopback port nothing listens on, for a server a test is about to start. Taken below the range
 * the kernel hands out ephemeral ports from: a port the kernel picks (listen on port 0) comes from
 * that range, and in the moment between this check and the server's own listen, an outgoing
 * connection of any test on the machine (phones reconnecting every 100 ms, HTTP clients) could take
 * it as its local port. A fresh-clone CI run failed on that: EADDRINUSE for a journey's portal.
 * Below the range only another test's server can take it, and each test process draws its own.
 */
export async function freePort(): Promise<number> {
  const first = 10_000;
  const end = Math.max(first + 1_000, ephemeralPortsFrom());
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = first + Math.floor(Math.random() * (end - first));
    // Never the same port twice in one process: a test draws its ports before its servers listen.
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free loopback port between ${first} and ${end} after 100 tries`);
}

/**
 * Resolves once a connection to the loopback `port` succeeds (polled every 50 ms, 20 s at most: a
 * start takes milliseconds, but every broker of every tier starts through here, under CI load);
 * fails if `server` exits first. Mosquitto logs "Opening ipv4 listen socket" before it listens,
 * so a client started on that line could be refused.
 */
export async function untilListening(port: number, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`mosquitto exited: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`mosquitto did not listen on ${port}: ${log()}`);
}

export interface BrokerFiles {
  caFile: string;
  crlFile: string;
  serverCert: string;
  serverKey: string;
}

/** The dynamic-security plugin: its JSON file (made with `mosquitto_ctrl dynsec init` when missing). */
export interface DynsecOptions {
  file: string;
  controlPort: number;
  /** The control account `mosquitto_ctrl dynsec init` creates with a missing file. */
  admin?: { username: string; password: string };
  /** The control listener speaks TLS with the server certificate (mqtts://), passwords still. */
  tls?: boolean;
}

export const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

export interface MosquittoOptions {
  pidFile?: string;
  port?: number;
  dynsec?: DynsecOptions;
  /** The acl_file with `pattern readwrite owntracks/%u/#` (default true). */
  acl?: boolean;
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

  /** The configuration file; `writeConfig` rewrites it (then `reload()` applies what SIGHUP re-reads). */
  conf = '';
  options: MosquittoOptions = {};

  static async start(files: BrokerFiles, options: MosquittoOptions = {}): Promise<Mosquitto> {
    const dir = tempDir('enroll-mosquitto-');
    const port = options.port ?? (await freePort());
    const conf = path.join(dir, 'mosquitto.conf');
    if (options.dynsec && !existsSync(options.dynsec.file)) {
      const admin = options.dynsec.admin ?? { username: 'enroll-control', password: 'control-password' };
      await execFileAsync('mosquitto_ctrl', ['dynsec', 'init', options.dynsec.file, admin.username, admin.password]);
    }
    Mosquitto.writeConfig(conf, dir, port, files, options);
    const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    const log: string[] = [];
    child.stderr.on('data', (chunk: Buffer) => log.push(String(chunk)));
    const broker = new Mosquitto(port, child, files, log);
    broker.conf = conf;
    broker.options = options;
    await broker.waitUntilListening();
    return broker;
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
    broker.conf = confFile;
    await broker.waitUntilListening();
    return broker;
  }

  /** Rewrites this broker's configuration (e.g. without the acl_file); `reload()` makes it re-read it. */
  rewriteConfig(options: MosquittoOptions) {
    this.options = options;
    Mosquitto.writeConfig(this.conf, path.dirname(this.conf), this.port, this.files, options);
  }

  private static writeConfig(conf: string, dir: string, port: number, files: BrokerFiles, options: MosquittoOptions) {
    const acl = path.join(dir, 'acl');
    writeFileSync(acl, 'pattern readwrite owntracks/%u/#\n');
    const dynsec = options.dynsec;
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
        ...(dynsec
          ? [
              // One set of security settings for every listener: the plugin's, plus the listeners' own TLS.
              'per_listener_settings false',
              'allow_anonymous false',
              `plugin ${DYNSEC_PLUGIN}`,
              `plugin_opt_config_file ${dynsec.file}`,
            ]
          : []),
        `listener ${port} 127.0.0.1`,
        `cafile ${files.caFile}`,
        `certfile ${files.serverCert}`,
        `keyfile ${files.serverKey}`,
        `crlfile ${files.crlFile}`,
        'require_certificate true',
        'use_identity_as_username true',
        ...(options.acl === false ? [] : [`acl_file ${acl}`]),
        // The control listener: passwords (the dynsec control account), loopback only.
        ...(dynsec ? [`listener ${dynsec.controlPort} 127.0.0.1`] : []),
        ...(dynsec?.tls ? [`certfile ${files.serverCert}`, `keyfile ${files.serverKey}`] : []),
        '',
      ].join('\n'),
    );
  }

  private async waitUntilListening() {
    for (const port of [this.port, ...(this.options.dynsec ? [this.options.dynsec.controlPort] : [])])
      await untilListening(port, this.process, () => this.log.join(''));
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
