// A bad setting stops the real start-up (server/main.ts, as its own process) with one line.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { compiledFile } from './testing/compiled.js';
import { freePort } from './testing/mosquitto.js';
import { tempDir } from './testing/temp-dir.js';

describe('configuration at start-up', () => {
  test('a bad setting stops start-up with one line naming it', async () => {
    const run = promisify(execFile);
    await assert.rejects(
      // server/main.ts, compiled once (testing/compiled.ts) rather than through the tsx command's two processes
      run(process.execPath, [compiledFile('server/main.ts')], {
        env: { ...process.env, PORT: 'eighty', DATA_DIR: tempDir() },
      }),
      (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 1);
        assert.equal(error.stderr.trim(), 'Configuration error: PORT: must be a whole number between 1 and 65535');
        return true;
      },
    );
  });

  test('a port in use, an address not of this machine, a folder it cannot write: one line naming the setting, nothing made', async () => {
    const run = promisify(execFile);
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['port in use', { PORT: String(port) }, new RegExp(`^PORT ${port} on 127\\.0\\.0\\.1 is in use`)],
      ['no such address', { HOST: '192.0.2.99' }, /^HOST 192\.0\.2\.99 is not an address of this machine/],
      // Beneath a file: no folder can be made there, whoever runs it (root writes anywhere else).
      ['a folder it cannot make', {}, /^DATA_DIR .*: the portal cannot write there \(ENOTDIR\)/],
    ];
    try {
      for (const [name, env, message] of cases) {
        const blocker = path.join(tempDir(), 'a-file');
        writeFileSync(blocker, '');
        const dataDir = name === 'a folder it cannot make' ? path.join(blocker, 'data') : path.join(tempDir(), 'data');
        await assert.rejects(
          run(process.execPath, [compiledFile('server/main.ts')], {
            env: { ...process.env, PORT: String(await freePort()), HOST: '127.0.0.1', ...env, DATA_DIR: dataDir },
          }),
          (error: { code: number; stderr: string }) => {
            assert.equal(error.code, 1, name);
            assert.match(error.stderr.trim(), message, name);
            assert.equal(error.stderr.trim().split('\n').length, 1, `${name}: one line, no stack`);
            return true;
          },
        );
        assert.equal(existsSync(path.join(dataDir, 'ca.key')), false, `${name}: no CA made`);
      }
    } finally {
      busy.close();
    }
  });

  test("the start warns of an MQTT_HOST outside the CA's names and of a mail server that does not answer", async () => {
    const dataDir = tempDir();
    /** Starts the real portal, returns its output once it is ready (and a little after), then stops it. */
    const startOnce = async (env: Record<string, string>) => {
      const child = spawn(process.execPath, [compiledFile('server/main.ts')], {
        env: { ...process.env, PORT: String(await freePort()), HOST: '127.0.0.1', DATA_DIR: dataDir, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += String(chunk)));
      child.stderr.on('data', (chunk: Buffer) => (output += String(chunk)));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        // A first start makes the CA (an RSA-4096 key, seconds on a loaded machine): a minute at most.
        const deadline = Date.now() + 60_000;
        while (!/mail server does not answer|SMTP server answers/.test(output)) {
          if (Date.now() > deadline || child.exitCode !== null)
            throw new Error(`no SMTP check in the output: ${output}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
      return output;
    };
    // The first start makes the CA for the loopback names; nothing listens on the SMTP port.
    const first = await startOnce({ SMTP_URL: `smtp://127.0.0.1:${await freePort()}` });
    assert.match(first, /SMTP_URL: the mail server does not answer/);
    assert.doesNotMatch(first, /MQTT_HOST: /);
    // MQTT_HOST set afterwards: outside what that CA may sign for, said at start.
    const second = await startOnce({ MQTT_HOST: 'mqtt.example.org', SMTP_URL: `smtp://127.0.0.1:${await freePort()}` });
    assert.match(second, /MQTT_HOST: mqtt\.example\.org is outside what this CA may sign for/);
  });
});
