// Load for the responsiveness benchmark, in its own process so the portal's event loop is measured
// alone: N issue forms posted at once (one signed-in admin, as sign-in is rate limited per
// address) while GET /healthz is polled. Started by bench/run.ts through `startLoad`: prints
// "ready", waits for "go", then prints the healthz timings and the answers' statuses as JSON.
import { signedInClient } from '../server/testing/http-client.js';
import { pollHealth, readyForGo, reportAndExit } from './measure.js';

const [base, count, username, password] = process.argv.slice(2) as [string, string, string, string];
const admin = await signedInClient(base, { username, password });
await readyForGo();

const health = pollHealth(base, 10);
const statuses = await Promise.all(
  Array.from({ length: Number(count) }, async (_, i) => (await admin.issue(`burst${i}`)).status),
);
reportAndExit({ health: await health.stop(), statuses });
