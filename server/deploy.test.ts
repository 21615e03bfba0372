// No Docker engine runs here, so this checks what the Compose stack relies on: every referenced
// file, port and variable exists and agrees with the config schema, and the image's start
// command and health check work outside Docker (deploy.int.test.ts).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { environmentSchema } from './config.js';
import { projectRoot } from './paths.js';

const compose = parse(readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8')) as {
  services: Record<
    string,
    {
      build?: string;
      image?: string;
      user?: string;
      pid?: string;
      environment?: Record<string, string | number>;
      ports?: string[];
      volumes?: string[];
      command?: string[];
      depends_on?: Record<string, { condition: string }>;
    }
  >;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');
const knownVariables = new Set(Object.keys(environmentSchema.in.shape));

/** `${NAME:-default}` as Compose substitutes it with nothing set. */
const substitute = (value: string) => value.replace(/\$\{(\w+):-([^}]*)\}/g, (_m, _name, fallback: string) => fallback);

describe('docker-compose.yml', () => {
  test('has the portal, Mosquitto and mailpit, with the ports people open', () => {
    const { portal, mosquitto, mailpit } = compose.services;
    assert.equal(portal?.build, '.');
    assert.ok(existsSync(path.join(projectRoot, 'Dockerfile')));
    assert.match(mosquitto?.image ?? '', /^eclipse-mosquitto:/);
    assert.match(mailpit?.image ?? '', /^axllent\/mailpit:/);
    assert.deepEqual(mosquitto?.ports, ['8883:8883']);
  });

  test('publishes the plain-HTTP portal and mailpit on 127.0.0.1 only; only the TLS broker on every interface', () => {
    // "[host address:]host port:container port": without an address Docker publishes on all interfaces.
    const published = Object.entries(compose.services).flatMap(([name, service]) =>
      (service.ports ?? []).map((mapping) => {
        const parts = mapping.split(':');
        return { name, address: parts.length === 3 ? parts[0] : 'all interfaces', port: parts.at(-1) };
      }),
    );
    assert.deepEqual(published, [
      { name: 'mosquitto', address: 'all interfaces', port: '8883' },
      { name: 'portal', address: '127.0.0.1', port: '3000' },
      { name: 'mailpit', address: '127.0.0.1', port: '8025' },
    ]);
    const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    const docker = readme.slice(readme.indexOf('## Run with Docker'));
    assert.match(docker, /<http:\/\/127\.0\.0\.1:3000>/);
    assert.match(docker, /<http:\/\/127\.0\.0\.1:8025>/);
    assert.match(docker, /TRUST_PROXY=1/);
    assert.match(docker, /PUBLIC_URL=https:\/\//);
    assert.match(docker, /reverse_proxy 127\.0\.0\.1:3000/, 'a TLS proxy in front');
  });

  test('the CA key is encrypted by default: a one-shot service makes a passphrase that the broker cannot read', () => {
    const init = compose.services['ca-passphrase'];
    assert.ok(init, 'a ca-passphrase service');
    const file = String(compose.services.portal!.environment!.CA_KEY_PASSPHRASE_FILE ?? '');
    assert.ok(file.startsWith('/'), 'CA_KEY_PASSPHRASE_FILE on the portal');
    const secrets = (service: string) =>
      (compose.services[service]!.volumes ?? []).find((v) => file.startsWith(`${v.split(':')[1]}/`));
    for (const service of ['ca-passphrase', 'broker-cert', 'portal'])
      assert.ok(secrets(service), `${service} mounts the folder of ${file}`);
    assert.equal(secrets('mosquitto'), undefined, 'the broker, which reads ca.key, never sees the passphrase');
    for (const service of ['broker-cert', 'portal']) {
      assert.deepEqual(compose.services[service]!.depends_on?.['ca-passphrase'], {
        condition: 'service_completed_successfully',
      });
    }
  });

  test('the two services that may make the CA make the same one: passphrase, names, subject', () => {
    const { portal } = compose.services;
    const brokerCert = compose.services['broker-cert']!;
    for (const name of ['CA_KEY_PASSPHRASE_FILE', 'CA_SERVER_NAMES', 'MQTT_HOST', 'DATA_DIR'])
      assert.equal(brokerCert.environment?.[name], portal!.environment?.[name], name);
    assert.match(String(portal!.environment!.CA_SERVER_NAMES), /(^|,)mosquitto(,|$)/, "the broker's Compose name");
  });

  test('pins its images to exact versions, named in the README; the image runs the Node that CI tests', () => {
    const { mosquitto, mailpit } = compose.services;
    // A floating tag (`:2`, latest) moves under a running stack: `eclipse-mosquitto:2` became 2.1.
    assert.match(mosquitto!.image!, /^eclipse-mosquitto:2\.0\.\d+$/);
    assert.match(mailpit!.image!, /^axllent\/mailpit:v\d+\.\d+\.\d+$/);
    const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    for (const image of [mosquitto!.image!, mailpit!.image!]) assert.ok(readme.includes(`\`${image}\``), image);

    const ciNode = /^version=(\d+)\./m.exec(readFileSync(path.join(projectRoot, 'scripts/node24.sh'), 'utf8'))?.[1];
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    assert.equal(bases.length, 3);
    for (const base of bases) assert.equal(base, `node:${ciNode}-bookworm-slim`);
    // Should better-sqlite3 be compiled in the image, it is against the headers CI builds it with.
    assert.match(dockerfile, /^RUN npm_config_nodedir="\$\(scripts\/node24\.sh --headers\)" npm ci --omit=dev/m);
  });

  test("the portal's variables are ones the config schema knows, and they parse", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.build !== '.') continue;
      const env = Object.fromEntries(
        Object.entries(service.environment ?? {}).map(([key, value]) => [key, substitute(String(value))]),
      );
      for (const key of Object.keys(env))
        assert.ok(knownVariables.has(key.replace(/_FILE$/, '')), `${name}: ${key} is not a portal variable`);
      for (const key of Object.keys(env)) if (key.endsWith('_FILE')) delete env[key]; // read by loadConfig
      assert.ok(
        environmentSchema.safeParse(env).success,
        `${name}: ${JSON.stringify(environmentSchema.safeParse(env).error?.issues)}`,
      );
    }
    const portalEnv = compose.services.portal!.environment!;
    assert.equal(portalEnv.HOST, '0.0.0.0');
    assert.equal(String(portalEnv.SMTP_URL), 'smtp://mailpit:1025');
    assert.equal(String(portalEnv.PORT), '3000');
  });

  test('the broker link: a one-shot service makes the control account; its listener is published nowhere', () => {
    const init = compose.services['broker-control']!;
    assert.equal(init.image, compose.services.mosquitto!.image, 'the same mosquitto_ctrl as the broker');
    const urlFile = String(compose.services.portal!.environment!.BROKER_CONTROL_URL_FILE);
    assert.equal(urlFile, String(init.environment!.URL_FILE));
    const folder = path.dirname(urlFile);
    assert.ok(compose.services.portal!.volumes!.includes(`broker-control:${folder}:ro`));
    assert.ok(init.volumes!.includes(`broker-control:${folder}`));
    assert.ok(init.volumes!.includes('mosquitto-data:/mosquitto/data'), 'the dynsec file where the broker keeps it');
    assert.equal(
      (compose.services.mosquitto!.volumes ?? []).find((v) => v.startsWith('broker-control:')),
      undefined,
      'the broker never sees the password in clear',
    );
    for (const service of ['mosquitto', 'portal'])
      assert.deepEqual(compose.services[service]!.depends_on?.['broker-control'], {
        condition: 'service_completed_successfully',
      });
    assert.ok(!(compose.services.mosquitto!.ports ?? []).some((p) => p.endsWith(':1884')), '1884 is not published');
  });

  test('a service that runs as 1883 writes only into volumes its image gives to 1883', () => {
    // Docker gives a new named volume the owner of the image's folder it is mounted at, and root's
    // when the image has no such folder. Ours makes and chowns its folders in the Dockerfile; the
    // eclipse-mosquitto image gives /mosquitto/config, /data and /log to its mosquitto user (1883).
    const chowned = /chown enroll:enroll ([^&\n\\]+)/.exec(dockerfile)?.[1]?.trim().split(/\s+/) ?? [];
    const owned = (service: { build?: string; image?: string }) =>
      service.build === '.' ? chowned : ['/mosquitto/config', '/mosquitto/data', '/mosquitto/log'];
    const checked: string[] = [];
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.user !== '1883:1883') continue;
      for (const volume of service.volumes ?? []) {
        const [source, target, mode] = volume.split(':');
        if (source!.startsWith('.') || mode === 'ro') continue; // a file of the repository, or read only
        assert.ok(owned(service).includes(target!), `${name} writes to ${target}, which its image does not give 1883`);
        checked.push(`${name}:${target}`);
      }
    }
    assert.ok(checked.includes('broker-cert:/broker-certs') && checked.includes('portal:/data'), checked.join());
    // broker-control runs as root and hands its files to the broker's and portal's uid.
    const control = compose.services['broker-control']!;
    assert.equal(control.user, undefined);
    assert.equal(control.environment?.OWNER, '1883:1883');
  });

  test('the portal reloads the broker through a shared PID namespace, as the same user', () => {
    const { portal, mosquitto } = compose.services;
    assert.equal(portal?.pid, 'service:mosquitto');
    assert.equal(portal?.environment?.BROKER_RELOAD_COMMAND, 'kill -HUP 1');
    assert.match(
      mosquitto!.command!.at(-1)!,
      /exec mosquitto -c \/mosquitto\/config\/mosquitto.conf$/,
      'mosquitto is PID 1',
    );
    assert.equal(portal?.user, '1883:1883');
    assert.match(dockerfile, /useradd --uid 1883/);
  });

  test('every volume and mounted file exists, and the broker reads the files the portal writes', () => {
    for (const service of Object.values(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const [source] = volume.split(':');
        if (source!.startsWith('./')) assert.ok(existsSync(path.join(projectRoot, source!)), `${source} exists`);
        else assert.ok(source! in compose.volumes, `volume ${source} is declared`);
      }
    }
    const conf = readFileSync(path.join(projectRoot, 'deploy/mosquitto/mosquitto.conf'), 'utf8');
    for (const line of [
      'listener 8883',
      'require_certificate true',
      'use_identity_as_username true',
      'cafile /portal-data/ca.crt',
      'crlfile /portal-data/crl.pem',
      'plugin /usr/lib/mosquitto_dynamic_security.so',
      'plugin_opt_config_file /mosquitto/data/dynsec.json',
      'listener 1884',
    ]) {
      assert.ok(conf.split('\n').includes(line), line);
    }
    assert.ok(compose.services.mosquitto!.volumes!.includes('portal-data:/portal-data:ro'));
    assert.ok(
      compose.services.portal!.volumes!.includes(`portal-data:${compose.services.portal!.environment!.DATA_DIR}`),
    );
    // Access comes from the dynsec plugin alone: an acl_file beside it would still decide what dynsec leaves undecided.
    assert.ok(!/^acl_file/m.test(conf), 'no acl_file');
    const certCommand = compose.services['broker-cert']!.command!.at(-1)!;
    assert.match(certCommand, /node dist\/server\/cli.js server-cert .*--out \/broker-certs/);
  });
});
