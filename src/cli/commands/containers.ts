/**
 * Container commands: run, create, start, stop, kill, restart, rm, ps, logs, exec, wait,
 * inspect, top, pause, unpause, rename, port, stats, container prune — as top-level commands
 * and under `container`, with Docker's flags, output and exit codes.
 */
import type { Command } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import { errors, isGantryError } from '../../core/errors.js';
import {
  type ContainerSummary,
  type Engine,
  formatLogTimestamp,
  parseContainerFilters,
  parseTimeArg,
  startFailureExitCode,
} from '../../engine/engine.js';
import type { CliContext } from '../context.js';
import { exitCodeOf, renderError } from '../errors.js';
import { formatRows } from '../format/table.js';
import { formatGoTime, humanSize, timeAgo } from '../format/units.js';
import { collect } from '../options.js';
import { confirm } from '../prompt.js';
import { writeInspect } from './images.js';
import { registerCpCommand } from './cp.js';
import { addCreateFlags, addRunOnlyFlags, type CreateFlagValues, toCreateRequest } from './run-flags.js';
import { readKeyValueFiles, validateEnv } from './run-flags-values.js';
import { pullCommand } from './distribution.js';

type Ctx = () => CliContext;

/** Docker's exit code for errors of `run` itself (not of the container). */
const EXIT_RUN_ERROR = 125;

