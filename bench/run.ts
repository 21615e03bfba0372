// `npm run bench`: the portal's speed beside the OpenSSL routine it replaces, measured in one run.
// Prints a table (ours, baseline, ratio, target) and writes bench/results.json.
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildApp } from '../server/app.js';
import { openDataDir } from '../server/data-dir.js';
import { createServices } from '../server/services.js';
import { loadConfig } from '../server/config.js';
import { isCaKeyEncrypted, loadOrCreateCa } from '../server/enroll/ca-store.js';
import { buildCrlPem, type RevokedEntry } from '../server/pki/crl.js';
import { generateRsaKeyPair } from '../server/pki/keys.js';
import { issueClientCertificate } from '../server/pki/issue.js';
import { mintClientBundle } from '../server/pki/mint.js';
import { buildPkcs12 } from '../server/pki/pkcs12.js';
import { randomSerial } from '../server/pki/serial.js';
import { projectRoot } from '../server/paths.js';
import { tempDir } from '../server/testing/temp-dir.js';
import { signedInClient, waitUntilHealthy } from '../server/testing/http-client.js';
import { freePort } from '../server/testing/mosquitto.js';
import { seedCertificates } from '../server/testing/seed.js';
import {
  median,
  openssl,
  pkcs12Export,
  opensslRoutine,
  percentile,
  startLoad,
  startSmtpSink,
  times,
} from './measure.js';
import { revokeToDisconnected } from './revoke-kick.js';

interface Row {
  metric: string;
  ours: number;
  baseline?: number;
  unit: string;
  /** Target as a bound on ours (max) or on ours/baseline (maxRatio). */
  target?: { max?: number; maxRatio?: number; minRatio?: number };
}
const rows: Row[] = [];
const record = (row: Row) => {
  rows.push(row);
  console.error(
    `  ${row.metric}: ${row.ours.toFixed(1)} ${row.unit}${row.baseline !== undefined ? ` (baseline ${row.baseline.toFixed(1)})` : ''}`,
  );
};
const quick = process.argv.includes('--quick');
const RUNS = quick ? 5 : 15;

const ADMIN = { username: 'bench', password: 'a long bench password' };

/** `openssl ca -gencrl` over the same revoked entries. */
async function opensslCrl(dir: string, entries: RevokedEntry[]) {
  const stamp = (d: Date) => d.toISOString().slice(2, 19).replace(/[-:T]/g, '') + 'Z';
  const expiry = stamp(new Date(Date.now() + 365 * 86400_000));
  writeFileSync(
    path.join(dir, 'index.txt'),
    entries
      .map((e) => `R\t${expiry}\t${stamp(e.revokedAt)},keyCompromise\t${e.serial.toUpperCase()}\tunknown\t/CN=x\n`)
      .join(''),
  );
  writeFileSync(path.join(dir, 'crlnumber'), '01\n');
  writeFileSync(
    path.join(dir, 'ca.cnf'),
    `[ca]\ndefault_ca=d\n[d]\ndatabase=${dir}/index.txt\ncrlnumber=${dir}/crlnumber\ncertificate=${dir}/ca.crt\nprivate_key=${dir}/ca.key\ndefault_md=sha256\ndefault_crl_days=30\ncrl_extensions=e\n[e]\nauthorityKeyIdentifier=keyid:always\n`,
  );
  await openssl(['ca', '-config', 'ca.cnf', '-gencrl', '-out', 'crl.pem'], dir);
}

async function startPortal(dataDir: string, smtpUrl: string) {
  const config = loadConfig({
    DATA_DIR: dataDir,
    SMTP_URL: smtpUrl,
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: 'silent',
  });
  const db = openDataDir(config.dataDir);
  const { ca } = await loadOrCreateCa(dataDir, {
    commonName: 'Bench CA',
    serverNames: config.caServerNames,
    passphrase: undefined,
    now: new Date(),
  });
  const services = createServices(config, { db, ca, caKeyEncrypted: isCaKeyEncrypted(dataDir) });
  const app = await buildApp(config, services);
  await services.start(app.log);
  const port = await freePort();
  await app.listen({ port, host: '127.0.0.1' });
  return {
    app,
    db,
    ca,
    base: `http://127.0.0.1:${port}`,
    async close() {
      await app.close();
      await services.stop();
      db.close();
    },
  };
}

/**
 * A signed-in admin that issues certificates, failing loudly on anything but success. An issue is
 * timed as a client sees it: the POST and the page it redirects to (the passphrase screen), read
 * to its end; the POST alone left out a whole round trip and a page render.
 */
