// Certificate serial numbers: 16 CSPRNG bytes, top bit cleared so the DER INTEGER is positive,
// and a non-zero first byte so the encoding stays 16 octets and minimal.
import { randomBytes } from 'node:crypto';

export const SERIAL_BYTES = 16;

export function randomSerial(): string {
  for (;;) {
    const bytes = randomBytes(SERIAL_BYTES);
    bytes[0]! &= 0x7f;
    if (bytes[0] !== 0) return bytes.toString('hex');
  }
}
