// The dynsec command layer without a broker: a link that goes down while a command is being
// published. Its waiting answer is rejected by the link's state change and must not be left as an
// unhandled rejection (which ends a Node process), only the command's own error reaches the caller.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dynsec, DynsecError, DynsecUnavailable } from './dynsec.js';
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

/** A command as the portal publishes it, with the parameters a test may look at. */
type Sent = { command: string; correlationData: string; count?: number; offset?: number; verbose?: boolean };

/** What a test's broker sends back for one command: an error text, or its `data`. */
type Reply = { error?: string; data?: unknown };

/**
 * A link whose broker is `onPublish`: it gets each published message's commands and `answer`, which
 * sends answers back (one response message, as Mosquitto's plugin does); its promise is the publish's
 * acknowledgement.
 */
function scriptedLink(
  onPublish: (commands: Sent[], answer: (replies: Array<[Sent, Reply]>) => void) => Promise<void> | void,
) {
  let deliver: ((topic: string, payload: Buffer) => void) | undefined;
  const answer = (replies: Array<[Sent, Reply]>) =>
    deliver!(
      '$CONTROL/dynamic-security/v1/response',
      Buffer.from(
        JSON.stringify({
          responses: replies.map(([sent, reply]) => ({
            command: sent.command,
            correlationData: sent.correlationData,
            ...reply,
          })),
        }),
      ),
    );
  return {
    connected: true,
    subscribe: (_filter: string, handler: (topic: string, payload: Buffer) => void) => {
      deliver = handler;
      return () => undefined;
    },
    onState: () => () => undefined,
    publish: async (_topic: string, message: string) =>
      onPublish((JSON.parse(message) as { commands: Sent[] }).commands, answer),
  } as unknown as BrokerLink;
}

/**
 * A link whose broker answers each published command with `respond(command)`: an error text, or the
 * command's `data` (undefined: success without data). An answer longer than `dropOver` bytes is
 * dropped, as Mosquitto drops a packet over the link's Maximum Packet Size.
 */
function respondingLink(respond: (sent: Sent) => Reply, dropOver = Infinity) {
  return scriptedLink((commands, answer) => {
    const replies = commands.map((sent): [Sent, Reply] => [sent, respond(sent)]);
    const size = JSON.stringify({
      responses: replies.map(([{ command, correlationData }, reply]) => ({ command, correlationData, ...reply })),
    }).length;
    if (size <= dropOver) setImmediate(() => answer(replies));
  });
}

/** A link that answers each published command with `answer(command)`: an error text, or undefined for success. */
function answeringLink(answer: (command: string) => string | undefined) {
  return respondingLink(({ command }) => {
    const error = answer(command);
    return error ? { error } : {};
  });
}

test('recreating a client: a refused deletion rejects (nobody was disconnected), a refused creation answers false', async () => {
  const client = { username: 'alice', textname: 'managed', roles: [], groups: [] };
  const refusedDelete = new Dynsec(
    answeringLink((c) => (c === 'deleteClient' ? 'Client not found' : undefined)),
    1_000,
  );
  await assert.rejects(refusedDelete.recreateClient(client), (error: unknown) => {
    assert.ok(error instanceof DynsecError);
    assert.match(error.message, /deleteClient/);
    return true;
  });
  const refusedCreate = new Dynsec(
    answeringLink((c) => (c === 'createClient' ? 'Client already exists' : undefined)),
    1_000,
  );
  assert.equal(await refusedCreate.recreateClient(client), false);
  assert.equal(
    await new Dynsec(
      answeringLink(() => undefined),
      1_000,
    ).recreateClient(client),
    true,
  );
});

test('a publish that never completes (the broker died under it) ends in DynsecUnavailable, not a wait for ever', async () => {
  // Seen against Mosquitto 2.0.11: a recreateClient naming a role deleted meanwhile crashed the broker
  // (SIGSEGV) in about half the runs, and the kick's publish, waiting for its acknowledgement, never
  // settled. The answers' own timeouts fired, but nothing ended the wait for the publish.
  const link = {
    connected: true,
    subscribe: () => () => undefined,
    onState: () => () => undefined,
    publish: () => new Promise<void>(() => undefined),
  } as unknown as BrokerLink;
  const dynsec = new Dynsec(link, 50);
  const client = { username: 'alice', textname: 'managed', roles: [], groups: [] };
  await assert.rejects(dynsec.recreateClient(client), (error: unknown) => {
    assert.ok(error instanceof DynsecUnavailable, String(error));
    assert.match(error.message, /deleteClient, createClient: no acknowledgement from the broker within 50 ms/);
    return true;
  });
  await assert.rejects(dynsec.getClient('alice'), DynsecUnavailable);
});

/** A link whose broker lists `roles()` in pages, honouring count and offset as Mosquitto's plugin does. */
function listingLink(roles: () => string[], asked: Array<{ count: number; offset: number }>) {
  return respondingLink(({ count = -1, offset = 0, verbose }) => {
    if (verbose) asked.push({ count, offset }); // not the small question after each page
    const all = roles();
    const page = all.slice(offset, offset + count);
    return {
      data: { totalCount: all.length, roles: verbose ? page.map((rolename) => ({ rolename, acls: [] })) : page },
    };
  });
}