async function client(base: string) {
  const admin = await signedInClient(base, ADMIN);
  return {
    issue: async (username: string) => {
      const response = await admin.issue(username);
      if (response.status !== 303) throw new Error(`issue answered ${response.status}`);
      const page = await admin.get(response.headers.get('location')!);
      if (page.status !== 200) throw new Error(`issue result page answered ${page.status}`);
      await page.text();
    },
  };
}

/**
 * The runtime measured: Node's own crypto (its bundled or the system's OpenSSL) does the portal's
 * work, the openssl CLI the routine's; both change the numbers, so the table names them.
 */
const runtime = {
  node: process.version,
  v8: process.versions.v8,
  openssl: process.versions.openssl,
  opensslCli: execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim(),
};
const runtimeLabel = `Node ${runtime.node} (OpenSSL ${runtime.openssl}), baseline ${runtime.opensslCli.split(' ').slice(0, 2).join(' ')}`;

async function main() {
  console.error(
    `Benchmark on ${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${runtimeLabel}`,
  );
  const smtp = await startSmtpSink();
  const dataDir = tempDir('enroll-bench-');
  const portal = await startPortal(dataDir, smtp.url);
  const { ca } = portal;
  const scratch = tempDir('enroll-bench-openssl-');
  writeFileSync(path.join(scratch, 'ca.crt'), ca.certPem);
  writeFileSync(path.join(scratch, 'ca.key'), ca.key.export({ type: 'pkcs8', format: 'pem' }));

  console.error('Crypto, one operation at a time');
  const keys = await generateRsaKeyPair(2048);
  await openssl(['genrsa', '-out', 'k.pem', '2048'], scratch);
  await openssl(['req', '-new', '-key', 'k.pem', '-subj', '/CN=x', '-out', 'r.csr'], scratch);
  const cert = issueClientCertificate({
    ca,
    username: 'x',
    publicKeyPem: keys.publicKeyPem,
    days: 365,
    now: new Date(),
  });
  record({
    metric: 'RSA 2048 key generation',
    unit: 'ms',
    ours: median(await times(RUNS, () => generateRsaKeyPair(2048))),
    baseline: median(await times(RUNS, () => openssl(['genrsa', '-out', 'k2.pem', '2048'], scratch))),
  });
  record({
    metric: 'sign a client certificate',
    unit: 'ms',
    ours: median(
      await times(RUNS, () =>
        issueClientCertificate({ ca, username: 'x', publicKeyPem: keys.publicKeyPem, days: 365, now: new Date() }),
      ),
    ),
    baseline: median(
      await times(RUNS, () =>
        openssl(
          [
            'x509',
            '-req',
            '-in',
            'r.csr',
            '-CA',
            'ca.crt',
            '-CAkey',
            'ca.key',
            '-set_serial',
            '7',
            '-days',
            '365',
            '-sha256',
            '-out',
            'c2.pem',
          ],
          scratch,
        ),
      ),
    ),
  });
  record({
    metric: 'PKCS#12 bundle (3DES, SHA-1 MAC)',
    unit: 'ms',
    ours: median(
      await times(RUNS, () =>
        buildPkcs12({
          privateKeyPem: keys.privateKeyPem,
          certPem: cert.pem,
          caCertPem: ca.certPem,
          passphrase: 'bench-pass-1234',
          format: 'compatible',
          friendlyName: 'x',
        }),
      ),
    ),
    baseline: median(await times(RUNS, () => openssl(pkcs12Export('c2.pem', 'k.pem', 'x', 'b.p12'), scratch))),
  });
  const routine = await times(RUNS, (i) => opensslRoutine(scratch, i));
  const routineMedian = median(routine);
  record({
    metric: 'whole client issue, crypto only',
    unit: 'ms',
    ours: median(
      await times(RUNS, () =>
        mintClientBundle(ca, {
          username: 'x',
          device: null,
          days: 365,
          keyBits: 2048,
          format: 'compatible',
          passphrase: 'bench-pass-1234',
          now: new Date(),
        }),
      ),
    ),
    baseline: routineMedian,
  });

  console.error('Issue over HTTP, mail accepted by a local SMTP server included');
  const http = await client(portal.base);
  await new Promise((resolve) => setTimeout(resolve, 3000)); // the key pool fills after start
  // An admin fills one form at a time: give the key pool the moments between forms it has in real use.
  const paced: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await new Promise((resolve) => setTimeout(resolve, 400));
    paced.push(...(await times(1, () => http.issue(`paced${i}`))));
  }
  const latency = await times(RUNS, (i) => http.issue(`latency${i}`));
  record({
    metric: 'issue latency, POST + result page, mail included, paced (median)',
    unit: 'ms',
    ours: median(paced),
    baseline: routineMedian,
    target: { maxRatio: 0.25 },
  });
  record({
    metric: 'issue latency, POST + result page, mail included, back to back (median)',
    unit: 'ms',
    ours: median(latency),
    baseline: routineMedian,
  });

  // Several bursts, each from a fresh client process; the rows report the worst of them.
  const bursts = quick ? 1 : 3;
  console.error(`Responsiveness while 16 issues run at once, ${bursts} bursts (load from another process)`);
  const health: number[] = [];
  let loopMax = 0;
  for (let round = 0; round < bursts; round++) {
    const burst = await startLoad<{ health: number[]; statuses: number[] }>('burst.ts', [
      portal.base,
      '16',
      ADMIN.username,
      ADMIN.password,
    ]);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // let the key pool refill, as between bursts
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const result = await burst.go();
    loop.disable();
    if (result.statuses.some((status) => status !== 303))
      throw new Error(`burst issues answered ${result.statuses.join(', ')}`);
    health.push(...result.health);
    loopMax = Math.max(loopMax, loop.max / 1e6);
  }
  record({
    metric: `GET /healthz p99 during 16 concurrent issues (${bursts} bursts)`,
    unit: 'ms',
    ours: percentile(health, 99),
    target: { max: 50 },
  });
  record({
    metric: `event loop delay, max, during the bursts (worst of ${bursts})`,
    unit: 'ms',
    ours: loopMax,
    target: { max: 20 },
  });

  console.error('Throughput');
  const throughputRuns = quick ? 50 : 1000;
  const started = performance.now();
  for (let i = 0; i < throughputRuns; i++) await http.issue(`bulk${i}`);
  const ourRate = throughputRuns / ((performance.now() - started) / 1000);
  const opensslRuns = quick ? 6 : 20;
  const opensslStart = performance.now();
  await Promise.all(
    [0, 1].map((lane) =>
      (async () => {
        for (let i = lane; i < opensslRuns; i += 2) await opensslRoutine(scratch, 1000 + i);
      })(),
    ),
  );
  const opensslRate = opensslRuns / ((performance.now() - opensslStart) / 1000);
  record({
    metric: `issues per second, ${throughputRuns} back to back over HTTP`,
    unit: '/s',
    ours: ourRate,
    baseline: opensslRate,
    target: { minRatio: 1 },
  });
  await portal.close();

  console.error('Scale: 100,000 certificates, 10% revoked');
  const bigDir = tempDir('enroll-bench-100k-');
  {
    const config = loadConfig({ DATA_DIR: bigDir });
    const db = openDataDir(config.dataDir);
    writeFileSync(path.join(bigDir, 'ca.crt'), ca.certPem);
    writeFileSync(path.join(bigDir, 'ca.key'), ca.key.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
    seedCertificates(db, { count: quick ? 20_000 : 100_000, now: new Date(), revoked: 0.1 });
    db.close();
  }
  const big = await startPortal(bigDir, smtp.url);
  const inject = async (url: string, cookie: string) =>
    (await big.app.inject({ method: 'GET', url, headers: { cookie } })).statusCode;
  const login = await big.app.inject({ method: 'GET', url: '/login' });
  const anonCookie = login.cookies[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(login.body)![1]!;
  const signedIn = await big.app.inject({
    method: 'POST',
    url: '/login',
    headers: { cookie: `${anonCookie.name}=${anonCookie.value}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: csrf, ...ADMIN }).toString(),
  });
  const session = signedIn.cookies.find((c) => c.name === 'enroll_session')!;
  const cookie = `${session.name}=${session.value}`;
  for (const [metric, url] of [
    ['list, first page', '/certificates'],
    ['list, search', '/certificates?q=user0042'],
    // Issue 15's examples: a part of every address, and a device half the rows have.
    ['list, search "example.org" (every row)', '/certificates?q=example.org'],
    ['list, search "phone" (half the rows)', '/certificates?q=phone'],
    ['list, status filter (revoked)', '/certificates?status=revoked'],
    ['list, expiring within 30 days by expiry', '/certificates?expiring=30&sort=expiry'],
  ] as const) {
    if ((await inject(url, cookie)) !== 200) throw new Error(`${url} failed`);
    record({
      metric: `${metric} (p50)`,
      unit: 'ms',
      ours: median(await times(RUNS, () => inject(url, cookie))),
      target: { max: 20 },
    });
  }
  await big.close();

  for (const size of quick ? [1000, 10_000] : [1000, 10_000, 100_000]) {
    const entries = Array.from({ length: size }, () => ({
      serial: randomSerial(),
      revokedAt: new Date(),
      reason: 'keyCompromise' as const,
    }));
    const crlRuns = size >= 100_000 ? 3 : 5;
    const ours = median(
      await times(crlRuns, () =>
        buildCrlPem({
          ca,
          entries,
          crlNumber: 2n,
          thisUpdate: new Date(),
          nextUpdate: new Date(Date.now() + 30 * 86400_000),
        }),
      ),
    );
    const baseline = median(await times(crlRuns, () => opensslCrl(scratch, entries)));
    record({
      metric: `CRL with ${size.toLocaleString('en')} entries, built and signed`,
      unit: 'ms',
      ours,
      baseline,
      target: size >= 10_000 ? { max: 1000, maxRatio: 1 } : undefined,
    });
  }

  console.error('Start to healthy on the large database');
  execFileSync('npm', ['run', 'build'], { cwd: projectRoot, stdio: 'ignore' });
  const port = await freePort();
  const startedAt = performance.now();
  const child = spawn(process.execPath, ['dist/server/main.js'], {
    cwd: projectRoot,
    env: { ...process.env, DATA_DIR: bigDir, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  await waitUntilHealthy(`http://127.0.0.1:${port}`);
  const healthyAfter = performance.now() - startedAt;
  await fetch(`http://127.0.0.1:${port}/crl.pem`);
  const peakRss = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
  child.kill('SIGTERM');
  record({ metric: 'start to healthy, 100,000 certificates', unit: 'ms', ours: healthyAfter, target: { max: 1000 } });
  record({ metric: 'resident memory, peak, after start', unit: 'MB', ours: peakRss, target: { max: 200 } });
  await smtp.close();

  console.error('Revoke to disconnected, with the broker link (real Mosquitto with dynsec)');
  const kicks = await revokeToDisconnected(quick ? 5 : 20);
  record({ metric: `revoke to disconnected, p50 of ${kicks.samples.length}`, unit: 'ms', ours: kicks.p50 });
  record({
    metric: `revoke to disconnected, max of ${kicks.samples.length}`,
    unit: 'ms',
    ours: kicks.max,
    target: { max: 5000 },
  });

  const results = rows.map((row) => {
    const ratio = row.baseline ? row.ours / row.baseline : undefined;
    const t = row.target;
    const met = t
      ? (t.max === undefined || row.ours <= t.max) &&
        (t.maxRatio === undefined || ratio! <= t.maxRatio) &&
        (t.minRatio === undefined || ratio! >= t.minRatio)
      : undefined;
    const target = t
      ? [
          t.max !== undefined ? `≤ ${t.max} ${row.unit}` : '',
          t.maxRatio !== undefined ? `≤ ${t.maxRatio}×` : '',
          t.minRatio !== undefined ? `≥ ${t.minRatio}×` : '',
        ]
          .filter(Boolean)
          .join(', ')
      : '';
    return { ...row, ratio, targetText: target, met };
  });
  const fmt = (n: number | undefined, unit = '') =>
    n === undefined ? '' : `${n >= 100 ? n.toFixed(0) : n.toFixed(n >= 10 ? 1 : 2)}${unit}`;
  const lines = [
    '| measure | ours | OpenSSL routine | ratio | target | met |',
    '|---|---:|---:|---:|---|---|',
    ...results.map(
      (r) =>
        `| ${r.metric} | ${fmt(r.ours, ` ${r.unit}`)} | ${fmt(r.baseline, r.baseline === undefined ? '' : ` ${r.unit}`)} | ${fmt(r.ratio, r.ratio === undefined ? '' : '×')} | ${r.targetText} | ${r.met === undefined ? '' : r.met ? 'yes' : '**no**'} |`,
    ),
  ];
  const machine = `${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${runtimeLabel}, ${new Date().toISOString().slice(0, 10)}${quick ? ' (--quick)' : ''}`;
  console.log(`\n${machine}\n\n${lines.join('\n')}`);
  writeFileSync(
    path.join(projectRoot, 'bench', 'results.json'),
    `${JSON.stringify({ machine, runtime, results }, null, 2)}\n`,
  );
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
