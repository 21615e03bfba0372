// Security headers and a strict Content Security Policy: no inline scripts or styles anywhere.
import helmet from '@fastify/helmet';
import fp from 'fastify-plugin';

export default fp<{ publicUrl: string }>(
  async (app, options) => {
    const https = options.publicUrl.startsWith('https://');
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          objectSrc: ["'none'"],
          ...(https ? { upgradeInsecureRequests: [] } : {}),
        },
      },
      strictTransportSecurity: https ? { maxAge: 31536000 } : false,
      referrerPolicy: { policy: 'same-origin' },
    });
  },
  { name: 'security', dependencies: [] },
);
