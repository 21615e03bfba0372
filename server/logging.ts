// Log options: fastify's pino, with passwords, tokens, passphrases and cookies redacted.
const REDACT = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  '*.password',
  '*.passphrase',
  '*.token',
  '*._csrf',
];

/** Request URLs are logged without their query's token (the setup link). */
function requestSerializer(request: { method: string; url: string; ip?: string }) {
  return { method: request.method, url: request.url.replace(/([?&]token=)[^&]*/g, '$1[redacted]'), ip: request.ip };
}

export function loggerOptions(level: string, stream?: NodeJS.WritableStream) {
  return {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: { req: requestSerializer },
    ...(stream ? { stream } : {}),
  };
}
