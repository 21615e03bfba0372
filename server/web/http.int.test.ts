// Over a real listening socket: a client cannot lift the per-address sign-in limit by sending a new
// X-Forwarded-For each time; behind a trusted proxy that appends to the header, the address the
// proxy saw counts; and a request whose body trickles in is cut off by the request timeout.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { Browser, withPortal, type TestPortal } from '../testing/harness.js';
import { HeldMemoryMailer } from '../testing/mailer.js';

/** The portal on 127.0.0.1, its rate limit keyed by address as in production. */
async function listening<T>(
  options: { env?: Record<string, string>; requestTimeoutMs?: number },
  use: (portal: TestPortal, base: string) => Promise<T>,
) {
  return withPortal(
    {
      ...(options.env && { env: options.env }),
      app: { rateLimitKey: undefined, ...(options.requestTimeoutMs && { requestTimeoutMs: options.requestTimeoutMs }) },
    },
    async (portal) => {
      const address = await portal.app.listen({ port: 0, host: '127.0.0.1' });
      return use(portal, address);
    },
  );
}

/** A client with a cookie jar over fetch; `localAddress` picks the loopback address it comes from. */
function client(base: string, localAddress?: string) {
  const cookies = new Map<string, string>();
  const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
      const request = http.request(
        `${base}${path}`,
        { method, localAddress, headers: { ...headers, ...(cookie && { cookie }) } },
        (response) => {
          for (const line of response.headers['set-cookie'] ?? []) {
            const pair = line.split(';')[0]!;
            cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
          }
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode!, body: text }));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  return {
    async wrongSignIn(username: string, headers: Record<string, string> = {}) {
      const page = await send('GET', '/login', headers);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
      const body = new URLSearchParams({ _csrf: csrf, username, password: 'not the password' }).toString();
      return send('POST', '/login', { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body);
    },
  };
}

/** A reverse proxy as nginx's `proxy_add_x_forwarded_for` does it: appends the peer's address. */
async function appendingProxy(target: string) {
  const upstream = new URL(target);
  const server = http.createServer((request, response) => {
    const forwarded = request.headers['x-forwarded-for'];
    const peer = request.socket.remoteAddress!;
    const headers = { ...request.headers, 'x-forwarded-for': forwarded ? `${forwarded}, ${peer}` : peer };
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, path: request.url, method: request.method, headers },
      (answer) => {
        response.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(response);
      },
    );
    request.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const auditedIps = (portal: TestPortal) =>
  portal.db.prepare("SELECT DISTINCT ip FROM audit_log WHERE action = 'sign-in'").pluck().all();

describe('client addresses over HTTP', () => {
  test('TRUST_PROXY unset: 12 wrong sign-ins, each with a new X-Forwarded-For, hit 429 after 10', async () => {
    await listening({}, async (portal, base) => {
      const browser = client(base);
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        const spoofed = { 'x-forwarded-for': `203.0.113.${i + 1}` };
        statuses.push((await browser.wrongSignIn(`nobody${i}`, spoofed)).status);
      }
      assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429]);
      assert.deepEqual(auditedIps(portal), ['127.0.0.1'], 'the socket address is audited, not the header');
    });
  });

  test('TRUST_PROXY=1 behind a proxy that appends: the right-most (proxy-added) address counts', async () => {
    await listening({ env: { TRUST_PROXY: '1' } }, async (portal, base) => {
      const proxy = await appendingProxy(base);
      try {
        const browser = client(proxy.base, '127.0.0.2');
        const statuses: number[] = [];
        for (let i = 0; i < 12; i++) {
          const spoofed = { 'x-forwarded-for': `203.0.113.${i + 1}` };
          statuses.push((await browser.wrongSignIn(`nobody${i}`, spoofed)).status);
        }
        assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429]);
        assert.deepEqual(auditedIps(portal), ['127.0.0.2'], 'the address the proxy saw');
        // Another machine behind the same proxy is its own client.
        assert.equal((await client(proxy.base, '127.0.0.3').wrongSignIn('someone')).status, 401);
      } finally {
        await proxy.close();
      }
    });
  });
});

describe('request timeout', () => {
  test('a POST whose body trickles in is cut off, and the portal still answers others', async () => {
    await listening({ requestTimeoutMs: 500 }, async (_portal, base) => {
      const { port } = new URL(base);
      const socket = net.connect(Number(port), '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (answer += chunk));
      const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
      const started = Date.now();
      socket.write(
        'POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n',
      );
      // One byte every 100 ms: it would take 100 s to finish.
      const trickle = setInterval(() => socket.writable && socket.write('a'), 100);
      try {
        const closedAt = await closed;
        const elapsed = closedAt - started;
        // Cut at its 500 ms, not when the trickle ends (100 s): the upper bound is no speed.
        assert.ok(elapsed >= 400 && elapsed < 30_000, `cut off after ${elapsed} ms`);
        assert.match(answer, /^HTTP\/1\.1 408/);
      } finally {
        clearInterval(trickle);
        socket.destroy();
      }
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
    });
  });
});

describe('the result page of an issue, over a real socket', () => {
  test('a reload while the mail is on its way: the abandoned request does not use up the passphrase', async () => {
    const mailer = new HeldMemoryMailer(); // a mail server that takes its time
    await withPortal({ env: { MQTT_HOST: 'mqtt.example.org' }, deps: { mailer } }, async (portal) => {
      const base = await portal.app.listen({ port: 0, host: '127.0.0.1' });
      const browser = new Browser(portal);
      await browser.signIn();
      const posted = await browser.submit('/certificates/new', '/certificates', {
        username: 'jjolie',
        email: 'jjolie@example.org',
        days: '30',
      });
      const location = String(posted.headers.location);
      const cookie = [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
      const get = () =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const request = http.get(`${base}${location}`, { headers: { cookie } }, (response) => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (text += chunk));
            response.on('end', () => resolve({ status: response.statusCode!, body: text }));
          });
          request.on('error', reject);
        });
      // The first request is given up while it waits (the browser closes its connection), as a
      // reload does; the reload's request waits in turn.
      const abandoned = http.get(`${base}${location}`, { headers: { cookie } });
      abandoned.on('error', () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      abandoned.destroy();
      const reload = get();
      await new Promise((resolve) => setTimeout(resolve, 100));
      mailer.accept();
      const shown = await reload;
      assert.equal(shown.status, 200);
      assert.match(shown.body, /data-testid="passphrase">[^<]+</, 'the passphrase, on the page the admin sees');
    });
  });
});
