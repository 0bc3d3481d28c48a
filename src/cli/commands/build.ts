/**
 * `build` (also `image build` and `buildx build`) and `builder prune` / `builder du`, with
 * docker's flags. Progress goes to stderr as BuildKit draws it; `-q` prints only the image ID
 * on stdout.
 */
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { errors } from '../../core/errors.js';
import type { BuildEvent, BuildOptions, BuildSecret } from '../../engine/engine.js';
import { buildProgressRenderer } from '../build-progress.js';
import type { CliContext } from '../context.js';
import { humanSize } from '../format/units.js';
import { collect } from '../options.js';
import { confirm } from '../prompt.js';

type Ctx = () => CliContext;

interface BuildFlags {
  tag: string[];
  file?: string;
  buildArg: string[];
  label: string[];
  target?: string;
  cache: boolean;
  /** `--no-cache-filter` (commander reads the `no-` prefix as a negation and drops it). */
  cacheFilter: string[];
  pull?: boolean;
  platform?: string;
  quiet?: boolean;
  iidfile?: string;
  output: string[];
  progress: string;
  network?: string;
  secret: string[];
  push?: boolean;
}

/** Adds build (top level, `image build`, `buildx build`) and the `builder` commands. */
export function registerBuildCommands(program: Command, image: Command, getCtx: Ctx): void {
  const buildx = program.command('buildx').description('Docker Buildx');
  for (const parent of [program, image, buildx]) {
    parent
      .command('build')
      .description('Build an image from a Dockerfile')
      .argument('<PATH | URL | ->')
      .option('-t, --tag <name>', 'Name and optionally a tag (format: "name:tag")', collect, [])
      .option('-f, --file <string>', 'Name of the Dockerfile (default: "PATH/Dockerfile")')
      .option('--build-arg <stringArray>', 'Set build-time variables', collect, [])
      .option('--label <stringArray>', 'Set metadata for an image', collect, [])
      .option('--target <string>', 'Set the target build stage to build')
      .option('--no-cache', 'Do not use cache when building the image')
      .option('--no-cache-filter <stringArray>', 'Do not cache specified stages', collect, [])
      .option('--pull', 'Always attempt to pull all referenced images')
      .option('--platform <string>', 'Set target platform for build')
      .option('-q, --quiet', 'Suppress the build output and print image ID on success')
      .option('--iidfile <string>', 'Write the image ID to a file')
      .option('-o, --output <stringArray>', 'Output destination (format: "type=local,dest=path")', collect, [])
      .option('--progress <string>', 'Set type of progress output ("auto", "plain", "tty", "quiet")', 'auto')
      .option('--network <string>', 'Set the networking mode for the "RUN" instructions during build', 'default')
      .option('--secret <stringArray>', 'Secret to expose to the build (format: "id=mysecret[,src=/local/secret]")', collect, [])
      .option('--push', 'Shorthand for "--output=type=registry"')
      .option('--load', 'Shorthand for "--output=type=docker"')
      .option('--rm', 'Remove intermediate containers after a successful build (always)')
      .option('--force-rm', 'Always remove intermediate containers (always)')
      .action(async (context: string, o: BuildFlags) => buildCommand(getCtx(), context, o));
  }

  const builder = program.command('builder').description('Manage builds');
  builder
    .command('prune')
    .description('Remove build cache')
    .option('-a, --all', 'Remove all unused build cache, not just dangling ones')
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=24h")', collect, [])
    .action(async (o: { all?: boolean; force?: boolean; filter: string[] }) => {
      const ctx = getCtx();
      let until: Date | undefined;
      for (const f of o.filter) {
        const m = /^until=(.+)$/.exec(f);
        if (!m) throw errors.invalid(`invalid filter ${JSON.stringify(f)}`, { hint: 'builder prune takes until=<duration>' });
        until = new Date(Date.now() - durationMs(m[1] as string));
      }
      const warning = o.all
        ? 'WARNING! This will remove all build cache. Are you sure you want to continue?'
        : 'WARNING! This will remove all dangling build cache. Are you sure you want to continue?';
      if (!o.force && !(await confirm(ctx, warning))) return;
      const { deleted, reclaimed } = await ctx.engine().pruneBuildCache({ all: o.all, until });
      if (deleted.length > 0) {
        ctx.out('ID\t\t\t\t\t\tRECLAIMABLE\tSIZE\t\tLAST ACCESSED');
        for (const d of deleted) ctx.out(`${d.key.slice(7, 32)}\ttrue\t\t${humanSize(d.size)}\t\t${d.lastUsed}`);
      }
      ctx.out(`Total:\t${humanSize(reclaimed)}`);
    });
  builder
    .command('du')
    .description('Disk usage')
    .action(() => {
      const ctx = getCtx();
      const rows = ctx.engine().buildCacheEntries();
      ctx.out(`${'ID'.padEnd(27)}${'RECLAIMABLE'.padEnd(13)}${'SIZE'.padEnd(12)}LAST ACCESSED`);
      let total = 0;
      for (const r of rows) {
        total += r.size;
        ctx.out(`${r.key.slice(7, 32).padEnd(27)}${'true'.padEnd(13)}${humanSize(r.size).padEnd(12)}${r.lastUsed}`);
      }
      ctx.out(`Reclaimable:\t${humanSize(total)}`);
      ctx.out(`Total:\t\t${humanSize(total)}`);
    });
}

