// The image's start command and health check, and the Compose stack's own services, run outside
// Docker (no engine runs here): a build, then each service's command as a process of its own, with
// the Compose file's environment and each volume a folder of its own.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { projectRoot } from './paths.js';
import { tempDir } from './testing/temp-dir.js';
import { DYNSEC_PLUGIN, freePort } from './testing/mosquitto.js';
import { openssl } from './testing/openssl.js';

const run = promisify(execFile);
const dockerfile = readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');

function jsonInstruction(name: string): string[] {
  const line = dockerfile.split('\n').find((l) => l.startsWith(`${name} [`));
  assert.ok(line, `Dockerfile has a JSON-form ${name}`);
  return JSON.parse(line.slice(line.indexOf('['))) as string[];
}

before(async () => {
  await run('npm', ['run', 'build'], { cwd: projectRoot });
});

/** Resolves once `output` of the child says `ready`; fails when it exits first or takes a minute. */
function waitFor(child: ChildProcess, ready: string): Promise<() => string> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${ready}" within 60 s: ${output}`)), 60_000);
    const read = (chunk: Buffer) => {
      output += String(chunk);
      if (output.includes(ready)) {
        clearTimeout(timer);
        resolve(() => output);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`exited with ${code}: ${output}`))));
  });
}

describe('the image', () => {
  test('the image runs the portal as `npm start` does, with a young generation small enough to keep collections short', () => {
    const start = (
      JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: { start: string } }
    ).scripts.start;
    assert.deepEqual(jsonInstruction('CMD'), start.split(' '));
    // Measured by `npm run bench:presence`: V8's default young generation (up to 16 MB a half) made
    // collections of 10-72 ms under 2,000 messages a second; 2 MB keeps them under about 7 ms.
    assert.ok(start.split(' ').includes('--max-semi-space-size=2'), start);
  });

  test("the image's start command serves /healthz from a fresh data folder, and its health check passes", async () => {
    const command = jsonInstruction('CMD');
    const port = await freePort();
    const env = { ...process.env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), DATA_DIR: tempDir() };
    const child = spawn(command[0]!, command.slice(1), { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const ready = waitFor(child, 'is ready at');
    try {
      await ready;
      const check = /HEALTHCHECK[\s\S]*?CMD (\[.*\])/.exec(dockerfile)![1]!;
      const [node, ...args] = JSON.parse(check) as string[];
      await run(node === 'node' ? process.execPath : node!, args, { env });
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, 'stops cleanly on SIGTERM');
    }
  });
});

interface Service {
  environment?: Record<string, string | number>;
  command?: string[];
  ports?: string[];
  volumes?: string[];
}
const compose = parse(readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

/** `${NAME:-default}` as Compose substitutes it with nothing set in the environment. */
const substitute = (value: string) => value.replace(/\$\{(\w+):-([^}]*)\}/g, (_m, _name, fallback: string) => fallback);

