// Runs the portal (loaded by main.ts): read the configuration, open DATA_DIR, load the CA, build the
// services and the app, run the start-up work, listen, and shut down cleanly.
import { createServer } from 'node:net';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { openDataDir } from './data-dir.js';
import { brokerNameOutsideCa, isCaKeyEncrypted, loadOrCreateCa } from './enroll/ca-store.js';
import { StartupError } from './errors.js';
import { createServices } from './services.js';
import { setupBanner } from './accounts/setup-token.js';

/**
 * Whether the portal can listen where it is told, before it makes anything (a CA, a setup link):
 * a port in use or an address of another machine is one line naming the setting.
 */
async function checkListen(host: string, port: number): Promise<void> {
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host, port, exclusive: true }, resolve);
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new StartupError(
        `PORT ${port} on ${host} is in use by another program: stop it, or set PORT to a free port`,
      );
    if (code === 'EACCES')
      throw new StartupError(`PORT ${port} needs privileges this user lacks: set PORT to 1024 or above`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAFNOSUPPORT')
      throw new StartupError(
        `HOST ${host} is not an address of this machine: set HOST to one of its addresses (0.0.0.0 for all of them)`,
      );
    throw error;
  } finally {
    await new Promise((resolve) => probe.close(resolve));
  }
}

async function main() {
  const config = loadConfig();
  await checkListen(config.host, config.port);
  const db = openDataDir(config.dataDir);
  const { ca, created } = await loadOrCreateCa(config.dataDir, {
    commonName: config.caCommonName,
    serverNames: config.caServerNames,
    passphrase: config.caKeyPassphrase,
    now: new Date(),
  });
  const caKeyEncrypted = isCaKeyEncrypted(config.dataDir);
  const services = createServices(config, { db, ca, caKeyEncrypted });
  const app = await buildApp(config, services);
  if (created)
    app.log.info(
      `Created a new CA "${config.caCommonName}" in ${config.dataDir}: give ca.crt to the broker as its cafile. ` +
        `It signs server certificates only for ${[...config.caServerNames.hosts, ...config.caServerNames.ips].join(', ')} ` +
        '(CA_SERVER_NAMES, fixed from now on)',
    );
  if (!caKeyEncrypted) app.log.warn('ca.key is stored unencrypted: set CA_KEY_PASSPHRASE to encrypt it at rest');
  const outside = brokerNameOutsideCa(ca, config.mqtt.host);
  if (outside)
    app.log.warn(
      `MQTT_HOST: ${outside}. The portal cannot issue the broker's certificate for that name: give the broker a certificate from another CA (a public one), or start on a new CA made with that name`,
    );

  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info(`${signal} received, shutting down`);
    // Each step's time is logged: a stop that runs past the grace delay shows which step waited.
    const since = performance.now();
    const step = (what: string) => app.log.info(`Shutdown: ${what} after ${Math.round(performance.now() - since)} ms`);
    await app.close(); // stops accepting, lets in-flight requests finish
    step('requests finished');
    await services.stop();
    step('background work stopped');
    db.close();
    step('database closed');
  });

  await services.start(app.log);
  await app.listen({ port: config.port, host: config.host });
  app.log.info(`OwnTracks Enroll is ready at ${config.publicUrl}`);
  // The setup link, where a person looks: not only a JSON log line that request lines push away.
  const setupLink = services.accounts.setupLink();
  if (setupLink) process.stderr.write(setupBanner(setupLink));
}

main().catch((error: unknown) => {
  // Configuration and start-up problems are one clear line, not a stack trace.
  console.error(error instanceof StartupError ? error.message : error);
  process.exit(1);
});