/** Adds the container commands (top-level forms and `container` subcommands). */
export function registerContainerCommands(program: Command, getCtx: Ctx): void {
  const container = program.command('container').description('Manage containers');
  container.action(() => container.help());

  for (const parent of [program, container]) {
    addRunOnlyFlags(
      addCreateFlags(
        parent
          .command('run')
          .description('Create and run a new container from an image')
          .argument('<IMAGE>')
          .argument('[COMMAND...]')
          .passThroughOptions(),
      ),
    ).action(async (image: string, args: string[], o: RunFlags) => runCommand(getCtx(), image, args, o));

    addCreateFlags(
      parent
        .command('create')
        .description('Create a new container')
        .argument('<IMAGE>')
        .argument('[COMMAND...]')
        .passThroughOptions(),
    ).action(async (image: string, args: string[], o: CreateFlagValues) => createCommand(getCtx(), image, args, o));

    parent
      .command('start')
      .description('Start one or more stopped containers')
      .argument('<CONTAINER...>')
      .option('-a, --attach', 'Attach STDOUT/STDERR and forward signals')
      .option('-i, --interactive', "Attach container's STDIN")
      .action(async (inputs: string[], o: { attach?: boolean; interactive?: boolean }) => startCommand(getCtx(), inputs, o));

    parent
      .command('stop')
      .description('Stop one or more running containers')
      .argument('<CONTAINER...>')
      .option('-s, --signal <string>', 'Signal to send to the container')
      .option('-t, --timeout <int>', 'Seconds to wait before killing the container', intArg('--timeout'))
      .action(async (inputs: string[], o: { signal?: string; timeout?: number }) =>
        eachContainer(getCtx(), inputs, (e, id) => e.containers.stop(id, o)),
      );

    parent
      .command('kill')
      .description('Kill one or more running containers')
      .argument('<CONTAINER...>')
      .option('-s, --signal <string>', 'Signal to send to the container', 'KILL')
      .action(async (inputs: string[], o: { signal: string }) => eachContainer(getCtx(), inputs, (e, id) => e.containers.kill(id, o.signal)));

    parent
      .command('restart')
      .description('Restart one or more containers')
      .argument('<CONTAINER...>')
      .option('-s, --signal <string>', 'Signal to send to the container')
      .option('-t, --timeout <int>', 'Seconds to wait before killing the container', intArg('--timeout'))
      .action(async (inputs: string[], o: { signal?: string; timeout?: number }) =>
        eachContainer(getCtx(), inputs, (e, id) => e.containers.restart(id, o)),
      );

    parent
      .command(parent === program ? 'rm' : 'rm')
      .aliases(parent === program ? [] : ['remove'])
      .description('Remove one or more containers')
      .argument('<CONTAINER...>')
      .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
      .option('-v, --volumes', 'Remove anonymous volumes associated with the container')
      .option('-l, --link', 'Remove the specified link')
      .action(async (inputs: string[], o: { force?: boolean; volumes?: boolean }) =>
        eachContainer(getCtx(), inputs, (e, id) => e.containers.remove(id, o)),
      );

    for (const pause of ['pause', 'unpause'] as const) {
      parent
        .command(pause)
        .description(pause === 'pause' ? 'Pause all processes within one or more containers' : 'Unpause all processes within one or more containers')
        .argument('<CONTAINER...>')
        .action(async (inputs: string[]) => eachContainer(getCtx(), inputs, (e, id) => e.containers[pause](id)));
    }

    parent
      .command('wait')
      .description('Block until one or more containers stop, then print their exit codes')
      .argument('<CONTAINER...>')
      .action(async (inputs: string[]) => {
        const ctx = getCtx();
        await eachContainer(ctx, inputs, async (e, id) => ctx.out(String(await e.containers.wait(id))), false);
      });

    parent
      .command('rename')
      .description('Rename a container')
      .argument('<CONTAINER>')
      .argument('<NEW_NAME>')
      .action(async (input: string, name: string) => getCtx().engine().containers.rename(input, name));

    parent
      .command('logs')
      .description('Fetch the logs of a container')
      .argument('<CONTAINER>')
      .option('--details', 'Show extra details provided to logs')
      .option('-f, --follow', 'Follow log output')
      .option('--since <string>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
      .option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
      .option('-t, --timestamps', 'Show timestamps')
      .option('--until <string>', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
      .action(async (input: string, o: LogsFlags) => logsCommand(getCtx(), input, o));

    parent
      .command('exec')
      .description('Execute a command in a running container')
      .argument('<CONTAINER>')
      .argument('<COMMAND...>')
      .passThroughOptions()
      .option('-d, --detach', 'Detached mode: run command in the background')
      .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
      .option('-e, --env <list>', 'Set environment variables', collect, [])
      .option('--env-file <list>', 'Read in a file of environment variables', collect, [])
      .option('-i, --interactive', 'Keep STDIN open even if not attached')
      .option('--privileged', 'Give extended privileges to the command')
      .option('-t, --tty', 'Allocate a pseudo-TTY')
      .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
      .option('-w, --workdir <string>', 'Working directory inside the container')
      .action(async (input: string, cmd: string[], o: ExecFlags) => execCommand(getCtx(), input, cmd, o));

    parent
      .command('top')
      .description('Display the running processes of a container')
      .argument('<CONTAINER>')
      .argument('[ps OPTIONS...]')
      .passThroughOptions()
      .action(async (input: string, psArgs: string[]) => {
        const ctx = getCtx();
        const top = await ctx.engine().containers.top(input, psArgs.length > 0 ? psArgs : ['-ef']);
        ctx.stdout.write(tabulate([top.Titles, ...top.Processes]));
      });

    parent
      .command('port')
      .description('List port mappings or a specific mapping for the container')
      .argument('<CONTAINER>')
      .argument('[PRIVATE_PORT[/PROTO]]')
      .action(async (input: string, port: string | undefined) => {
        const ctx = getCtx();
        const info = await ctx.engine().containers.inspect(input);
        const ports = info.NetworkSettings.Ports;
        if (port) {
          const key = port.includes('/') ? port : `${port}/tcp`;
          const bindings = ports[key];
          if (!bindings) throw errors.notFound(`No public port '${key}' published for ${input}`);
          for (const b of bindings) ctx.out(`${b.HostIp}:${b.HostPort}`);
          return;
        }
        for (const [key, bindings] of Object.entries(ports)) for (const b of bindings ?? []) ctx.out(`${key} -> ${b.HostIp}:${b.HostPort}`);
      });

    parent
      .command('stats')
      .description('Display a live stream of container(s) resource usage statistics')
      .argument('[CONTAINER...]')
      .option('-a, --all', 'Show all containers (default shows just running)')
      .option('--format <string>', 'Format output using a custom template')
      .option('--no-stream', 'Disable streaming stats and only pull the first result')
      .option('--no-trunc', "Don't truncate output")
      .action(async (inputs: string[], o: StatsFlags) => statsCommand(getCtx(), inputs, o));
  }

  for (const [parent, name, aliases] of [
    [program, 'ps', []],
    [container, 'ls', ['list', 'ps']],
  ] as const) {
    parent
      .command(name)
      .aliases([...aliases])
      .description('List containers')
      .option('-a, --all', 'Show all containers (default shows just running)')
      .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
      .option('--format <string>', 'Format output using a custom template')
      .option('-n, --last <int>', 'Show n last created containers (includes all states)', intArg('--last'), -1)
      .option('-l, --latest', 'Show the latest created container (includes all states)')
      .option('--no-trunc', "Don't truncate output")
      .option('-q, --quiet', 'Only display container IDs')
      .option('-s, --size', 'Display total file sizes')
      .action(async (o: PsFlags) => psCommand(getCtx(), o));
  }

  container
    .command('inspect')
    .description('Display detailed information on one or more containers')
    .argument('<CONTAINER...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .option('-s, --size', 'Display total file sizes')
    .action(async (inputs: string[], o: { format?: string; size?: boolean }) => {
      const ctx = getCtx();
      const found: unknown[] = [];
      await eachContainer(ctx, inputs, async (e, id) => void found.push(await e.containers.inspect(id, o.size)), false);
      writeInspect(ctx, found, o.format);
    });

  container
    .command('prune')
    .description('Remove all stopped containers')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect, [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { filter: string[]; force?: boolean }) => {
      const ctx = getCtx();
      const filters = parseContainerFilters(o.filter);
      if (!o.force && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] '))) return;
      const report = await ctx.engine().containers.prune(filters);
      if (report.ContainersDeleted.length > 0) {
        ctx.out('Deleted Containers:');
        for (const id of report.ContainersDeleted) ctx.out(id);
        ctx.out('');
      }
      ctx.out(`Total reclaimed space: ${humanSize(report.SpaceReclaimed)}`);
    });

  registerCpCommand(program, container, getCtx);
}

// ------------------------------------------------------------------ helpers

function intArg(flag: string) {
  return (v: string) => {
    if (!/^-?\d+$/.test(v.trim())) throw errors.invalid(`invalid argument "${v}" for "${flag}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
    return Number(v);
  };
}

/** Runs `fn` for each container; prints the name given on success (when `echo`), errors per line. */
async function eachContainer(ctx: CliContext, inputs: string[], fn: (e: Engine, input: string) => Promise<void>, echo = true): Promise<void> {
  for (const input of inputs) {
    try {
      await fn(ctx.engine(), input);
      if (echo) ctx.out(input);
    } catch (err) {
      ctx.err(renderError(err));
      ctx.fail(exitCodeOf(err));
    }
  }
}

/** Columns as `docker top` prints them (Go's tabwriter: minimum width 20, padding 3). */
function tabulate(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 20, c.length + 3)));
  return rows.map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 20))).join('')}\n`).join('');
}

// ------------------------------------------------------------------ run / create / start

interface RunFlags extends CreateFlagValues {
  detach?: boolean;
  sigProxy?: boolean;
}

async function createContainer(ctx: CliContext, image: string, args: string[], o: CreateFlagValues & { detach?: boolean }): Promise<string> {
  const engine = ctx.engine();
  const req = toCreateRequest(image, args, o);
  if (o.cidfile && existsSync(o.cidfile)) {
    throw errors.invalid(`Container ID file found, make sure the other container isn't running or delete ${o.cidfile}`);
  }
  // Docker's CLI sends the terminal's size so the container starts with it (no 0x0 moment).
  if (req.config.Tty && ctx.stdout.isTTY && ctx.stdout.rows > 0) req.hostConfig.ConsoleSize = [ctx.stdout.rows, ctx.stdout.columns];
  // --pull: "missing" (default) pulls an image that is not here, "always" pulls every time.
  const pull = o.pull || 'missing';
  const present = engine.images.exists(image);
  if (pull === 'always' || !present) {
    const shown = /[:@]/.test(image.split('/').pop() ?? '') ? image : `${image}:latest`;
    if (!present) ctx.err(`Unable to find image '${shown}' locally`);
    if (pull === 'never') throw errors.notFound(`No such image: ${shown}`, { hint: 'pull, load or import it first, or run with --pull missing' });
    // As Docker's run: the pull's output goes to stderr, keeping stdout the container's.
    await pullCommand(ctx, image, { progress: 'auto', quiet: o.quiet, trailingName: false }, ctx.stderr);
  }
  const { Id } = await engine.containers.create(req);
  if (o.cidfile) writeFileSync(o.cidfile, Id, { flag: 'wx' });
  return Id;
}

async function createCommand(ctx: CliContext, image: string, args: string[], o: CreateFlagValues): Promise<void> {
  try {
    ctx.out(await createContainer(ctx, image, args, o));
  } catch (err) {
    ctx.err(renderError(err));
    ctx.fail(EXIT_RUN_ERROR);
  }
}

async function runCommand(ctx: CliContext, image: string, args: string[], o: RunFlags): Promise<void> {
  if (o.tty && o.interactive && !ctx.stdin.isTTY) {
    ctx.err('the input device is not a TTY');
    ctx.fail(1);
    return;
  }
  let id: string;
  try {
    id = await createContainer(ctx, image, args, o);
  } catch (err) {
    ctx.err(renderError(err));
    ctx.fail(EXIT_RUN_ERROR);
    return;
  }
  const engine = ctx.engine();
  if (o.detach) {
    try {
      await engine.containers.start(id);
      ctx.out(id);
    } catch (err) {
      await failStart(ctx, id, err, o.rm);
    }
    return;
  }
  const code = await attachAndStart(ctx, id, { interactive: o.interactive ?? false, tty: o.tty ?? false, sigProxy: o.sigProxy !== false, start: true });
  if (code === undefined) {
    if (o.rm) await engine.containers.remove(id, { force: true, volumes: true }).catch(() => undefined);
    return;
  }
  if (o.rm) await engine.containers.remove(id, { force: true, volumes: true }).catch(() => undefined);
  else await engine.containers.get(id).catch(() => undefined); // records the exit now
  ctx.fail(code);
}

/** A failed start: Docker's exit code from the runtime's message; `--rm` still removes. */
async function failStart(ctx: CliContext, id: string, err: unknown, rm?: boolean): Promise<void> {
  ctx.err(renderError(err));
  ctx.fail(isGantryError(err) ? startFailureExitCode(err.message) : EXIT_RUN_ERROR);
  if (rm) await ctx.engine().containers.remove(id, { force: true, volumes: true }).catch(() => undefined);
}

/**
 * Attaches to the container's stdio (before starting it, so no output is lost), starts it,
 * relays until it exits, and returns its exit code; undefined when the start failed.
 */
async function attachAndStart(
  ctx: CliContext,
  id: string,
  o: { interactive: boolean; tty: boolean; sigProxy: boolean; start: boolean },
): Promise<number | undefined> {
  const engine = ctx.engine();
  let session: ReturnType<Engine['containers']['openAttach']> | undefined;
  let rec;
  try {
    rec = await engine.containers.start(id, {
      attached: true,
      onCreated: async (r) => {
        session = engine.containers.openAttach(r);
      },
    });
    if (!session) session = engine.containers.openAttach(rec);
  } catch (err) {
    session?.close();
    await failStart(ctx, id, err);
    return undefined;
  }
  const attached = session;
  const stdin = o.interactive ? ctx.stdin : undefined;
  const rawTty = o.tty && stdin?.isTTY === true;
  const cleanups: (() => void)[] = [];
  if (rawTty && stdin) {
    stdin.setRawMode(true);
    cleanups.push(() => stdin.setRawMode(false));
  }
  if (o.tty && ctx.stdout.isTTY) {
    const resize = () => attached.resize(ctx.stdout.rows, ctx.stdout.columns);
    resize();
    ctx.stdout.on('resize', resize);
    cleanups.push(() => ctx.stdout.off('resize', resize));
  }
  if (o.sigProxy && !o.tty) {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) {
      const forward = () => void engine.containers.kill(id, sig).catch(() => undefined);
      process.on(sig, forward);
      cleanups.push(() => process.off(sig, forward));
    }
  }
  try {
    await attached.pump({ stdout: ctx.stdout, stderr: ctx.stderr, stdin });
  } finally {
    for (const c of cleanups) c();
    stdin?.pause();
  }
  return engine.containers.runExitCode(rec);
}

async function startCommand(ctx: CliContext, inputs: string[], o: { attach?: boolean; interactive?: boolean }): Promise<void> {
  if (!o.attach && !o.interactive) {
    await eachContainer(ctx, inputs, async (e, id) => void (await e.containers.start(id)));
    return;
  }
  if (inputs.length > 1) throw errors.invalid('you cannot start and attach multiple containers at once');
  const input = inputs[0] as string;
  const info = await ctx.engine().containers.inspect(input);
  const code = await attachAndStart(ctx, info.Id, {
    interactive: (o.interactive ?? false) && (info.Config.OpenStdin ?? false),
    tty: info.Config.Tty ?? false,
    sigProxy: true,
    start: true,
  });
  if (code !== undefined) ctx.fail(code);
}

// ------------------------------------------------------------------ exec

interface ExecFlags {
  detach?: boolean;
  env: string[];
  envFile: string[];
  interactive?: boolean;
  privileged?: boolean;
  tty?: boolean;
  user?: string;
  workdir?: string;
}

async function execCommand(ctx: CliContext, input: string, cmd: string[], o: ExecFlags): Promise<void> {
  if (o.tty && o.interactive && !ctx.stdin.isTTY) {
    ctx.err('the input device is not a TTY');
    ctx.fail(1);
    return;
  }
  if (o.workdir && !o.workdir.startsWith('/')) throw errors.invalid(`the working directory '${o.workdir}' is invalid, it needs to be an absolute path`);
  const lookup = (key: string) => process.env[key];
  const env = [...readKeyValueFiles('--env-file', o.envFile, lookup), ...o.env.flatMap((e) => validateEnv(e, lookup))];
  // runc relays the terminal and forwards signals to the command: do not die of them first.
  const ignore = () => undefined;
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;
  for (const s of signals) process.on(s, ignore);
  try {
    const code = await ctx.engine().containers.exec(
      input,
      { cmd, tty: o.tty, detach: o.detach, env, workdir: o.workdir, user: o.user, privileged: o.privileged },
      [o.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit'],
    );
    ctx.fail(code);
  } catch (err) {
    ctx.err(renderError(err));
    ctx.fail(isGantryError(err, 'FAILED_PRECONDITION') && /exec failed/.test(err.message) ? startFailureExitCode(err.message) : exitCodeOf(err));
  } finally {
    for (const s of signals) process.off(s, ignore);
  }
}

// ------------------------------------------------------------------ logs

interface LogsFlags {
  follow?: boolean;
  since?: string;
  tail: string;
  timestamps?: boolean;
  until?: string;
  details?: boolean;
}

async function logsCommand(ctx: CliContext, input: string, o: LogsFlags): Promise<void> {
  const now = new Date();
  const tail = o.tail === 'all' ? -1 : Number(o.tail);
  if (!Number.isInteger(tail)) throw errors.invalid(`invalid value for "tail": "${o.tail}"`);
  const since = o.since ? parseTimeArg(o.since, now, 'since') : undefined;
  const until = o.until ? parseTimeArg(o.until, now, 'until') : undefined;
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  try {
    await ctx.engine().containers.logs(input, { since, until, tail, follow: o.follow, signal: abort.signal }, async (e) => {
      const target = e.stream === 'stderr' ? ctx.stderr : ctx.stdout;
      const data = o.timestamps ? Buffer.concat([Buffer.from(`${formatLogTimestamp(e.timeNs)} `), e.data]) : e.data;
      if (!target.write(data)) await new Promise((r) => target.once('drain', r));
    });
  } finally {
    process.off('SIGINT', stop);
  }
}

// ------------------------------------------------------------------ ps

interface PsFlags {
  all?: boolean;
  filter: string[];
  format?: string;
  last: number;
  latest?: boolean;
  trunc: boolean;
  quiet?: boolean;
  size?: boolean;
}

/** One `ps` row: the fields Docker's container formatter exposes to templates. */
interface PsRow {
  ID: string;
  Image: string;
  Command: string;
  CreatedAt: string;
  RunningFor: string;
  Ports: string;
  State: string;
  Status: string;
  Size: string;
  Names: string;
  Labels: string;
  LocalVolumes: string;
  Mounts: string;
  Networks: string;
  Label: (key: string) => string;
}

async function psCommand(ctx: CliContext, o: PsFlags): Promise<void> {
  const filters = parseContainerFilters(o.filter);
  const limit = o.latest ? 1 : o.last;
  const size = o.size === true || (o.format !== undefined && /\.Size\b/.test(o.format));
  const list = await ctx.engine().containers.list({ all: o.all, limit: limit > 0 ? limit : undefined, filters, size });
  if (o.quiet) {
    for (const c of list) ctx.out(o.trunc ? c.Id.slice(0, 12) : c.Id);
    return;
  }
  const rows = list.map((c) => psRow(c, o.trunc));
  const defaultTable = `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${o.size ? '\t{{.Size}}' : ''}`;
  ctx.stdout.write(
    formatRows(o.format, rows, {
      defaultTable,
      headers: {
        ID: 'CONTAINER ID',
        Image: 'IMAGE',
        Command: 'COMMAND',
        CreatedAt: 'CREATED AT',
        RunningFor: 'CREATED',
        Ports: 'PORTS',
        State: 'STATE',
        Status: 'STATUS',
        Size: 'SIZE',
        Names: 'NAMES',
        Labels: 'LABELS',
        LocalVolumes: 'LOCAL VOLUMES',
        Mounts: 'MOUNTS',
        Networks: 'NETWORKS',
      },
    }),
  );
}

/** Docker's Ellipsis: at most `max` characters, the last one "…". */
function ellipsis(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * The PORTS column (docker/cli DisplayablePorts): `0.0.0.0:8080->80/tcp`, `80/tcp` when not
 * published; consecutive ports with consecutive host ports shown as one range.
 */
export function displayPorts(ports: ContainerSummary['Ports']): string {
  const sorted = [...ports].sort((a, b) => (a.Type === b.Type ? (a.IP ?? '').localeCompare(b.IP ?? '') || a.PrivatePort - b.PrivatePort : a.Type < b.Type ? -1 : 1));
  const groups: { ip?: string; type: string; lo: number; hi: number; pubLo?: number; pubHi?: number }[] = [];
  for (const p of sorted) {
    const last = groups[groups.length - 1];
    const pub = p.PublicPort;
    if (last && last.type === p.Type && last.ip === p.IP && p.PrivatePort === last.hi + 1 && (pub === undefined ? last.pubHi === undefined : last.pubHi !== undefined && pub === last.pubHi + 1)) {
      last.hi = p.PrivatePort;
      if (pub !== undefined) last.pubHi = pub;
      continue;
    }
    groups.push({ ip: p.IP, type: p.Type, lo: p.PrivatePort, hi: p.PrivatePort, pubLo: pub, pubHi: pub });
  }
  const range = (lo: number, hi: number) => (lo === hi ? String(lo) : `${lo}-${hi}`);
  return groups
    .map((g) => (g.pubLo === undefined ? `${range(g.lo, g.hi)}/${g.type}` : `${g.ip ?? ''}:${range(g.pubLo, g.pubHi as number)}->${range(g.lo, g.hi)}/${g.type}`))
    .join(', ');
}

function psRow(c: ContainerSummary, trunc: boolean): PsRow {
  const labels = c.Labels ?? {};
  let image = c.Image;
  if (trunc && image.startsWith('sha256:')) image = image.slice(7, 19);
  const command = trunc ? ellipsis(c.Command, 20) : c.Command;
  return {
    ID: trunc ? c.Id.slice(0, 12) : c.Id,
    Image: image,
    Command: `"${command}"`,
    CreatedAt: formatGoTime(new Date(c.Created * 1000)),
    RunningFor: timeAgo(new Date(c.Created * 1000)),
    Ports: displayPorts(c.Ports),
    State: c.State,
    Status: c.Status,
    // Docker prints 0B when sizes were not asked for.
    Size: `${humanSize(c.SizeRw ?? 0)}${c.SizeRootFs ? ` (virtual ${humanSize(c.SizeRootFs)})` : ''}`,
    LocalVolumes: String(c.Mounts.filter((m) => m.Type === 'volume').length),
    Names: c.Names.map((n) => n.replace(/^\//, '')).join(','),
    Labels: Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    Mounts: c.Mounts.map((m) => (m.Type === 'volume' ? (trunc ? ellipsis(m.Name ?? '', 15) : m.Name ?? '') : m.Source)).join(','),
    Networks: c.HostConfig.NetworkMode,
    Label: (key: string) => labels[key] ?? '',
  };
}

// ------------------------------------------------------------------ stats

interface StatsFlags {
  all?: boolean;
  format?: string;
  stream: boolean;
  trunc: boolean;
}

async function statsCommand(ctx: CliContext, inputs: string[], o: StatsFlags): Promise<void> {
  const engine = ctx.engine();
  const targets = inputs.length > 0 ? inputs : (await engine.containers.list({ all: o.all })).map((c) => c.Id);
  const rows = await engine.containers.statsRows(targets);
  const view = rows.map((r) => ({
    ID: o.trunc ? r.id.slice(0, 12) : r.id,
    Container: r.input,
    Name: r.name,
    CPUPerc: r.running ? `${r.cpuPercent.toFixed(2)}%` : '--',
    MemUsage: r.running ? `${bytesHuman(r.memUsage)} / ${bytesHuman(r.memLimit)}` : '-- / --',
    MemPerc: r.running ? `${r.memPercent.toFixed(2)}%` : '--',
    NetIO: r.running ? `${humanSize(r.netRx)} / ${humanSize(r.netTx)}` : '-- / --',
    BlockIO: r.running ? `${humanSize(r.blockRead)} / ${humanSize(r.blockWrite)}` : '-- / --',
    PIDs: r.running ? String(r.pids) : '--',
  }));
  ctx.stdout.write(
    formatRows(o.format, view, {
      defaultTable: 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}',
      headers: {
        ID: 'CONTAINER ID',
        Container: 'CONTAINER',
        Name: 'NAME',
        CPUPerc: 'CPU %',
        MemUsage: 'MEM USAGE / LIMIT',
        MemPerc: 'MEM %',
        NetIO: 'NET I/O',
        BlockIO: 'BLOCK I/O',
        PIDs: 'PIDS',
      },
    }),
  );
}

/** Docker prints memory in binary units ("1.5MiB"). */
function bytesHuman(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}
