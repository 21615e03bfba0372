// DATA_DIR's file modes as the portal makes them (DESIGN.md, "Files under DATA_DIR"): the portal
// started as its own process under the usual umask 022, on a fresh folder, then one issue.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { projectRoot } from './paths.js';
import { compiledFile } from './testing/compiled.js';
import { tempDir } from './testing/temp-dir.js';
import { signedInClient, waitUntilHealthy } from './testing/http-client.js';
import { freePort } from './testing/mosquitto.js';

const modeOf = (file: string) => (statSync(file).mode & 0o777).toString(8).padStart(4, '0');

describe('DATA_DIR file modes', () => {
  test('after start and an issue: enroll.db, -wal and -shm 0600, ca.key 0600, ca.crt and crl.pem 0644', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const admin = { username: 'admin', password: 'correct horse battery' };
    const main = compiledFile('server/main.ts'); // server/main.ts, compiled once (testing/compiled.ts)
    // umask 022, as on most machines: what the files get is then the portal's choice, not the umask's.
    const child = spawn('/bin/sh', ['-c', `umask 022 && exec "${process.execPath}" "${main}"`], {
      cwd: projectRoot,
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        PORT: String(port),
        ADMIN_USERNAME: admin.username,
        ADMIN_PASSWORD: admin.password,
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitUntilHealthy(base, 120_000);
      const client = await signedInClient(base, admin);
      assert.equal((await client.issue('modes')).status, 303);
      const modes = Object.fromEntries(
        ['enroll.db', 'enroll.db-wal', 'enroll.db-shm', 'ca.key', 'ca.crt', 'crl.pem'].map((name) => [
          name,
          modeOf(path.join(dataDir, name)),
        ]),
      );
      assert.deepEqual(modes, {
        'enroll.db': '0600',
        'enroll.db-wal': '0600',
        'enroll.db-shm': '0600',
        'ca.key': '0600',
        'ca.crt': '0644',
        'crl.pem': '0644',
      });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
