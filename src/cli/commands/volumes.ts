/**
 * Volume commands: volume create, ls / list, inspect, rm / remove, prune — Docker's flags,
 * output and messages (docker/cli cli/command/volume).
 */
import { type Command, Option } from 'commander';
import { errors } from '../../core/errors.js';
import type { VolumeInfo } from '../../engine/engine.js';
import type { CliContext } from '../context.js';
import { exitCodeOf, renderError, UsageError } from '../errors.js';
import { asMap } from '../format/go-values.js';
import { formatRows } from '../format/table.js';
import { humanSize } from '../format/units.js';
import { collect } from '../options.js';
import { confirm } from '../prompt.js';
import { writeInspect } from './images.js';

type Ctx = () => CliContext;

/** Adds `volume` and its subcommands. */
export function registerVolumeCommands(program: Command, getCtx: Ctx): void {
  const volume = program.command('volume').description('Manage volumes');
  volume.action(() => volume.help());

  volume
    .command('create')
    .description('Create a volume')
    .argument('[VOLUME]')
    .option('-d, --driver <string>', 'Specify volume driver name', 'local')
    .option('--label <label>', 'Set metadata for a volume', collect, [])
    .option('-o, --opt <option>', 'Set driver specific options', collect, [])
    .addOption(new Option('--name <string>', 'Specify volume name').hideHelp())
    .action((name: string | undefined, o: CreateOpts) => createVolume(getCtx(), name, o));

  volume
    .command('ls')
    .alias('list')
    .description('List volumes')
    .option('-f, --filter <filter>', "Provide filter values (e.g. 'dangling=true')", collect, [])
    .option('--format <string>', 'Pretty-print volumes using a Go template')
    .option('-q, --quiet', 'Only display volume names')
    .action((o: { filter: string[]; format?: string; quiet?: boolean }) => listVolumes(getCtx(), o));

  volume
    .command('inspect')
    .description('Display detailed information on one or more volumes')
    .argument('<VOLUME...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action((names: string[], o: { format?: string }) => inspectVolumes(getCtx(), names, o.format));

  volume
    .command('rm')
    .alias('remove')
    .description('Remove one or more volumes')
    .argument('<VOLUME...>')
    .option('-f, --force', 'Force the removal of one or more volumes')
    .action((names: string[], o: { force?: boolean }) => removeVolumes(getCtx(), names, o.force));

  volume
    .command('prune')
    .description('Remove unused local volumes')
    .option('-a, --all', 'Remove all unused volumes, not just anonymous ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "label=<label>")', collect, [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { all?: boolean; filter: string[]; force?: boolean }) => pruneVolumes(getCtx(), o));
}

interface CreateOpts {
  driver: string;
  label: string[];
  opt: string[];
  name?: string;
}

/** `key=value` items as a map (`key` alone maps to ""), as Docker's ConvertKVStringsToMap. */
function keyValues(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    out[eq < 0 ? item : item.slice(0, eq)] = eq < 0 ? '' : item.slice(eq + 1);
  }
  return out;
}

function createVolume(ctx: CliContext, positional: string | undefined, o: CreateOpts): void {
  if (positional !== undefined && o.name) {
    throw errors.invalid('conflicting options: cannot specify a volume-name through both --name and as a positional arg');
  }
  for (const l of o.label) {
    if (l.trim() === '') throw new UsageError(`invalid argument "${l}" for "--label" flag: invalid label '${l}': empty name`, 'volume create');
  }
  const v = ctx.engine().volumes.create(positional ?? o.name, {
    driver: o.driver,
    labels: keyValues(o.label),
    options: keyValues(o.opt),
  });
  ctx.out(v.Name);
}

/** Parses `--filter` values as Docker's opts.FilterOpt: `key=value`, key lower-cased, both trimmed. */
function parseFilters(values: string[], flag: string, command: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const raw of values) {
    if (raw === '') continue;
    const eq = raw.indexOf('=');
    if (eq < 0) {
      throw new UsageError(`invalid argument "${raw}" for "${flag}" flag: bad format of filter (expected name=value)`, command);
    }
    const list = (out[raw.slice(0, eq).trim().toLowerCase()] ??= []);
    const value = raw.slice(eq + 1).trim();
    if (!list.includes(value)) list.push(value);
  }
  return out;
}

