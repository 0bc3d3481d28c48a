/**
 * gantry's egress policy, the control over outbound traffic that Docker does not have:
 * `--egress deny` drops every new connection a container (or every container of a network)
 * opens, except to its own network, to the network's DNS, and to the `--egress-allow`
 * entries (`CIDR[:port[/proto]]`). Replies to inbound connections (published ports) are not
 * affected. This module parses and validates policies; firewall.ts turns them into rules.
 */
import { errors } from '../core/errors.js';
import { formatCidr, parseCidr } from './cidr.js';

/** One allowed destination. */
export interface EgressAllow {
  /** `10.0.0.0/8`, `192.0.2.7/32`. */
  cidr: string;
  /** A port or `from-to` range; none means every port. */
  port?: string;
  /** tcp, udp or sctp; none with a port means tcp and udp. */
  proto?: 'tcp' | 'udp' | 'sctp';
}

/** A policy: `allow` (the default, no rules) or `deny` with exceptions. */
export interface EgressPolicy {
  mode: 'allow' | 'deny';
  allow: EgressAllow[];
}

/** Parses one `--egress-allow` entry: `CIDR`, `IP`, `CIDR:port`, `CIDR:port/proto`, `CIDR:lo-hi/udp`. */
export function parseEgressAllow(entry: string): EgressAllow {
  const fail = () =>
    errors.invalid(`invalid --egress-allow ${JSON.stringify(entry)}: want CIDR[:port[/proto]], e.g. 10.0.0.0/8 or 192.0.2.7:443/tcp`);
  const m = /^([0-9./]+)(?::(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?)?$/i.exec(entry.trim());
  if (!m) throw fail();
  const cidr = parseCidr(m[1] as string);
  if (!cidr) throw fail();
  const out: EgressAllow = { cidr: formatCidr(cidr) };
  if (m[2] !== undefined) {
    const lo = Number(m[2]);
    const hi = m[3] === undefined ? lo : Number(m[3]);
    if (lo < 1 || hi > 65535 || hi < lo) throw fail();
    out.port = lo === hi ? String(lo) : `${lo}-${hi}`;
    if (m[4]) out.proto = m[4].toLowerCase() as EgressAllow['proto'];
  } else if (m[4]) throw fail();
  return out;
}

/** A policy from `--egress` and `--egress-allow` values; undefined when nothing restricts. */
export function parseEgressPolicy(mode: string | undefined, allow: readonly string[]): EgressPolicy | undefined {
  const m = (mode ?? (allow.length > 0 ? 'deny' : 'allow')).trim().toLowerCase();
  if (m !== 'allow' && m !== 'deny') throw errors.invalid(`invalid --egress ${JSON.stringify(mode)}: want allow or deny`);
  if (m === 'allow') {
    if (allow.length > 0) throw errors.invalid('--egress-allow needs --egress deny (everything is allowed otherwise)');
    return undefined;
  }
  return { mode: 'deny', allow: allow.map(parseEgressAllow) };
}

/** An entry as the user would write it. */
export function formatEgressAllow(a: EgressAllow): string {
  return a.cidr + (a.port ? `:${a.port}` : '') + (a.proto ? `/${a.proto}` : '');
}
