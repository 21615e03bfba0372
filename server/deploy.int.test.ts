// The image's start command and health check, run outside Docker: a build, then the portal as its
// own process on a fresh data folder.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from './paths.js';
import { tempDir } from './testing/temp-dir.js';
import { freePort } from './testing/mosquitto.js';

const run = promisify(execFile);
const dockerfile = readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');

function jsonInstruction(name: string): string[] {
  const line = dockerfile.split('\n').find((l) => l.startsWith(`${name} [`));
  assert.ok(line, `Dockerfile has a JSON-form ${name}`);
  return JSON.parse(line.slice(line.indexOf('['))) as string[];
}

describe('the image', () => {
  test("the image's start command serves /healthz from a fresh data folder, and its health check passes", async () => {
    await run('npm', ['run', 'build'], { cwd: projectRoot });
    const command = jsonInstruction('CMD');
    const port = await freePort();
    const env = { ...process.env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), DATA_DIR: tempDir() };
    const child = spawn(command[0]!, command.slice(1), { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    // Resolves on the log line that says the portal listens; fails when it exits first or takes a minute.
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready within 60 s: ${output}`)), 60_000);
      const read = (chunk: Buffer) => {
        output += String(chunk);
        if (output.includes('is ready at')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`exited with ${code}: ${output}`))));
    });
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
