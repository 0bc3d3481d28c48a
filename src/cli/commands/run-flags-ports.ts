/**
 * `-p`/`--publish` and `--expose` for `gantry create`/`run` (go-connections nat, moby api
 * network), with their wording. Used by run-flags.ts.
 */
import { isIP } from 'node:net';
import { cut, invalid } from './run-flags-go.js';

/** HostConfig.PortBindings: `port/proto` to the host bindings published for it. */
export type PortMap = Record<string, { HostIp?: string; HostPort?: string }[]>;
/** Config.ExposedPorts: the set of `port/proto`. */
export type PortSet = Record<string, Record<string, never>>;

/** nat's parsePortNumber: 0–65535, decimal with an optional sign. */
function parsePortNumber(raw: string): number {
  if (raw === '') throw new Error('value is empty');
  if (!/^[+-]?\d+$/.test(raw)) throw new Error('invalid syntax');
  const n = Number(raw);
  if (n < 0 || n > 65535) throw new Error('value out of range (0–65535)');
  return n;
}

/** nat's parsePortRange: `80` or `8000-8010`. */
function parsePortRange(ports: string): [number, number] {
  if (ports === '') throw new Error('empty string specified for ports');
  const [start, end, isRange] = cut(ports, '-');
  const lo = parsePortNumber(start);
  if (!isRange || start === end) return [lo, lo];
  const hi = parsePortNumber(end);
  if (hi < lo) throw new Error(`invalid port range: ${ports}`);
  return [lo, hi];
}

/** `-p [ip:][hostPort:]containerPort[/proto]` (ranges allowed) or the long `published=...,target=...` form. */
export function parsePublish(specs: string[]): { exposedPorts: PortSet; portBindings: PortMap } {
  const exposedPorts: PortSet = {};
  const portBindings: PortMap = {};
  for (const spec of specs.map(toStandardNotation)) {
    for (const [port, binding] of parsePortSpec(spec)) {
      exposedPorts[port] = {};
      (portBindings[port] ??= []).push(binding);
    }
  }
  return { exposedPorts, portBindings };
}

/** docker/cli convertToStandardNotation: `published=8080,target=80[,protocol=udp]` → `8080:80/udp`. */
function toStandardNotation(publish: string): string {
  if (!publish.includes('=')) return publish;
  const params: Record<string, string> = { protocol: 'tcp' };
  for (const param of publish.split(',')) {
    const [k, v, ok] = cut(param, '=');
    if (!ok || k === '') throw invalid(`invalid publish opts format (should be name=value but got '${param}')`);
    params[k] = v;
  }
  return `${params.published ?? ''}:${params.target ?? ''}/${params.protocol ?? ''}`;
}

/** nat.ParsePortSpec: one spec into (port, binding) pairs. */
function parsePortSpec(raw: string): [string, { HostIp: string; HostPort: string }][] {
  const parts = raw.split(':');
  const n = parts.length;
  let ip = n > 2 ? parts.slice(0, n - 2).join(':') : '';
  const hostPort = n > 1 ? (parts[n - 2] as string) : '';
  const [containerPort, protoRaw] = cut(parts[n - 1] as string, '/');
  if (containerPort === '') throw invalid(`no port specified: ${raw}<empty>`);
  const proto = (protoRaw || 'tcp').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw invalid(`invalid proto: ${proto}`);
  if (ip.startsWith('[')) {
    if (!ip.endsWith(']')) throw invalid(`invalid IP address ${ip}: address ${ip}:: missing ']' in address`);
    ip = ip.slice(1, -1);
  }
  if (ip !== '' && isIP(ip) === 0) throw invalid(`invalid IP address: ${ip}`);
  let start: number, end: number;
  try {
    [start, end] = parsePortRange(containerPort);
  } catch {
    throw invalid(`invalid containerPort: ${containerPort}`);
  }
  let hostStart = 0, hostEnd = 0;
  if (hostPort !== '') {
    try {
      [hostStart, hostEnd] = parsePortRange(hostPort);
    } catch {
      throw invalid(`invalid hostPort: ${hostPort}`);
    }
    // A host range with a single container port is the range to pick a free host port from.
    if (end - start !== hostEnd - hostStart && end !== start) {
      throw invalid(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
    }
  }
  const count = end - start + 1;
  const out: [string, { HostIp: string; HostPort: string }][] = [];
  for (let i = 0; i < count; i++) {
    let hPort = '';
    if (hostPort !== '') {
      hPort = String(hostStart + i);
      if (count === 1 && hostStart !== hostEnd) hPort += `-${hostEnd}`;
    }
    out.push([`${start + i}/${proto}`, { HostIp: ip, HostPort: hPort }]);
  }
  return out;
}

/** `--expose 80`, `--expose 8000-8010/udp` into ExposedPorts (moby network.ParsePortRange). */
export function exposePorts(spec: string, exposed: PortSet): void {
  const fail = (cause: string) => invalid(`invalid range format for --expose: ${cause}`);
  if (spec === '') throw fail('invalid port range: value is empty');
  const [range, protoRaw] = cut(spec, '/');
  const proto = (protoRaw || 'tcp').toLowerCase();
  const parse = (s: string, which: string) => {
    if (s === '') throw fail(`invalid ${which} port '${s}': value is empty`);
    if (!/^\d+$/.test(s)) throw fail(`invalid ${which} port '${s}': invalid syntax`);
    if (Number(s) > 65535) throw fail(`invalid ${which} port '${s}': value out of range`);
    return Number(s);
  };
  const [startRaw, endRaw, isRange] = cut(range, '-');
  const start = parse(startRaw, 'start');
  const end = !isRange || startRaw === endRaw ? start : parse(endRaw, 'end');
  if (end < start) throw fail(`invalid port range: ${spec}`);
  for (let p = start; p <= end; p++) exposed[`${p}/${proto}`] = {};
}
