// Runs the real openssl CLI over files in a scratch folder: the peer every PKI test answers to.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './temp-dir.js';

const execFileAsync = promisify(execFile);

export interface OpensslResult {
  ok: boolean;
  code: number;
  stdout: string;
  stderr: string;
}

export class Scratch {
  readonly dir = tempDir('enroll-openssl-');
  /** Writes a file and returns its path. */
  file(name: string, content: string | Buffer): string {
    const file = path.join(this.dir, name);
    writeFileSync(file, content);
    return file;
  }
  path(name: string): string {
    return path.join(this.dir, name);
  }
}

export async function openssl(args: string[], options: { cwd?: string } = {}): Promise<OpensslResult> {
  try {
    const { stdout, stderr } = await execFileAsync('openssl', args, { cwd: options.cwd, maxBuffer: 64 * 1024 * 1024 });
    return { ok: true, code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { ok: false, code: failure.code ?? -1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
  }
}
