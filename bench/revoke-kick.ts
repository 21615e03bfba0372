// Revoke to disconnected: with the broker link, how long from the admin's revoke to the revoked
// phone's connection being closed by Mosquitto. The revoke runs the whole path: the database, the
// CRL (with a probe certificate), the reload command, the probe until the broker refuses it, and
// the dynsec kick. Each phone is an MQTT.js client reconnecting every 100 ms, as in the tests.
// `npm run bench` includes it; alone: `npx tsx bench/revoke-kick.ts [runs]`.
import { fileURLToPath } from 'node:url';
import { issueDevice, Phone, startLinkedPortal, until } from '../server/testing/broker-link.js';
import { median } from './measure.js';

export async function revokeToDisconnected(runs: number): Promise<{ samples: number[]; p50: number; max: number }> {
  const linked = await startLinkedPortal();
  const samples: number[] = [];
  try {
    const broker = linked.portal.services.broker!;
    await until(() => broker.overview().lastReconcile !== undefined, 30_000, 'the broker link');
    for (let i = 0; i < runs; i++) {
      // A person of their own each time, plus a second device that stays (the usual case).
      const kept = new Phone(linked, await issueDevice(linked, `bench${i}`, 'tablet'));
      const phone = new Phone(linked, await issueDevice(linked, `bench${i}`, 'phone'));
      await until(() => phone.connected && kept.connected, 10_000, 'the phones to connect');
      const closed = new Promise<number>((resolve) => phone.client.once('close', () => resolve(performance.now())));
      const start = performance.now();
      const outcome = await linked.portal.services.enrollment.revoke(phone.device.certificateId, 'keyCompromise', {
        name: 'bench',
      });
      if (!outcome.ok || outcome.kick?.state !== 'done') throw new Error(`revoke ${i}: ${JSON.stringify(outcome)}`);
      samples.push((await closed) - start);
      await phone.end();
      await kept.end();
    }
  } finally {
    await linked.close();
  }
  return { samples, p50: median(samples), max: Math.max(...samples) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runs = Number(process.argv[2] ?? 20);
  const result = await revokeToDisconnected(runs);
  console.log(
    `revoke to disconnected over ${runs} revokes: p50 ${result.p50.toFixed(0)} ms, max ${result.max.toFixed(0)} ms`,
  );
  console.log(`samples (ms): ${result.samples.map((ms) => ms.toFixed(0)).join(', ')}`);
  process.exit(0);
}
