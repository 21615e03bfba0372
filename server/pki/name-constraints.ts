// X.509 name constraints (RFC 5280 4.2.1.10) of the CA: what limits the damage of a stolen CA key or
// a careless signature. Phones and browsers that trust the portal's CA trust it for every site; a CA
// whose constraints permit only the broker's names cannot mint a certificate any of them accepts for
// another site. Encoding for a new CA, decoding of any CA's extension, and the match OpenSSL applies.
import { isIP } from 'node:net';
import forge from 'node-forge';

const { asn1 } = forge;
// node-forge has these, its type definitions do not.
const ipUtil = forge.util as unknown as {
  bytesFromIP(ip: string): string | null;
  bytesToIP(bytes: string): string | null;
};

/**
 * The one DNS name every client certificate of a constrained CA carries. OpenSSL checks a client
 * certificate's CN against DNS name constraints when the certificate has no DNS subjectAltName, and
 * takes a CN with a dot (`j.smith`) for a DNS name: with the broker's names permitted, such a person
 * would be refused. A DNS subjectAltName switches that check off; this one is permitted by the CA
 * and, under `.invalid` (RFC 6761), can never name a real host.
 */
export const CLIENT_DNS_NAME = 'client.invalid';

/** An IP range: address and mask of equal length (4 or 16 bytes). */
export interface IpRange {
  address: Buffer;
  mask: Buffer;
}

export interface NameConstraints {
  permittedDns: string[];
  excludedDns: string[];
  permittedIps: IpRange[];
  excludedIps: IpRange[];
  /** Whether any other kind of subtree (email, URI, directory name) is present; kept for display. */
  other: boolean;
}

/** The server names a new CA permits: host names (and everything below them) and single addresses. */
export interface ServerNames {
  hosts: string[];
  ips: string[];
}

function ipBytes(ip: string): Buffer {
  const bytes = ipUtil.bytesFromIP(ip);
  if (!bytes) throw new RangeError(`Not an IP address: ${ip}`);
  return Buffer.from(bytes, 'binary');
}

const context = (tag: number, constructed: boolean, value: string | forge.asn1.Asn1[]) =>
  asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, constructed, value);
const subtree = (base: forge.asn1.Asn1) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [base]);
const dnsSubtree = (name: string) => subtree(context(2, false, name.toLowerCase()));
const ipSubtree = (range: IpRange) =>
  subtree(context(7, false, Buffer.concat([range.address, range.mask]).toString('binary')));

const ALL_V4: IpRange = { address: Buffer.alloc(4), mask: Buffer.alloc(4) };
const ALL_V6: IpRange = { address: Buffer.alloc(16), mask: Buffer.alloc(16) };

/**
 * The constraints of a new CA: the given host names and CLIENT_DNS_NAME permitted; the given
 * addresses permitted one by one; an address family with none listed excluded whole (an excluded
 * range wins over a permitted one, so only families without a listed address are excluded).
 */
export function serverNameConstraints(names: ServerNames): NameConstraints {
  const hosts = [...new Set([...names.hosts.map((h) => h.toLowerCase()), CLIENT_DNS_NAME])];
  const ips = [...new Set(names.ips)].map((ip) => {
    const address = ipBytes(ip);
    return { address, mask: Buffer.alloc(address.length, 0xff) };
  });
  return {
    permittedDns: hosts,
    excludedDns: [],
    permittedIps: ips,
    excludedIps: [
      ...(ips.some((r) => r.address.length === 4) ? [] : [ALL_V4]),
      ...(ips.some((r) => r.address.length === 16) ? [] : [ALL_V6]),
    ],
    other: false,
  };
}

/** The extension for node-forge: critical, so a verifier that cannot apply it refuses the CA. */
export function nameConstraintsExtension(constraints: NameConstraints): object {
  const trees: forge.asn1.Asn1[] = [];
  const permitted = [...constraints.permittedDns.map(dnsSubtree), ...constraints.permittedIps.map(ipSubtree)];
  const excluded = [...constraints.excludedDns.map(dnsSubtree), ...constraints.excludedIps.map(ipSubtree)];
  if (permitted.length) trees.push(context(0, true, permitted));
  if (excluded.length) trees.push(context(1, true, excluded));
  return {
    id: '2.5.29.30',
    critical: true,
    value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, trees),
  };
}

interface ForgeSubtree {
  type: number;
  value: string;
}

/** The CA's constraints, or null when its certificate has none (every CA made before, most imported ones). */
export function readNameConstraints(cert: forge.pki.Certificate): NameConstraints | null {
  const extension = cert.getExtension('nameConstraints') as {
    permittedSubtrees?: ForgeSubtree[];
    excludedSubtrees?: ForgeSubtree[];
  } | null;
  if (!extension) return null;
  const result: NameConstraints = {
    permittedDns: [],
    excludedDns: [],
    permittedIps: [],
    excludedIps: [],
    other: false,
  };
  const take = (trees: ForgeSubtree[] | undefined, dns: string[], ips: IpRange[]) => {
    for (const tree of trees ?? []) {
      if (tree.type === 2) dns.push(tree.value.toLowerCase());
      else if (tree.type === 7) {
        const bytes = Buffer.from(tree.value, 'binary');
        const half = bytes.length / 2;
        ips.push({ address: bytes.subarray(0, half), mask: bytes.subarray(half) });
      } else result.other = true;
    }
  };
  take(extension.permittedSubtrees, result.permittedDns, result.permittedIps);
  take(extension.excludedSubtrees, result.excludedDns, result.excludedIps);
  return result;
}

/** RFC 5280 and OpenSSL: `example.org` covers itself and every name below it; `.example.org` only below. */
function dnsWithin(name: string, base: string): boolean {
  if (base === '') return true;
  if (base.startsWith('.')) return name.endsWith(base);
  return name === base || name.endsWith(`.${base}`);
}

function ipWithin(address: Buffer, range: IpRange): boolean {
  if (address.length !== range.address.length) return false;
  return address.every((byte, i) => (byte & range.mask[i]!) === (range.address[i]! & range.mask[i]!));
}

/** Whether a server certificate for this host name or IP address would pass the CA's constraints. */
export function permitsName(constraints: NameConstraints, name: string): boolean {
  if (isIP(name)) {
    const address = ipBytes(name);
    // As OpenSSL: once any address is permitted, every address must fall in a permitted range of its family.
    const permitted = constraints.permittedIps;
    if (permitted.length && !permitted.some((r) => ipWithin(address, r))) return false;
    return !constraints.excludedIps.some((r) => ipWithin(address, r));
  }
  const host = name.toLowerCase();
  if (constraints.permittedDns.length && !constraints.permittedDns.some((base) => dnsWithin(host, base))) return false;
  return !constraints.excludedDns.some((base) => dnsWithin(host, base));
}

function describeRange(range: IpRange): string {
  const address = ipUtil.bytesToIP(range.address.toString('binary')) ?? range.address.toString('hex');
  const bits = [...range.mask].reduce((sum, byte) => sum + byte.toString(2).replace(/0/g, '').length, 0);
  return bits === range.address.length * 8 ? address : `${address}/${bits}`;
}

/** The names a constrained CA may sign for, as people read them (CLIENT_DNS_NAME left out). */
export function permittedNames(constraints: NameConstraints): string[] {
  return [
    ...constraints.permittedDns.filter((name) => name !== CLIENT_DNS_NAME),
    ...constraints.permittedIps.map(describeRange),
  ];
}
