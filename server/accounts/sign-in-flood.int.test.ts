// Sign-in during a flood, at the production scrypt cost (N = 2^17, 128 MiB a check) over a real
// socket: 20 bogus sign-ins, each from an address of its own (127.0.0.0/8 is all loopback on Linux),
// and the admin, whose browser signed in before, signs in from another address meanwhile. Without a
// bound on concurrent checks the admin's check queued behind all of theirs in libuv's pool.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { TEST_ADMIN, withPortal } from '../testing/harness.js';

const FLOOD = 20;

/** A browser over a real TCP connection from `localAddress`: cookies and the sign-in form. */
class SocketBrowser {
  readonly cookies = new Map<string, string>();
  constructor(
    private readonly port: number,
    private readonly localAddress: string,
  ) {}

  request(method: string, url: string, body?: string) {
    return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
      const request = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          localAddress: this.localAddress,
          method,
          path: url,
          agent: false,
          headers: {
            ...(cookie && { cookie }),
            ...(body !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            for (const line of response.headers['set-cookie'] ?? []) {
              const [pair = ''] = line.split(';');
              const name = pair.slice(0, pair.indexOf('='));
              const value = pair.slice(pair.indexOf('=') + 1);
              if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
              else this.cookies.set(name, value);
            }
            resolve({
              status: response.statusCode!,
              headers: response.headers,
              body: Buffer.concat(chunks).toString(),
            });
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  /** Fetches the form; returns the function that submits it. */
  async form(username: string, password: string) {
    const page = await this.request('GET', '/login');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(csrf, `a sign-in form for ${this.localAddress}`);
    return () => this.request('POST', '/login', new URLSearchParams({ _csrf: csrf, username, password }).toString());
  }
}

test('the admin signs in during a flood of bogus sign-ins at the production cost', async (t) => {
  await withPortal({ deps: { passwordCost: undefined } }, async (portal) => {
    await portal.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = portal.app.server.address() as AddressInfo;
    const admin = new SocketBrowser(port, '127.0.0.2');

    let started = Date.now();
    const first = await (await admin.form(TEST_ADMIN.username, TEST_ADMIN.password))();
    const alone = Date.now() - started;
    assert.equal(first.status, 303, first.body);
    assert.ok(admin.cookies.has('enroll_device'), 'the browser is now a known device');
    admin.cookies.delete('enroll_session'); // the session ended; the browser remains
    t.diagnostic(`a sign-in alone: ${alone} ms`);

    // One bogus sign-in first: unknown names are checked against a dummy hash made on first use, and
    // the flood should meet a portal that has it, as a real one would.
    started = Date.now();
    const warmUp = await (await new SocketBrowser(port, '127.0.0.3').form('nobody', 'a wrong password'))();
    assert.equal(warmUp.status, 401);
    t.diagnostic(`a bogus sign-in alone (with the dummy hash made): ${Date.now() - started} ms`);

    const flood = await Promise.all(
      Array.from({ length: FLOOD }, (_, i) =>
        new SocketBrowser(port, `127.0.1.${i + 1}`).form(`bogus${i}`, 'a wrong password'),
      ),
    );
    const mine = await admin.form(TEST_ADMIN.username, TEST_ADMIN.password);
    started = Date.now();
    // Counted in order, not in time: how many of the flood's checks had answered when the admin's did.
    let checkedSoFar = 0;
    const bogus = flood.map((send) =>
      send().then((response) => {
        if (response.status === 401) checkedSoFar++;
        return response;
      }),
    );
    const adminResponse = await mine();
    const checkedBefore = checkedSoFar;
    const duringFlood = Date.now() - started;
    const statuses = (await Promise.all(bogus)).map((response) => response.status);
    const floodOver = Date.now() - started;

    const checked = statuses.filter((status) => status === 401).length;
    // Two checks at a time, plus the admin's in the reserved slot.
    const perCheck = floodOver / Math.ceil(checked / 2);
    t.diagnostic(
      `the admin during the flood: ${adminResponse.status} after ${duringFlood} ms, ` +
        `${checkedBefore} of the flood's checks answered before`,
    );
    t.diagnostic(
      `the flood: ${checked} checked (401), ${statuses.filter((s) => s === 503).length} shed (503), ` +
        `over after ${floodOver} ms, ${Math.round(perCheck)} ms a check`,
    );
    assert.equal(adminResponse.status, 303, adminResponse.body);
    // The admin's check runs beside the flood's, not behind it. Counted in order, which a loaded
    // machine does not blur as it blurs times: beside the flood, the two checks that started with the
    // admin's (sometimes the next two) answer first; behind it, all of them (ten, two at a time).
    assert.ok(
      checkedBefore <= checked / 2 + 1,
      `the admin answered after ${checkedBefore} of ${checked} checks (${duringFlood} ms, ` +
        `${(duringFlood / perCheck).toFixed(1)} checks' time; the flood was over after ${floodOver} ms)`,
    );
    assert.ok(
      statuses.every((status) => status === 401 || status === 503),
      statuses.join(' '),
    );
    assert.ok(statuses.includes(503), 'beyond the line, attempts are shed');
  });
});
