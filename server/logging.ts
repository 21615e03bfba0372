// Log options: fastify's pino, with passwords, tokens, passphrases and cookies redacted, and the
// one-time secrets that travel in query strings (setup links, passphrase tickets) kept out of the
// access log's URLs.
const REDACT = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  '*.password',
  '*.passphrase',
  '*.token',
  '*.ticket',
  '*._csrf',
];

/** Query parameters whose values are secrets: the setup link's token, the result page's tickets. */
const SECRET_PARAMETERS = new Set(['token', 'ticket', 'download']);

/** A pickup link's token stands in the path: /pickup/<22 characters>[/…]. */
const PICKUP_TOKEN = /^\/pickup\/[A-Za-z0-9_-]{22}(?=[/?#]|$)/;

function parameterName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

function decodedValue(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/** The URL with the values of secret query parameters replaced by `[redacted]`. */
export function redactUrl(path: string, depth = 0): string {
  const url = path.replace(PICKUP_TOKEN, '/pickup/[redacted]');
  const queryAt = url.indexOf('?');
  if (queryAt === -1) return url;
  const hashAt = url.indexOf('#', queryAt);
  const end = hashAt === -1 ? url.length : hashAt;
  const query = url
    .slice(queryAt + 1, end)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals === -1) return pair;
      const name = parameterName(pair.slice(0, equals));
      if (SECRET_PARAMETERS.has(name)) return `${pair.slice(0, equals)}=[redacted]`;
      // The sign-in page's `next` carries the URL asked for, its tickets with it: redacted inside.
      if (name === 'next' && depth < 3) {
        const value = decodedValue(pair.slice(equals + 1));
        const redacted = redactUrl(value, depth + 1);
        return redacted === value ? pair : `${pair.slice(0, equals)}=${encodeURIComponent(redacted)}`;
      }
      return pair;
    })
    .join('&');
  return `${url.slice(0, queryAt)}?${query}${url.slice(end)}`;
}

function requestSerializer(request: { method: string; url: string; ip?: string }) {
  return { method: request.method, url: redactUrl(request.url), ip: request.ip };
}

export function loggerOptions(level: string, stream?: NodeJS.WritableStream) {
  return {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: { req: requestSerializer },
    ...(stream ? { stream } : {}),
  };
}
