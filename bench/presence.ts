// `npm run bench:presence`: the portal stays responsive while its presence recorder hears a busy
// broker. The portal runs as production runs it, in its own process (server/main.ts compiled, with
// Node's options of `npm start`), linked to a real Mosquitto with the dynamic-security plugin
// (BROKER_CONTROL_URL), and nothing of the bench runs in its process but bench/loop-probe.ts, which
// measures its event loop's longest stall and its collector's pauses between the bench's "start"
// and "stop". The certificates (1,000 devices per run) and the CA are made before it starts. The
// load comes from another process (this file with `load`, at nice 19) over plain TCP: 20 publishers
// spread over a run's 1,000 device topics, 2,000 location messages a second, while the same process
// polls GET /healthz. A first run at the same load warms the portal up (its message path compiled, its
// heap past the first full collection) and is reported apart, against the same budget; then a
// control with no load, then three runs, the worst of each measure reported against its budget
// (stall ≤ 20 ms, /healthz p99 ≤ 50 ms). Every run, the warm-up included, publishes for 1,000
// devices of its own, all new to the recorder: each measured run still has the first-seen work (a
// lookup per new topic, the first write of 1,000 devices at the next sweep).
// `-- --quick`: one short run after the warm-up. BENCH_PORTAL_NODE_ARGS replaces Node's options of
// `npm start` and BENCH_LOAD_NICE the load's priority, to compare.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { buildSync } from 'esbuild';
import mqtt from 'mqtt';
import { SWEEP_EVERY_MS } from '../server/broker/presence.js';
import { loadConfig } from '../server/config.js';
import { openDataDir } from '../server/data-dir.js';
import { loadOrCreateCa } from '../server/enroll/ca-store.js';
import { projectRoot } from '../server/paths.js';
import { CONTROL, until } from '../server/testing/broker-link.js';
import { freePort, Mosquitto } from '../server/testing/mosquitto.js';
import { Scratch } from '../server/testing/openssl.js';
import { serverFiles } from '../server/testing/pki.js';
import { seedCertificates } from '../server/testing/seed.js';
import { tempDir } from '../server/testing/temp-dir.js';
import type { LoopReport } from './loop-probe.js';
import {
  percentile,
  pollHealth,
  portalArgs,
  productionNodeArgs,
  readyForGo,
  reportAndExit,
  startLoad,
} from './measure.js';

const execFileAsync = promisify(execFile);
/** The publishers' broker account (dynsec), allowed to publish on owntracks/#. */
const LOAD = { username: 'bench-load', password: 'bench-load-password' };
/**
 * The load process runs at the lowest priority: in production the phones publish from elsewhere, and
 * on these two cores its own work (30,000 payloads a run) would otherwise take the CPU the portal
 * and the broker need. Its /healthz timings include its own waits, so they can only be worse.
 */
const LOAD_NICE = Number(process.env.BENCH_LOAD_NICE ?? 19);
const DEVICES = 1000;
const PUBLISHERS = 20;
const RATE = 2000;

/**
 * The topic of seeded certificate `i` (server/testing/seed.ts: user000000…, odd ones "phone"); run r
 * publishes for devices r × DEVICES … r × DEVICES + 999.
 */
const topicOf = (i: number) => `owntracks/user${String(i).padStart(6, '0')}/${i % 2 ? 'phone' : 'tablet'}`;

async function load(mqttPort: number, base: string, seconds: number, block: number) {
  const clients = await Promise.all(
    Array.from({ length: PUBLISHERS }, async (_, i) => {
      const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, {
        clientId: `load-${i}`,
        reconnectPeriod: 0,
        ...LOAD,
      });
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      return client;
    }),
  );
  await readyForGo();
  const health = pollHealth(base, 10);
  const started = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (performance.now() - started) / 1000;
      const due = Math.min(Math.floor(elapsed * RATE), seconds * RATE);
      for (; sent < due; sent++) {
        const tst = Math.floor(Date.now() / 1000);
        const payload = `{"_type":"location","acc":12,"alt":4,"batt":81,"bs":1,"conn":"m","created_at":${tst},"lat":52.3${sent % 1000},"lon":4.8${sent % 997},"m":1,"tid":"ab","tst":${tst},"vac":3,"vel":0}`;
        clients[sent % PUBLISHERS]!.publish(topicOf(block * DEVICES + ((sent * 7919) % DEVICES)), payload, {
          qos: 0,
          retain: true,
        });
      }
      if (sent >= seconds * RATE) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  const sendSeconds = (performance.now() - started) / 1000;
  const timings = await health.stop();
  await Promise.all(clients.map((client) => client.endAsync()));
  reportAndExit({ health: timings, sent, sendSeconds });
}

