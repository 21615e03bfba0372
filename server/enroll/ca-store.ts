// The CA's files under DATA_DIR: ca.crt (0644, the broker's cafile) and ca.key (0600).
// Made on first start, loaded and checked at every later one, replaced by `import-ca`.
import { existsSync, readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import path from 'node:path';
import { writeFileAtomic } from '../files.js';
import { CaError, createCa, exportCaKey, loadCa, type Ca } from '../pki/ca.js';

export interface CaPaths {
  cert: string;
  key: string;
}

export function caPaths(dataDir: string): CaPaths {
  return { cert: path.join(dataDir, 'ca.crt'), key: path.join(dataDir, 'ca.key') };
}

export interface CaOptions {
  commonName: string;
  passphrase: string | undefined;
  now: Date;
}

/** Loads the CA from DATA_DIR, making one first when neither file exists. */
export async function loadOrCreateCa(dataDir: string, options: CaOptions): Promise<{ ca: Ca; created: boolean }> {
  const paths = caPaths(dataDir);
  const hasCert = existsSync(paths.cert);
  const hasKey = existsSync(paths.key);
  if (!hasCert && !hasKey) {
    const made = await createCa(options.commonName, options.now);
    // The key first: a certificate without its key would be useless, a key alone is reported below.
    writeFileAtomic(paths.key, exportCaKey(createPrivateKey(made.keyPem), options.passphrase), 0o600);
    writeFileAtomic(paths.cert, made.certPem, 0o644);
    return { ca: loadCa(made.certPem, made.keyPem, undefined, options.now), created: true };
  }
  if (!hasCert)
    throw new CaError(`${paths.key} exists but ${paths.cert} does not: restore ca.crt or remove both to make a new CA`);
  if (!hasKey)
    throw new CaError(`${paths.cert} exists but ${paths.key} does not: restore ca.key (from a backup) to keep issuing`);
  const ca = loadCa(readFileSync(paths.cert, 'utf8'), readFileSync(paths.key, 'utf8'), options.passphrase, options.now);
  return { ca, created: false };
}

/** Whether ca.key is stored without encryption (the portal warns about it). */
export function isCaKeyEncrypted(dataDir: string): boolean {
  return readFileSync(caPaths(dataDir).key, 'utf8').includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
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
  const ca = loadCa(options.certPem, options.keyPem, options.importPassphrase, options.now);
  const paths = caPaths(dataDir);
  writeFileAtomic(paths.key, exportCaKey(ca.key, options.storePassphrase), 0o600);
  writeFileAtomic(paths.cert, ca.certPem, 0o644);
  return ca;
}
