// The README's Mosquitto configurations as an admin pastes them (the broker's listener, and the
// bare-metal broker with dynamic security): each runs a real Mosquitto, started as root so that it
// drops to the `mosquitto` user as in production, and a certificate from the portal's CA connects.
// Only what an admin must adapt is replaced: the paths of DATA_DIR, the server certificate, the ACL
// and the dynsec file, and the ports. Mosquitto reads a `#` after a value as part of the value, so
// a comment at the end of a line stops it; the Broker page's own text is in routes/broker.int.test.ts.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from './paths.js';
import { startTestPortal } from './testing/harness.js';
import { Mosquitto, freePort } from './testing/mosquitto.js';
import { Scratch } from './testing/openssl.js';
import { clientFiles, serverFiles } from './testing/pki.js';

const execFileAsync = promisify(execFile);

/** The README's plain code blocks that configure a Mosquitto listener with the portal's CA. */
function mosquittoConfigurations(readme: string): string[] {
  // Fences read in pairs, opening then closing, so that a block with a language (```sh) is never
  // taken for the end of one and the start of the next.
  const blocks: string[] = [];
  let open: { language: string; lines: string[] } | undefined;
  for (const line of readme.split('\n')) {
    const fence = /^```(\S*)\s*$/.exec(line);
    if (!fence) open?.lines.push(line);
    else if (!open) open = { language: fence[1]!, lines: [] };
    else {
      if (open.language === '') blocks.push(`${open.lines.join('\n')}\n`);
      open = undefined;
    }
  }
  return blocks.filter((block) => /^listener /m.test(block) && /^cafile /m.test(block));
}

const idOf = (user: string, flag: '-u' | '-g') => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());

test("the README's Mosquitto configurations, pasted, run a broker that lets the portal's certificates in", async () => {
  const blocks = mosquittoConfigurations(readFileSync(path.join(projectRoot, 'README.md'), 'utf8'));
  assert.equal(blocks.length, 2, 'the broker, and the broker with dynamic security');
  const portal = await startTestPortal();
  try {
    chownSync(portal.dataDir, -1, idOf('mosquitto', '-g')); // as the README says: the folder to the broker's group
    const scratch = new Scratch();
    chmodSync(scratch.dir, 0o755);
    const server = await serverFiles(scratch, portal.ca);
    const alice = await clientFiles(scratch, portal.ca, 'alice');
    const acl = scratch.file('acl', 'pattern readwrite owntracks/%u/#\n');
    for (const [index, block] of blocks.entries()) {
      const port = await freePort();
      const controlPort = await freePort();
      const dynsec = scratch.path(`dynsec-${index}.json`);
      if (block.includes('plugin_opt_config_file')) {
        await execFileAsync('mosquitto_ctrl', ['dynsec', 'init', dynsec, 'enroll-control', 'a control password']);
        chownSync(dynsec, idOf('mosquitto', '-u'), idOf('mosquitto', '-g')); // the plugin saves every change to it
      }
      const conf = block
        .replaceAll('/path/to/data', portal.dataDir)
        .replace('/etc/mosquitto/certs/server.crt', server.serverCert)
        .replace('/etc/mosquitto/certs/server.key', server.serverKey)
        .replace('/etc/mosquitto/acl', acl)
        .replace('/var/lib/mosquitto/dynsec.json', dynsec)
        .replace(/^listener 8883$/m, `listener ${port}`)
        .replace(/^listener 1884 127\.0\.0\.1$/m, `listener ${controlPort} 127.0.0.1`);
      assert.match(conf, new RegExp(`^listener ${port}$`, 'm'), `block ${index}: the phones' listener`);
      const confFile = scratch.file(`mosquitto-${index}.conf`, conf);
      for (const file of [server.serverKey, alice.keyFile, confFile]) chmodSync(file, 0o644);
      const broker = await Mosquitto.run(confFile, port, {
        caFile: path.join(portal.dataDir, 'ca.crt'),
        crlFile: path.join(portal.dataDir, 'crl.pem'),
        ...server,
      });
      try {
        assert.equal(await broker.publish(alice, 'owntracks/alice/phone', 'hello'), true, broker.output);
      } finally {
        await broker.stop();
      }
    }
  } finally {
    await portal.close();
  }
});