/** Runs mosquitto_ctrl against the broker's control listener as the portal's control account. */
async function ctrl(controlPort: number, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('mosquitto_ctrl', [
    '-h',
    '127.0.0.1',
    '-p',
    String(controlPort),
    '-u',
    CONTROL.username,
    '-P',
    CONTROL.password,
    'dynsec',
    ...args,
  ]);
  return stdout;
}

/**
 * The portal as production runs it (`npm start`: compiled JavaScript, Node's options of
 * productionNodeArgs), with bench/loop-probe.ts, compiled too, preloaded.
 */
function startPortal(env: Record<string, string>) {
  const probe = path.join(tempDir('enroll-bench-probe-'), 'loop-probe.mjs');
  buildSync({
    entryPoints: [path.join(projectRoot, 'bench/loop-probe.ts')],
    outfile: probe,
    format: 'esm',
    platform: 'node',
    logLevel: 'error',
  });
  const child = spawn(process.execPath, ['--import', pathToFileURL(probe).href, ...portalArgs()], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += String(chunk)));
  child.stderr!.on('data', (chunk: Buffer) => (output += String(chunk)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    output: () => output,
    exited,
    /** Starts the probe's measure; the returned function stops it and resolves with its report. */
    measure(): () => Promise<LoopReport> {
      child.send('start');
      return () =>
        new Promise<LoopReport>((resolve) => {
          child.once('message', (report) => resolve(report as LoopReport));
          child.send('stop');
        });
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function main() {
  const quick = process.argv.includes('--quick');
  const runs = quick ? 1 : 3;
  const seconds = quick ? 5 : 15;

  // Everything the portal will find is made before it starts, in this process: the certificates
  // (a block of 1,000 devices for each run, the warm-up's included) and the CA.
  const dataDir = tempDir('enroll-bench-presence-');
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const seeding = openDataDir(config.dataDir);
  // Issued two years ago, all expired since: the recorder reads every certificate alike, ended or
  // not, while the link's reconcile at start has no dynsec client to make (for 4,000 people with
  // access it takes minutes: Mosquitto saves its whole dynsec file after each command) and the CRL
  // stays empty.
  seedCertificates(seeding, { count: DEVICES * (runs + 1), now: new Date(Date.now() - 2 * 365 * 86400_000) });
  seeding.close();
  const { ca } = await loadOrCreateCa(dataDir, {
    commonName: 'Bench CA',
    serverNames: config.caServerNames,
    passphrase: undefined,
    now: new Date(),
  });

  const controlPort = await freePort();
  const tlsPort = await freePort();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const portal = startPortal({
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    MQTT_HOST: 'localhost',
    MQTT_PORT: String(tlsPort),
    BROKER_CONTROL_URL: `mqtt://${CONTROL.username}:${CONTROL.password}@127.0.0.1:${controlPort}`,
  });
  const db = new Database(path.join(dataDir, 'enroll.db'), { readonly: true, fileMustExist: true });
  let broker: Mosquitto | undefined;
  try {
    // The broker reads the CRL the portal writes at its start.
    await until(() => existsSync(path.join(dataDir, 'crl.pem')), 60_000, "the portal's CRL").catch((error: unknown) => {
      throw new Error(`${String(error)}; the portal: ${portal.output()}`);
    });
    const scratch = new Scratch();
    const server = await serverFiles(scratch, ca);
    broker = await Mosquitto.start(
      {
        caFile: path.join(dataDir, 'ca.crt'),
        crlFile: path.join(dataDir, 'crl.pem'),
        serverCert: server.serverCert,
        serverKey: server.serverKey,
      },
      {
        port: tlsPort,
        acl: false,
        dynsec: { file: path.join(scratch.dir, 'dynsec.json'), controlPort, admin: CONTROL },
      },
    );
    // The publishers' account: it may publish on owntracks/#, on the control listener (plain TCP).
    await ctrl(controlPort, ['createClient', LOAD.username, '-p', LOAD.password]);
    await ctrl(controlPort, ['createRole', LOAD.username]);
    await ctrl(controlPort, ['addRoleACL', LOAD.username, 'publishClientSend', 'owntracks/#', 'allow', '5']);
    await ctrl(controlPort, ['addClientRole', LOAD.username, LOAD.username, '5']);

    // The link connects, reconciles (nothing to make: every seeded certificate has ended) and
    // subscribes to the OwnTracks topics; the runs start a few seconds later.
    const health = async () =>
      (await fetch(`${base}/healthz`).then((r) => r.json())) as { brokerLink?: { status?: string } };
    let seen: unknown;
    await until(
      async () => (seen = await health()).brokerLink?.status === 'connected',
      120_000,
      'the broker link',
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}: /healthz ${JSON.stringify(seen)}; the portal: ${portal.output()}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const run = async (block: number) => {
      const load = await startLoad<{ health: number[]; sent: number; sendSeconds: number }>(
        'presence.ts',
        ['load', String(controlPort), base, String(seconds), String(block)],
        { nice: LOAD_NICE },
      );
      const stop = portal.measure();
      const result = await load.go();
      const report = await stop();
      return { ...report, healthP99Ms: percentile(result.health, 99), rate: result.sent / result.sendSeconds };
    };
    const round = (report: object) =>
      JSON.stringify(report, (_key, value: unknown) => (typeof value === 'number' ? Number(value.toFixed(1)) : value));
    const warmUp = await run(0);
    console.error(`  warm-up run: ${round(warmUp)}`);

    // Control: the portal with no load, as long as one run: what the machine alone costs. It starts
    // after the recorder's next sweep, so that the warm-up's first writes are not in it.
    await new Promise((resolve) => setTimeout(resolve, SWEEP_EVERY_MS + 1_000));
    const stopQuiet = portal.measure();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const quiet = await stopQuiet();
    console.error(`  control, no load: ${round(quiet)}`);

    const results: Array<Awaited<ReturnType<typeof run>>> = [];
    for (let i = 0; i < runs; i++) {
      results.push(await run(i + 1));
      console.error(`  run ${i + 1}: ${round(results.at(-1)!)}`);
    }
    await portal.stop(); // it writes the times it still holds
    const rows = Number(db.prepare('SELECT count(*) FROM device_presence').pluck().get());

    const worst = (key: 'loopMaxMs' | 'healthP99Ms' | 'youngGcMaxMs') => Math.max(...results.map((r) => r[key]));
    const slowest = Math.min(...results.map((r) => r.rate));
    const published = DEVICES * (runs + 1); // each run's 1,000, the warm-up's included
    const yes = (met: boolean) => (met ? 'yes' : 'no');
    console.log(
      `presence recorder under load: the portal in its own process (server/main.ts, compiled; Node's options: ${productionNodeArgs().join(' ')}; its broker link to Mosquitto with dynsec), ${DEVICES} new devices a run, ${PUBLISHERS} publishers in another process, worst of ${runs} runs after a warm-up`,
    );
    console.log(`| measure | ours | target | met |`);
    console.log(`|---|--:|---|---|`);
    // The other rows count only if the load kept its rate: a niced generator that fell behind would
    // make the portal's numbers look better than the target's load.
    console.log(
      `| messages/s offered (slowest run) | ${slowest.toFixed(0)} /s | ≥ ${0.95 * RATE} /s (${RATE} /s) | ${yes(slowest >= 0.95 * RATE)} |`,
    );
    console.log(
      `| devices recorded (rows) | ${rows} | = ${published} devices published to | ${yes(rows === published)} |`,
    );
    console.log(
      `| event loop delay, max | ${worst('loopMaxMs').toFixed(1)} ms | ≤ 20 ms | ${yes(worst('loopMaxMs') <= 20)} |`,
    );
    console.log(`| longest young collection (in the runs) | ${worst('youngGcMaxMs').toFixed(1)} ms | | |`);
    console.log(`| event loop delay, max, no load (control, same length) | ${quiet.loopMaxMs.toFixed(1)} ms | | |`);
    console.log(
      `| event loop delay, max, warm-up (the first run after start, not in the worst of ${runs}) | ${warmUp.loopMaxMs.toFixed(1)} ms | ≤ 20 ms | ${yes(warmUp.loopMaxMs <= 20)} |`,
    );
    console.log(
      `| GET /healthz p99 | ${worst('healthP99Ms').toFixed(1)} ms | ≤ 50 ms | ${yes(worst('healthP99Ms') <= 50)} |`,
    );
  } finally {
    await portal.stop();
    db.close();
    await broker?.stop();
  }
}

if (process.argv[2] === 'load')
  await load(Number(process.argv[3]), process.argv[4]!, Number(process.argv[5]), Number(process.argv[6]));
else await main();
