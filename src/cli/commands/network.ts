/**
 * Network commands: network create, ls / list, inspect, rm / remove, prune, connect,
 * disconnect — Docker's flags, output and messages (docker/cli cli/command/network), plus
 * gantry's `--egress`/`--egress-allow` on create.
 */
import type { Command } from 'commander';
import { errors } from '../../core/errors.js';
import { type NetworkInspect, parseEgressPolicy } from '../../engine/engine.js';
import type { CliContext } from '../context.js';
import { exitCodeOf, renderError, UsageError } from '../errors.js';
import { asMap } from '../format/go-values.js';
import { formatRows } from '../format/table.js';
import { collect } from '../options.js';
import { confirm } from '../prompt.js';
import { writeInspect } from './images.js';

type Ctx = () => CliContext;

interface CreateOpts {
  driver: string;
  subnet: string[];
  gateway: string[];
  ipRange: string[];
  internal?: boolean;
  attachable?: boolean;
  ipv6?: boolean;
  label: string[];
  opt: string[];
  ipamOpt: string[];
  ipamDriver?: string;
  egress?: string;
  egressAllow: string[];
}

/** Adds `network` and its subcommands. */
export function registerNetworkCommands(program: Command, getCtx: Ctx): void {
  const network = program.command('network').description('Manage networks');
  network.action(() => network.help());

  network
    .command('create')
    .description('Create a network')
    .argument('<NETWORK>')
    .option('-d, --driver <string>', 'Driver to manage the Network', 'bridge')
    .option('--subnet <strings>', 'Subnet in CIDR format that represents a network segment', collect, [])
    .option('--gateway <strings>', 'IPv4 or IPv6 Gateway for the master subnet', collect, [])
    .option('--ip-range <strings>', 'Allocate container ip from a sub-range', collect, [])
    .option('--internal', 'Restrict external access to the network')
    .option('--attachable', 'Enable manual container attachment')
    .option('--ipv6', 'Enable or disable IPv6 networking')
    .option('--label <list>', 'Set metadata on a network', collect, [])
    .option('-o, --opt <map>', 'Set driver specific options', collect, [])
    .option('--ipam-driver <string>', 'IP Address Management Driver', 'default')
    .option('--ipam-opt <map>', 'Set IPAM driver specific options', collect, [])
    .option('--egress <allow|deny>', "gantry: containers' outbound traffic: allow (default) or deny all but --egress-allow")
    .option('--egress-allow <CIDR[:port[/proto]]>', 'gantry: a destination containers may reach under --egress deny', collect, [])
    .action((name: string, o: CreateOpts) => createNetwork(getCtx(), name, o));

  network
    .command('ls')
    .alias('list')
    .description('List networks')
    .option('-f, --filter <filter>', "Provide filter values (e.g. 'driver=bridge')", collect, [])
    .option('--format <string>', 'Format output using a custom template')
    .option('--no-trunc', 'Do not truncate the output')
    .option('-q, --quiet', 'Only display network IDs')
    .action((o: { filter: string[]; format?: string; trunc: boolean; quiet?: boolean }) => listNetworks(getCtx(), o));

  network
    .command('inspect')
    .description('Display detailed information on one or more networks')
    .argument('<NETWORK...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .option('-v, --verbose', 'Verbose output for diagnostics')
    .action((names: string[], o: { format?: string }) => inspectNetworks(getCtx(), names, o.format));

  network
    .command('rm')
    .alias('remove')
    .description('Remove one or more networks')
    .argument('<NETWORK...>')
    .option('-f, --force', 'Do not error if the network does not exist')
    .action((names: string[], o: { force?: boolean }) => removeNetworks(getCtx(), names, o.force ?? false));

  network
    .command('prune')
    .description('Remove all unused networks')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect, [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .action((o: { filter: string[]; force?: boolean }) => pruneNetworks(getCtx(), o));

  network
    .command('connect')
    .description('Connect a container to a network')
    .argument('<NETWORK>')
    .argument('<CONTAINER>')
    .option('--alias <strings>', 'Add network-scoped alias for the container', collect, [])
    .option('--ip <string>', 'IPv4 address (e.g., "172.30.100.104")')
    .option('--ip6 <string>', 'IPv6 address (e.g., "2001:db8::33")')
    .option('--link <list>', 'Add link to another container', collect, [])
    .action(async (net: string, ctr: string, o: { alias: string[]; ip?: string; ip6?: string; link: string[] }) => {
      if (o.ip6) throw errors.invalid('gantry networks are IPv4-only: --ip6 is not supported');
      if (o.link.length > 0) throw errors.invalid('--link is not supported: containers on a user-defined network resolve each other by name');
      await getCtx().engine().connectNetwork(net, ctr, { aliases: o.alias, ipv4: o.ip });
    });

  network
    .command('disconnect')
    .description('Disconnect a container from a network')
    .argument('<NETWORK>')
    .argument('<CONTAINER>')
    .option('-f, --force', 'Force the container to disconnect from a network')
    .action(async (net: string, ctr: string, o: { force?: boolean }) => {
      await getCtx().engine().disconnectNetwork(net, ctr, o.force ?? false);
    });
}

/** `key=value` items as a map (`key` alone maps to ""). */
function keyValues(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    out[eq < 0 ? item : item.slice(0, eq)] = eq < 0 ? '' : item.slice(eq + 1);
  }
  return out;
}

async function createNetwork(ctx: CliContext, name: string, o: CreateOpts): Promise<void> {
  if (o.ipv6) throw errors.invalid('gantry networks are IPv4-only: --ipv6 is not supported yet');
  if (o.ipamDriver && o.ipamDriver !== 'default') throw errors.notFound(`plugin "${o.ipamDriver}" not found`);
  for (const [flag, values] of [['--subnet', o.subnet], ['--gateway', o.gateway], ['--ip-range', o.ipRange]] as const) {
    if (values.length > 1) throw errors.invalid(`gantry networks take one ${flag} (IPv4) for now`);
  }
  const res = await ctx.engine().networks.create({
    name,
    driver: o.driver,
    subnet: o.subnet[0],
    gateway: o.gateway[0],
    ipRange: o.ipRange[0],
    internal: o.internal ?? false,
    attachable: o.attachable ?? false,
    labels: keyValues(o.label),
    options: keyValues(o.opt),
    ipamOptions: keyValues(o.ipamOpt),
    egress: parseEgressPolicy(o.egress, o.egressAllow),
  });
  ctx.out(res.Id);
}

/** Docker's network filters: driver, id, label, name, scope, type, dangling. */
function matches(n: NetworkInspect, filters: string[]): boolean {
  const byKey = new Map<string, string[]>();
  for (const raw of filters) {
    const eq = raw.indexOf('=');
    if (eq < 0) throw new UsageError(`invalid argument "${raw}" for "-f, --filter" flag: bad format of filter (expected name=value)`, 'network ls');
    const k = raw.slice(0, eq).trim().toLowerCase();
    byKey.set(k, [...(byKey.get(k) ?? []), raw.slice(eq + 1).trim()]);
  }
  const builtin = ['bridge', 'host', 'none'].includes(n.Name) && (n.Options['com.docker.network.bridge.default_bridge'] === 'true' || n.Driver !== 'bridge');
  for (const [k, values] of byKey) {
    const ok = values.some((v) => {
      switch (k) {
        case 'driver':
          return n.Driver === v;
        case 'id':
          return n.Id.startsWith(v);
        case 'name':
          return n.Name.includes(v);
        case 'scope':
          return v === 'local';
        case 'type':
          if (v !== 'custom' && v !== 'builtin') throw errors.invalid(`invalid filter: 'type'='${v}'`);
          return v === 'builtin' ? builtin : !builtin;
        case 'label': {
          const eq = v.indexOf('=');
          return eq < 0 ? v in n.Labels : n.Labels[v.slice(0, eq)] === v.slice(eq + 1);
        }
        case 'dangling':
          return (v === 'true' || v === '1') === (!builtin && Object.keys(n.Containers).length === 0);
        default:
          throw errors.invalid(`invalid filter '${k}'`);
      }
    });
    if (!ok) return false;
  }
  return true;
}

function listNetworks(ctx: CliContext, o: { filter: string[]; format?: string; trunc: boolean; quiet?: boolean }): void {
  const nets = ctx
    .engine()
    .networks.list()
    .filter((n) => matches(n, o.filter))
    .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  const id = (n: NetworkInspect) => (o.trunc ? n.Id.slice(0, 12) : n.Id);
  if (o.quiet && (o.format === undefined || o.format === '' || o.format === 'table')) {
    for (const n of nets) ctx.out(id(n));
    return;
  }
  const rows = nets.map((n) => ({
    ID: id(n),
    Name: n.Name,
    Driver: n.Driver,
    Scope: n.Scope,
    IPv4: String(n.EnableIPv4),
    IPv6: String(n.EnableIPv6),
    Internal: String(n.Internal),
    CreatedAt: n.Created.replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
    Labels: Object.keys(n.Labels)
      .sort()
      .map((k) => `${k}=${n.Labels[k]}`)
      .join(','),
    Label: (name: string) => n.Labels[name] ?? '',
  }));
  ctx.stdout.write(
    formatRows(o.format, rows, {
      defaultTable: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}',
      headers: { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6', Internal: 'INTERNAL', CreatedAt: 'CREATED AT', Labels: 'LABELS' },
    }),
  );
}

function inspectNetworks(ctx: CliContext, names: string[], format: string | undefined): void {
  const found: NetworkInspect[] = [];
  const failures: unknown[] = [];
  for (const name of names) {
    try {
      found.push(ctx.engine().networks.inspect(name));
    } catch (err) {
      failures.push(err);
    }
  }
  const views = found.map((n) => (format ? { ...n, Labels: asMap({ ...n.Labels }), Options: asMap({ ...n.Options }) } : n));
  writeInspect(ctx, views, format);
  reportFailures(ctx, failures);
}

function reportFailures(ctx: CliContext, failures: unknown[]): void {
  for (const err of failures) {
    ctx.err(renderError(err));
    ctx.fail(exitCodeOf(err));
  }
}

async function removeNetworks(ctx: CliContext, names: string[], force: boolean): Promise<void> {
  const failures: unknown[] = [];
  for (const name of names) {
    try {
      await ctx.engine().networks.remove(name);
      ctx.out(name);
    } catch (err) {
      if (force && (err as { code?: string }).code === 'NOT_FOUND') continue;
      failures.push(err);
    }
  }
  reportFailures(ctx, failures);
}

async function pruneNetworks(ctx: CliContext, o: { filter: string[]; force?: boolean }): Promise<void> {
  if (!o.force) {
    const warning = 'WARNING! This will remove all custom networks not used by at least one container.';
    if (!(await confirm(ctx, `${warning}\nAre you sure you want to continue? [y/N] `))) return;
  }
  const labelFilters = o.filter.filter((f) => f.startsWith('label=') || f.startsWith('label!='));
  const until = o.filter.find((f) => f.startsWith('until='))?.slice('until='.length);
  const cutoff = until ? (/^\d+$/.test(until) ? Number(until) * 1000 : Date.parse(until)) : undefined;
  const removed = await ctx.engine().networks.prune((n) => {
    if (cutoff !== undefined && Date.parse(n.Created) >= cutoff) return true;
    for (const f of labelFilters) {
      const neg = f.startsWith('label!=');
      const v = f.slice(neg ? 7 : 6);
      const eq = v.indexOf('=');
      const has = eq < 0 ? v in n.Labels : n.Labels[v.slice(0, eq)] === v.slice(eq + 1);
      if (has === neg) return true;
    }
    return false;
  });
  if (removed.length > 0) {
    ctx.out('Deleted Networks:');
    for (const name of removed) ctx.out(name);
  }
}