async function buildCommand(ctx: CliContext, context: string, o: BuildFlags): Promise<void> {
  const options: BuildOptions = {
    context,
    file: o.file,
    stdin: ctx.stdin,
    tags: o.tag,
    buildArgs: parseBuildArgs(o.buildArg),
    labels: parseLabels(o.label),
    target: o.target,
    noCache: !o.cache,
    noCacheFilter: o.cacheFilter,
    pull: o.pull,
    platform: o.platform,
    network: parseNetwork(o.network ?? 'default'),
    secrets: parseSecrets(o.secret),
    output: parseOutput(o.output, ctx),
  };
  if (o.push && o.tag.length === 0) throw errors.invalid('tag is needed when pushing to registry', { hint: 'name the image with -t' });
  const mode = o.quiet ? 'quiet' : o.progress;
  if (!['auto', 'plain', 'tty', 'quiet', 'rawjson'].includes(mode)) {
    throw errors.invalid(`invalid progress mode ${JSON.stringify(o.progress)}`, { hint: 'use auto, plain, tty or quiet' });
  }
  const renderer = buildProgressRenderer(ctx.stderr, { mode: mode as 'auto' });
  const failed: number[] = [];
  const sink = (e: BuildEvent) => {
    if (e.type === 'done' && e.error) failed.push(e.id);
    renderer.sink(e);
  };
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  let outcome;
  try {
    outcome = await ctx.engine().build(options, sink, abort.signal);
  } catch (err) {
    renderer.finish();
    if (!o.quiet) for (const line of failed.flatMap((id) => renderer.failureSummary(id))) ctx.err(line);
    throw err;
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
  renderer.finish();
  if (outcome.id) {
    if (o.iidfile) await writeFile(o.iidfile, outcome.id);
    if (o.quiet) ctx.out(outcome.id);
    if (o.push) {
      for (const name of outcome.names) await ctx.engine().push(name, {});
    }
  }
}

/** `--build-arg K=V`, or `K` alone for the value of the environment variable (skipped when unset). */
export function parseBuildArgs(values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const i = v.indexOf('=');
    if (i === 0) throw errors.invalid(`invalid build-arg ${JSON.stringify(v)}: empty name`);
    if (i > 0) out.set(v.slice(0, i), v.slice(i + 1));
    else if (process.env[v] !== undefined) out.set(v, process.env[v] as string);
  }
  return out;
}

function parseLabels(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i === 0) throw errors.invalid(`invalid label ${JSON.stringify(v)}: empty name`);
    if (i < 0) out[v] = '';
    else out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

function parseNetwork(value: string): 'default' | 'none' | 'host' {
  if (value === 'default' || value === 'none' || value === 'host') return value;
  throw errors.invalid(`network mode ${JSON.stringify(value)} not supported by buildkit`, { hint: 'use default, none or host' });
}

function parseSecrets(values: readonly string[]): Map<string, BuildSecret> {
  const out = new Map<string, BuildSecret>();
  for (const v of values) {
    const fields = new Map(v.split(',').map((f) => {
      const i = f.indexOf('=');
      return i < 0 ? [f, ''] : [f.slice(0, i), f.slice(i + 1)];
    }));
    const id = fields.get('id');
    if (!id) throw errors.invalid(`invalid secret ${JSON.stringify(v)}: id is required`, { hint: 'use --secret id=NAME,src=FILE' });
    const src = fields.get('src') ?? fields.get('source');
    const env = fields.get('env');
    out.set(id, src ? { file: src } : { env: env ?? id });
  }
  return out;
}

function parseOutput(values: readonly string[], ctx: CliContext): BuildOptions['output'] {
  if (values.length === 0) return undefined;
  if (values.length > 1) throw errors.invalid('multiple outputs are not supported', { hint: 'give one --output' });
  const value = values[0] as string;
  if (!value.includes('=')) {
    return value === '-' ? { type: 'tar', dest: '-', stdout: ctx.stdout } : { type: 'local', dest: value };
  }
  const fields = new Map(value.split(',').map((f) => {
    const i = f.indexOf('=');
    return i < 0 ? [f, ''] : [f.slice(0, i), f.slice(i + 1)];
  }));
  const type = fields.get('type') ?? 'local';
  if (type === 'image' || type === 'docker') return undefined;
  if (type !== 'local' && type !== 'tar') {
    throw errors.invalid(`unsupported output type ${JSON.stringify(type)}`, { hint: 'use type=local, type=tar or type=image' });
  }
  const dest = fields.get('dest');
  if (!dest) throw errors.invalid(`output ${JSON.stringify(value)} needs dest=`, { hint: 'e.g. --output type=local,dest=out' });
  if (type === 'local' && dest === '-') throw errors.invalid('output type=local cannot write to stdout', { hint: 'use type=tar,dest=-' });
  if (dest === '-' && ctx.stdout.isTTY) throw errors.invalid('refusing to write the tar output to a terminal', { hint: 'redirect stdout or use dest=FILE' });
  return { type, dest, stdout: ctx.stdout };
}

/** `24h`, `30m`, `10s` (Go durations with h, m, s). */
function durationMs(text: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!m || text === '') throw errors.invalid(`invalid duration ${JSON.stringify(text)}`, { hint: 'e.g. until=24h' });
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}