test('lists come in pages (one answer over 1 MiB never arrives); a list that changes between pages is read again', async () => {
  const names = Array.from({ length: 7 }, (_, i) => `role-${i}`);
  const asked: Array<{ count: number; offset: number }> = [];
  const dynsec = new Dynsec(
    listingLink(() => names, asked),
    1_000,
    3,
  );
  assert.deepEqual(
    (await dynsec.listRoles()).map((role) => role.rolename),
    names,
  );
  // Each page comes with the names around its start (not counted here), to see that nothing moved.
  assert.deepEqual(asked, [
    { count: 3, offset: 0 },
    { count: 3, offset: 3 },
    { count: 3, offset: 6 },
  ]);

  /** Reads the roles while `change(pagesAsked)` may replace the broker's list; returns names and offsets. */
  const readWhile = async (change: (pagesAsked: number, current: string[]) => string[]) => {
    let current = [...names];
    const pages: Array<{ count: number; offset: number }> = [];
    const listing = new Dynsec(
      listingLink(() => (current = change(pages.length, current)), pages),
      1_000,
      3,
    );
    return { roles: (await listing.listRoles()).map((role) => role.rolename), offsets: pages.map((p) => p.offset) };
  };
  // Another control connection adds a role before the second page: read again, whole.
  assert.deepEqual(await readWhile((pages, current) => (pages === 2 ? ['role-00', ...names] : current)), {
    roles: ['role-00', ...names],
    offsets: [0, 3, 0, 3, 6],
  });
  // One deleted before the offset and one added after it: the same total, but role-3 would be skipped.
  assert.deepEqual(await readWhile((pages, current) => (pages === 2 ? [...names.slice(1), 'role-9'] : current)), {
    roles: [...names.slice(1), 'role-9'],
    offsets: [0, 3, 0, 3, 6],
  });
  // A list that changes on every read: no partial list, an error.
  await assert.rejects(
    readWhile((_pages, current) => [...current, `role-x${current.length}`]),
    (error: unknown) => error instanceof DynsecUnavailable && /kept changing/.test(error.message),
  );
});

test('a page dropped for its size is told at once and asked again smaller; one entry too large is said as such', async () => {
  const big = (name: string, rules: number) => ({
    rolename: name,
    acls: Array.from({ length: rules }, (_, i) => ({
      acltype: 'publishClientReceive',
      topic: `owntracks/member-${i}-of-${name}/+`,
      priority: 0,
      allow: true,
    })),
  });
  const small = Array.from({ length: 24 }, (_, i) => big(`role-${String(i).padStart(2, '0')}`, 1)); // ~170 bytes each
  let roles = small;
  const asked: number[] = [];
  // The broker drops any answer over 4 KB.
  const link = respondingLink(({ count = 1, offset = 0, verbose }) => {
    if (verbose) asked.push(count);
    const page = roles.slice(offset, offset + count);
    return { data: { totalCount: roles.length, roles: verbose ? page : page.map((role) => role.rolename) } };
  }, 4096);
  // A timeout far longer than the test: a dropped page must be told without waiting for it.
  const dynsec = new Dynsec(link, 60_000, 8);
  const names = () => roles.map((role) => role.rolename);
  const listed = async () => (await dynsec.listRoles()).map((role) => role.rolename);
  assert.deepEqual(await listed(), names());
  assert.equal(Math.min(...asked), 8, `full pages while they fit: ${asked.join()}`);
  // Sharing groups' roles (~1.4 KB each) sorting together: a page of 8 would be dropped.
  roles = [...small, ...Array.from({ length: 6 }, (_, i) => big(`share-${i}`, 8))];
  asked.length = 0;
  assert.deepEqual(await listed(), names());
  assert.ok(
    asked.some((count) => count < 8),
    `halved: ${asked.join()}`,
  );
  // Two neighbours that fit one at a time but not together (the overlap of old took two at once).
  roles = [...roles, big('share-x', 22), big('share-y', 22)];
  asked.length = 0;
  assert.deepEqual(await listed(), names());
  assert.ok(asked.includes(1), `one at a time: ${asked.join()}`);
  // One role over the limit alone: said as such.
  roles = [...roles, big('share-huge', 60)];
  await assert.rejects(dynsec.listRoles(), /larger than the broker link's packet limit/);
  // Small ones only again: full pages again.
  roles = small;
  asked.length = 0;
  assert.deepEqual(await listed(), names());
  assert.equal(Math.min(...asked), 8, `full pages again: ${asked.join()}`);
});

test('a page whose answer comes after its own timeout is a timeout, not a page too large; a refused small question is said at once', async () => {
  const roles = ['a', 'b'];
  let mode: 'slow' | 'refused' = 'slow';
  const link = scriptedLink(async ([sent], answer) => {
    if (sent!.verbose) {
      // The page: never answered here (slow, or dropped); its acknowledgement takes 30 ms.
      await new Promise((resolve) => setTimeout(resolve, 30));
      return;
    }
    // The small question: answered just after the page's timeout (200 ms), within its own; or refused.
    if (mode === 'refused') setImmediate(() => answer([[sent!, { error: 'Internal error' }]]));
    else setTimeout(() => answer([[sent!, { data: { totalCount: roles.length, roles } }]]), 185);
  });
  const dynsec = new Dynsec(link, 200, 8);
  await assert.rejects(dynsec.listRoles(), /listRoles: no answer from the broker within 200 ms/);
  mode = 'refused';
  const started = Date.now();
  await assert.rejects(new Dynsec(link, 5000, 8).listRoles(), (error: unknown) => error instanceof DynsecError);
  // The page's timeout is 5 s: a refusal ends the list before it (a bound, not a speed).
  assert.ok(Date.now() - started < 4_500, 'without waiting for the page to time out');
});
