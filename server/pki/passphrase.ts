// Bundle passphrases: CSPRNG, 118 bits, lower-case letters and digits without look-alikes
// (no 0/o, 1/l/i), in groups of four so they can be read out and typed on a phone.
import { randomInt } from 'node:crypto';

export const PASSPHRASE_ALPHABET = '23456789abcdefghjkmnpqrstuvwxyz';
const GROUPS = 6;
const GROUP_LENGTH = 4;

/** Entropy in bits of a generated passphrase. */
export const PASSPHRASE_BITS = GROUPS * GROUP_LENGTH * Math.log2(PASSPHRASE_ALPHABET.length);

export function generatePassphrase(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let group = '';
    for (let i = 0; i < GROUP_LENGTH; i++) group += PASSPHRASE_ALPHABET[randomInt(PASSPHRASE_ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}
