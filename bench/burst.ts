// Load for the responsiveness benchmark, in its own process so the portal's event loop is measured
// alone: N issue forms posted at once (one signed-in admin, as sign-in is rate limited per
// address) while GET /healthz is polled. Prints "ready", waits for
// a line on stdin, then prints the healthz timings as JSON.
import { createInterface } from 'node:readline';
import { signedInClient } from '../server/testing/http-client.js';

const [base, count, username, password] = process.argv.slice(2) as [string, string, string, string];
const admin = await signedInClient(base, { username, password });
process.stdout.write('ready\n');
await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));

const health: number[] = [];
let running = true;
const polling = (async () => {
  while (running) {
    const start = performance.now();
    await fetch(`${base}/healthz`);
    health.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
})();
const statuses = await Promise.all(
  Array.from({ length: Number(count) }, async (_, i) => (await admin.issue(`burst${i}`)).status),
);
running = false;
await polling;
process.stdout.write(`${JSON.stringify({ health, statuses })}\n`);
process.exit(0);