describe('the Compose services, run natively', () => {
  // Each named volume is a folder; a container path in a command or a variable becomes that folder.
  const volumes = Object.fromEntries(Object.keys(compose.volumes).map((name) => [name, tempDir(`compose-${name}-`)]));
  /** Pid 1 of the shared PID namespace (Mosquitto there): a stand-in that reports each SIGHUP. */
  let pidOne: ChildProcess;
  let hups = 0;
  let hupSeen: () => void;
  const hupArrived = new Promise<void>((resolve) => (hupSeen = resolve));
  before(() => {
    pidOne = spawn(
      process.execPath,
      ['-e', "process.on('SIGHUP', () => console.log('hup')); setInterval(() => {}, 1e6)"],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    pidOne.stdout!.on('data', () => (hups++, hupSeen()));
  });

  function native(name: string, overrides: { port?: number } = {}) {
    const service = compose.services[name]!;
    const mounts = (service.volumes ?? [])
      .map((v) => v.split(':'))
      .filter(([source]) => source! in volumes)
      .map(([source, target]) => [target!, volumes[source!]!] as const)
      .sort((a, b) => b[0].length - a[0].length);
    const translate = (value: string) => {
      let out = substitute(value);
      for (const [target, dir] of mounts)
        out = out
          .split(`${target}/`)
          .join(`${dir}/`)
          .replace(new RegExp(`${target}(?=$|\\s|")`, 'g'), dir);
      if (overrides.port) out = out.replace(/^3000$/, String(overrides.port));
      return out.replace(/^kill -HUP 1$/, `kill -HUP ${pidOne.pid}`);
    };
    const env: Record<string, string> = { PATH: process.env.PATH!, LOG_LEVEL: 'info' };
    for (const [key, value] of Object.entries(service.environment ?? {})) env[key] = translate(String(value));
    return { env, command: service.command?.map(translate), mounts: Object.fromEntries(mounts) };
  }

  test('ca-passphrase writes a random passphrase (0600) once, and keeps it on the next run', async () => {
    const { command, env, mounts } = native('ca-passphrase');
    await run(command![0]!, command!.slice(1), { env, cwd: projectRoot });
    const file = path.join(mounts['/secrets']!, 'ca-passphrase');
    const first = readFileSync(file, 'utf8');
    assert.match(first, /^[A-Za-z0-9+/=]{40,}\n$/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    await run(command![0]!, command!.slice(1), { env, cwd: projectRoot });
    assert.equal(readFileSync(file, 'utf8'), first);
  });

  test('broker-cert makes the CA (key encrypted, name-constrained to the broker) and a server certificate it verifies', async () => {
    const { command, env, mounts } = native('broker-cert');
    await run(command![0]!, command!.slice(1), { env, cwd: projectRoot });
    const data = mounts['/data']!;
    const certs = mounts['/broker-certs']!;
    assert.match(readFileSync(path.join(data, 'ca.key'), 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    const constraints = await openssl(['x509', '-in', path.join(data, 'ca.crt'), '-noout', '-ext', 'nameConstraints']);
    assert.match(constraints.stdout, /critical/);
    for (const name of ['DNS:mosquitto', 'DNS:localhost', 'DNS:client.invalid', 'IP:127.0.0.1'])
      assert.ok(constraints.stdout.includes(name), `${name} in ${constraints.stdout}`);
    const verified = await openssl([
      'verify',
      '-CAfile',
      path.join(data, 'ca.crt'),
      '-purpose',
      'sslserver',
      path.join(certs, 'server.crt'),
    ]);
    assert.equal(verified.ok, true, verified.stdout + verified.stderr);
    assert.equal(statSync(path.join(certs, 'server.key')).mode & 0o777, 0o600);
    const before = readFileSync(path.join(certs, 'server.crt'), 'utf8');
    await run(command![0]!, command!.slice(1), { env, cwd: projectRoot });
    assert.equal(readFileSync(path.join(certs, 'server.crt'), 'utf8'), before, 'written once');
  });

  test('broker-control makes the dynsec file and the control URL (0600) once, and keeps them on the next run', async () => {
    const { env, mounts } = native('broker-control');
    const service = compose.services['broker-control']!;
    assert.deepEqual(service.command, ['sh', '/init-control.sh']);
    assert.ok(service.volumes!.includes('./deploy/mosquitto/init-control.sh:/init-control.sh:ro'));
    const script = path.join(projectRoot, 'deploy/mosquitto/init-control.sh');
    await run('sh', [script], { env, cwd: projectRoot });
    const urlFile = path.join(mounts['/broker-control']!, 'url');
    const url = readFileSync(urlFile, 'utf8');
    assert.match(url, /^mqtt:\/\/enroll-control:[A-Za-z0-9]{32}@mosquitto:1884\n$/);
    assert.equal(statSync(urlFile).mode & 0o777, 0o600);
    const dynsecFile = path.join(mounts['/mosquitto/data']!, 'dynsec.json');
    // Run as root, as Compose runs it: the files and the URL's folder go to OWNER (the broker, the portal).
    if (process.getuid?.() === 0)
      for (const file of [urlFile, dynsecFile, path.dirname(urlFile)])
        assert.deepEqual([statSync(file).uid, statSync(file).gid], [1883, 1883], file);
    const dynsec = readFileSync(dynsecFile, 'utf8');
    assert.match(dynsec, /"username":\s*"enroll-control"/);
    assert.ok(!dynsec.includes(url.split(':')[2]!.split('@')[0]!), 'the password is not in the dynsec file');
    await run('sh', [script], { env, cwd: projectRoot });
    assert.equal(readFileSync(urlFile, 'utf8'), url, 'kept');
    assert.equal(readFileSync(dynsecFile, 'utf8'), dynsec, 'kept');
  });

  test("the portal starts on broker-cert's CA with the passphrase file, serves it, and reloads the broker; it is published on 127.0.0.1", async () => {
    const [published] = compose.services.portal!.ports!;
    const [hostAddress, , containerPort] = published!.split(':');
    assert.equal(hostAddress, '127.0.0.1');
    const port = await freePort();
    const { env, mounts } = native('portal', { port });
    assert.equal(env.HOST, '0.0.0.0', 'the container listens on all of its interfaces');
    assert.equal(String(compose.services.portal!.environment!.PORT), containerPort);
    const command = jsonInstruction('CMD');
    const child = spawn(command[0]!, command.slice(1), {
      cwd: projectRoot,
      env: { ...env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const output = await waitFor(child, 'is ready at');
      const health = await fetch(`http://${hostAddress}:${port}/healthz`);
      assert.equal(health.status, 200, output());
      const served = await (await fetch(`http://${hostAddress}:${port}/ca.crt`)).text();
      assert.equal(served, readFileSync(path.join(mounts['/data']!, 'ca.crt'), 'utf8'), 'the CA broker-cert made');
      assert.doesNotMatch(output(), /stored unencrypted/);
      await hupArrived; // the first CRL's BROKER_RELOAD_COMMAND reached "pid 1"
      assert.ok(hups >= 1);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, 'stops cleanly on SIGTERM');
      pidOne.kill();
    }
  });

  test("Mosquitto runs the Compose mosquitto.conf with broker-control's dynsec file; the portal's link logs in with the URL file", async () => {
    // Outside Docker: the container paths become the volumes' folders, the ports free ones, the
    // plugin Debian's path, and the broker keeps root (as server/testing/mosquitto.ts does).
    const { mounts } = native('mosquitto');
    const tlsPort = await freePort();
    const controlPort = await freePort();
    const composeConf = readFileSync(path.join(projectRoot, 'deploy/mosquitto/mosquitto.conf'), 'utf8');
    let conf = composeConf
      .replace('plugin /usr/lib/mosquitto_dynamic_security.so', `plugin ${DYNSEC_PLUGIN}`)
      .replace(/^listener 8883$/m, `listener ${tlsPort} 127.0.0.1`)
      .replace(/^listener 1884$/m, `listener ${controlPort} 127.0.0.1`)
      .replace(/^log_dest stdout$/m, 'log_dest stderr');
    for (const [target, dir] of Object.entries(mounts)) conf = conf.split(`${target}/`).join(`${dir}/`);
    assert.notEqual(conf, composeConf);
    assert.ok(!/ \/(portal-data|mosquitto)\//.test(conf), conf);
    const confFile = path.join(tempDir(), 'mosquitto.conf');
    writeFileSync(confFile, `user root\n${conf}`);
    const broker = spawn('mosquitto', ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let brokerLog = '';
    broker.stderr.on('data', (chunk: Buffer) => (brokerLog += String(chunk)));

    const port = await freePort();
    const { env } = native('portal', { port });
    // The URL the init service wrote, with the Compose name and port replaced by the native ones.
    const url = readFileSync(env.BROKER_CONTROL_URL_FILE!, 'utf8').replace(
      '@mosquitto:1884',
      `@127.0.0.1:${controlPort}`,
    );
    const urlFile = path.join(tempDir(), 'url');
    writeFileSync(urlFile, url, { mode: 0o600 });
    const command = jsonInstruction('CMD');
    const child = spawn(command[0]!, command.slice(1), {
      cwd: projectRoot,
      env: {
        ...env,
        NODE_ENV: 'production',
        BROKER_CONTROL_URL_FILE: urlFile,
        MQTT_PORT: String(tlsPort),
        BROKER_RELOAD_COMMAND: `kill -HUP ${broker.pid}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const output = await waitFor(child, 'is ready at');
      let health: { checks: { broker?: string } } | undefined;
      for (let i = 0; i < 100 && health?.checks.broker !== 'ok'; i++) {
        health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as typeof health;
        if (health?.checks.broker !== 'ok') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(health?.checks.broker, 'ok', `${output()}\n${brokerLog}`);
      assert.doesNotMatch(output(), new RegExp(url.split(':')[2]!.split('@')[0]!), 'the password is never logged');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, 'stops cleanly on SIGTERM');
      broker.kill();
    }
  });
});
