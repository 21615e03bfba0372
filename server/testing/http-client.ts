// A signed-in admin over real HTTP (fetch): keeps its cookies (session, CSRF secret) and the form's CSRF token.
// Used where the portal runs as its own process: crash tests and benchmarks.
export interface Credentials {
  username: string;
  password: string;
}

export async function signedInClient(base: string, admin: Credentials) {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
  const keep = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  };
  const token = async (url: string) =>
    /name="_csrf" value="([^"]+)"/.exec(
      await keep(await fetch(base + url, { headers: { cookie: cookieHeader() } })).text(),
    )![1]!;
  const post = async (url: string, fields: Record<string, string>) =>
    keep(
      await fetch(base + url, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields),
      }),
    );
  const signedIn = await post('/login', { _csrf: await token('/login'), ...admin });
  if (signedIn.status !== 303) throw new Error(`sign-in answered ${signedIn.status}`);
  const csrf = await token('/certificates/new');
  return {
    /** GETs a page with the admin's cookies (the redirect target of a POST, as a browser follows it). */
    get: async (url: string) => keep(await fetch(base + url, { headers: { cookie: cookieHeader() } })),
    /** POSTs the issue form; resolves with the response (303 on success). */
    issue: (username: string) =>
      post('/certificates', { _csrf: csrf, username, email: `${username}@example.org`, days: '365' }),
  };
}

/** Polls until GET /healthz answers 200. */
export async function waitUntilHealthy(base: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${base} did not become healthy`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