/** What `volume ls --format` templates see: Docker's volumeContext. */
function volumeRow(v: VolumeInfo): object {
  return {
    Availability: 'N/A',
    Driver: v.Driver,
    Group: 'N/A',
    Labels: Object.keys(v.Labels)
      .sort()
      .map((k) => `${k}=${v.Labels[k]}`)
      .join(','),
    Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A',
    Mountpoint: v.Mountpoint,
    Name: v.Name,
    Scope: v.Scope,
    Size: v.UsageData ? humanSize(v.UsageData.Size) : 'N/A',
    Status: 'N/A',
    Label: (name: string) => v.Labels[name] ?? '',
  };
}

function listVolumes(ctx: CliContext, o: { filter: string[]; format?: string; quiet?: boolean }): void {
  const volumes = ctx.engine().volumes.list(parseFilters(o.filter, '-f, --filter', 'volume ls'));
  if (o.quiet && (o.format === undefined || o.format === '' || o.format === 'table')) {
    for (const v of volumes) ctx.out(v.Name);
    return;
  }
  ctx.stdout.write(
    formatRows(o.format, volumes.map(volumeRow), {
      defaultTable: 'table {{.Driver}}\t{{.Name}}',
      headers: {
        Name: 'VOLUME NAME',
        Group: 'GROUP',
        Driver: 'DRIVER',
        Scope: 'SCOPE',
        Availability: 'AVAILABILITY',
        Mountpoint: 'MOUNTPOINT',
        Labels: 'LABELS',
        Links: 'LINKS',
        Size: 'SIZE',
        Status: 'STATUS',
      },
    }),
  );
}

function inspectVolumes(ctx: CliContext, names: string[], format: string | undefined): void {
  const found: VolumeInfo[] = [];
  const failures: unknown[] = [];
  for (const name of names) {
    try {
      found.push(ctx.engine().volumes.inspect(name));
    } catch (err) {
      failures.push(err);
    }
  }
  // Docker's JSON has null for empty Labels/Options (the CLI omits empty maps when creating);
  // templates see Go maps, which print as map[...].
  const views = found.map((v) =>
    format
      ? { ...v, Labels: asMap({ ...v.Labels }), Options: asMap({ ...v.Options }) }
      : { ...v, Labels: emptyToNull(v.Labels), Options: emptyToNull(v.Options) },
  );
  writeInspect(ctx, views, format);
  reportFailures(ctx, failures);
}

function emptyToNull(map: Record<string, string>): Record<string, string> | null {
  return Object.keys(map).length > 0 ? map : null;
}

/** Prints errors collected while going on with the other arguments, as Docker does at the end. */
function reportFailures(ctx: CliContext, failures: unknown[]): void {
  for (const err of failures) {
    ctx.err(renderError(err));
    ctx.fail(exitCodeOf(err));
  }
}

function removeVolumes(ctx: CliContext, names: string[], force: boolean | undefined): void {
  const failures: unknown[] = [];
  for (const name of names) {
    try {
      ctx.engine().volumes.remove(name, force === true);
      ctx.out(name);
    } catch (err) {
      failures.push(err);
    }
  }
  reportFailures(ctx, failures);
}

async function pruneVolumes(ctx: CliContext, o: { all?: boolean; filter: string[]; force?: boolean }): Promise<void> {
  const filters = parseFilters(o.filter, '--filter', 'volume prune');
  if (o.all && 'all' in filters) throw errors.invalid('conflicting options: cannot specify both --all and --filter all=1');
  if (!o.force) {
    const warning = o.all
      ? 'WARNING! This will remove all local volumes not used by at least one container.'
      : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
    if (!(await confirm(ctx, `${warning}\nAre you sure you want to continue? [y/N] `))) return;
  }
  const report = ctx.engine().volumes.prune({ all: o.all, filters });
  if (report.VolumesDeleted.length > 0) {
    ctx.out('Deleted Volumes:');
    for (const name of report.VolumesDeleted) ctx.out(name);
    ctx.out('');
  }
  ctx.out(`Total reclaimed space: ${humanSize(report.SpaceReclaimed)}`);
}
