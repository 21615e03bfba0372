// The dynsec command layer without a broker: a link that goes down while a command is being
// published. Its waiting answer is rejected by the link's state change and must not be left as an
// unhandled rejection (which ends a Node process), only the command's own error reaches the caller.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dynsec, DynsecUnavailable } from './dynsec.js';
import type { BrokerLink, LinkState } from './link.js';

test('a link that goes down during the publish: the command rejects once, nothing is left unhandled', async () => {
  const stateListeners: ((state: LinkState) => void)[] = [];
  const fakeLink = {
    connected: true,
    subscribe: () => () => undefined,
    onState: (listener: (state: LinkState) => void) => {
      stateListeners.push(listener);
      return () => undefined;
    },
    publish: async () => {
      // The connection drops before the publish completes: the state change comes first.
      fakeLink.connected = false;
      for (const listener of stateListeners) listener({ status: 'down', since: new Date(), lastError: undefined });
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error('connection closed');
    },
  };
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const dynsec = new Dynsec(fakeLink as unknown as BrokerLink, 1_000);
    await assert.rejects(dynsec.addGroupRole('owntracks-people', 'owntracks-people', 0), (error: unknown) => {
      assert.ok(error instanceof DynsecUnavailable);
      assert.match(error.message, /^addGroupRole: /);
      return true;
    });
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, [], 'no rejection left unhandled');
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
