/**
 * IPv4 addresses and CIDR blocks as numbers: parsing, containment, overlap, and the choice of
 * a free subnet for a new network. IPv6 is not handled (gantry's networks are IPv4-only, as
 * Docker's are unless `--ipv6`).
 */
import { errors } from '../core/errors.js';

/** An IPv4 block: its first address as an unsigned 32-bit number and its prefix length. */
export interface Cidr {
  base: number;
  prefix: number;
}

/** `10.1.2.3` as an unsigned number; undefined when not a dotted quad. */
export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return (((parts[0] as number) << 24) | ((parts[1] as number) << 16) | ((parts[2] as number) << 8) | (parts[3] as number)) >>> 0;
}

/** A number as a dotted quad. */
export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * `10.1.0.0/16`. With `strict`, host bits must be zero (Docker refuses `10.1.2.3/16` as a
 * subnet: "invalid subnet ... : it should be 10.1.0.0/16"); otherwise they are masked off.
 */
export function parseCidr(s: string, strict = false): Cidr | undefined {
  const [addr, len, extra] = s.trim().split('/');
  if (extra !== undefined || addr === undefined) return undefined;
  const ip = parseIPv4(addr);
  const prefix = len === undefined ? 32 : /^\d{1,2}$/.test(len) ? Number(len) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) return undefined;
  const base = (ip & mask(prefix)) >>> 0;
  if (strict && base !== ip) return undefined;
  return { base, prefix };
}

/** A block as text. */
export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

/** True when address `ip` lies in `c`. */
export function contains(c: Cidr, ip: number): boolean {
  return ((ip & mask(c.prefix)) >>> 0) === c.base;
}

/** True when the two blocks share an address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & mask(p)) >>> 0) === ((b.base & mask(p)) >>> 0);
}

/** The last address of a block. */
export function lastAddress(c: Cidr): number {
  return (c.base | ~mask(c.prefix)) >>> 0;
}

/** Parses a subnet the way `network create --subnet` wants it, with Docker's wording. */
export function requireSubnet(s: string): Cidr {
  const c = parseCidr(s);
  if (!c || !s.includes('/')) throw errors.invalid(`invalid subnet ${s} : invalid CIDR address: ${s}`);
  if (c.prefix > 30) throw errors.invalid(`invalid subnet ${s}: the subnet is too small for a gateway and a container`);
  const strict = parseCidr(s, true);
  if (!strict) throw errors.invalid(`invalid subnet ${s} : it should be ${formatCidr(c)}`);
  return c;
}

/**
 * The first /16 (from 10.88.0.0/16 up to 10.199.0.0/16, then 192.168.x.0/24 blocks... as
 * Docker's default pools do) that overlaps none of `taken`. Throws when all are taken.
 */
export function pickSubnet(taken: readonly Cidr[]): Cidr {
  const candidates: Cidr[] = [];
  for (let b = 88; b <= 199; b++) candidates.push({ base: parseIPv4(`10.${b}.0.0`) as number, prefix: 16 });
  for (let b = 0; b <= 255; b++) candidates.push({ base: parseIPv4(`192.168.${b}.0`) as number, prefix: 24 });
  const free = candidates.find((c) => !taken.some((t) => t.prefix > 0 && overlaps(c, t)));
  if (!free) {
    throw errors.precondition('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network', {
      hint: 'remove unused networks (gantry network prune) or give --subnet',
    });
  }
  return free;
}
