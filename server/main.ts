// The portal's entry point. On Node 22.1 and later it first turns on V8's on-disk compile cache
// (in the system's temporary folder, or NODE_COMPILE_CACHE), so that a restart does not compile
// fastify, zod, MQTT.js and the portal's own modules again (see README, Performance). The
// modules are loaded only after that, hence the dynamic import. Node 20 has no such cache.
import module from 'node:module';

const withCache = module as typeof module & { enableCompileCache?: () => unknown };
withCache.enableCompileCache?.();
await import('./serve.js');
