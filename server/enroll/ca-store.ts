// The CA's files under DATA_DIR: ca.crt (0644, the broker's cafile) and ca.key (0600).
// Made on first start, loaded and checked at every later one, replaced by `import-ca`.
import { createPrivateKey } from 'node:crypto';
import { isIP } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { dataFiles, enforceDataDirModes } from '../data-dir.js';
import { StartupError } from '../errors.js';
import { writeFileAtomic } from '../files.js';
import { CaError, caKeyUsageProblem, createCa, exportCaKey, isEncryptedKeyPem, loadCa, type Ca } from '../pki/ca.js';
import type { ServerNames } from '../pki/name-constraints.js';
import { namesOutsideCa } from './rules.js';

export interface CaOptions {
  commonName: string;
  /** The broker names a CA made now permits (its name constraints); ignored when the CA exists. */
  serverNames: ServerNames;
  passphrase: string | undefined;
  now: Date;
}

/** A CA problem as one line naming what to do about it (the setting, the file). */
function startupError(error: unknown): unknown {
  if (!(error instanceof CaError)) return error;
  return new StartupError(
    error.code === 'needs-passphrase'
      ? 'CA key is encrypted: set CA_KEY_PASSPHRASE or CA_KEY_PASSPHRASE_FILE'
      : error.code === 'wrong-passphrase'
        ? 'CA key passphrase is wrong: check CA_KEY_PASSPHRASE or CA_KEY_PASSPHRASE_FILE'
        : error.message,
  );
}

/** Loads the CA from DATA_DIR, making one first when neither file exists. */
export async function loadOrCreateCa(dataDir: string, options: CaOptions): Promise<{ ca: Ca; created: boolean }> {
  const files = dataFiles(dataDir);
  const hasCert = existsSync(files.caCert);
  const hasKey = existsSync(files.caKey);
  try {
    if (!hasCert && !hasKey) {
      const made = await createCa(options.commonName, options.now, undefined, options.serverNames);
      const key = createPrivateKey(made.keyPem);
      // The key first: a certificate without its key would be useless, a key alone is reported below.
      writeFileAtomic(files.caKey, exportCaKey(key, options.passphrase), 0o600);
      writeFileAtomic(files.caCert, made.certPem, 0o644);
      return { ca: loadCa(made.certPem, key, undefined, options.now), created: true };
    }
    if (!hasCert)
      throw new StartupError(
        `${files.caKey} exists but ${files.caCert} does not: restore ca.crt or remove both to make a new CA`,
      );
    if (!hasKey)
      throw new StartupError(
        `${files.caCert} exists but ${files.caKey} does not: restore ca.key (from a backup) to keep issuing`,
      );
    const ca = loadCa(
      readFileSync(files.caCert, 'utf8'),
      readFileSync(files.caKey, 'utf8'),
      options.passphrase,
      options.now,
    );
    enforceDataDirModes(files); // a CA put in place by hand, or under a strict umask: the broker must read ca.crt
    return { ca, created: false };
  } catch (error) {
    throw startupError(error);
  }
}

/** Whether ca.key is stored encrypted (the portal warns when it is not). */
export function isCaKeyEncrypted(dataDir: string): boolean {
  return isEncryptedKeyPem(readFileSync(dataFiles(dataDir).caKey, 'utf8'));
}

export interface ImportOptions {
  certPem: string;
  keyPem: string;
  /** Passphrase of the key being imported, if it is encrypted. */
  importPassphrase: string | undefined;
  /** CA_KEY_PASSPHRASE: the key is stored encrypted with it. */
  storePassphrase: string | undefined;
  now: Date;
}

/** Adopts an existing CA (e.g. one made by OwnTracks' generate-CA.sh) as this portal's CA. */
export function importCa(dataDir: string, options: ImportOptions): Ca {
  let ca: Ca;
  try {
    ca = loadCa(options.certPem, options.keyPem, options.importPassphrase, options.now);
  } catch (error) {
    throw error instanceof CaError && error.code === 'needs-passphrase'
      ? new StartupError('The key is encrypted: give its passphrase with --passphrase-file')
      : startupError(error);
  }
  const usage = caKeyUsageProblem(ca.certPem);
  if (usage) throw new StartupError(`Refused: ${usage}; the portal signs certificates and the CRL with it`);
  const files = dataFiles(dataDir);
  writeFileAtomic(files.caKey, exportCaKey(ca.key, options.storePassphrase), 0o600);
  writeFileAtomic(files.caCert, ca.certPem, 0o644);
  return ca;
}

/** Why the phones' address (MQTT_HOST) is no name this CA may sign a broker certificate for; undefined when it is. */
export function brokerNameOutsideCa(ca: Pick<Ca, 'nameConstraints'>, host: string | undefined): string | undefined {
  if (!host) return undefined;
  const issues = namesOutsideCa(
    ca.nameConstraints,
    isIP(host) ? { hosts: [], ips: [host] } : { hosts: [host], ips: [] },
  );
  return issues['hosts'] ?? issues['ips'];
}
