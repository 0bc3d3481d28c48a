/**
 * Image commands: images / image ls, tag, rmi / image rm, image inspect, history, image prune.
 * (import, load, save and bootstrap are in image-transfer.ts.)
 */
import type { Command } from 'commander';
import { shortId } from '../../core/digest.js';
import { type HistoryRow, type ImageSummary, parseImageFilters, type RemoveEvent } from '../../engine/engine.js';
import type { CliContext } from '../context.js';
import { renderError, exitCodeOf } from '../errors.js';
import { compileTemplate } from '../format/go-template.js';
import { formatRows } from '../format/table.js';
import { formatGoTime, humanSize, timeAgo } from '../format/units.js';
import { collect, goJson } from '../options.js';
import { confirm } from '../prompt.js';
import { registerBuildCommands } from './build.js';
import { registerDistributionCommands } from './distribution.js';
import { registerTransferCommands } from './image-transfer.js';

type Ctx = () => CliContext;

/** Adds the image commands to the program (top-level forms and `image` subcommands). */
export function registerImageCommands(program: Command, getCtx: Ctx): void {
  const image = program.command('image').description('Manage images');
  image.action(() => image.help());

  for (const [parent, name, aliases] of [
    [program, 'images', []],
    [image, 'ls', ['list']],
  ] as const) {
    parent
      .command(name)
      .aliases([...aliases])
      .description('List images')
      .argument('[REPOSITORY[:TAG]]')
      .option('-a, --all', 'Show all images (default hides intermediate images)')
      .option('--digests', 'Show digests')
      .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
      .option('--format <string>', 'Format output using a custom template')
      .option('--no-trunc', "Don't truncate output")
      .option('-q, --quiet', 'Only show image IDs')
      .action(async (repo: string | undefined, o: ListOpts) => listImages(getCtx(), repo, o));
  }

  for (const parent of [program, image]) {
    parent
      .command('tag')
      .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
      .argument('<SOURCE_IMAGE[:TAG]>')
      .argument('<TARGET_IMAGE[:TAG]>')
      .action((source: string, target: string) => getCtx().engine().images.tag(source, target));
  }

  for (const [parent, name, aliases] of [
    [program, 'rmi', []],
    [image, 'rm', ['remove']],
  ] as const) {
    parent
      .command(name)
      .aliases([...aliases])
      .description('Remove one or more images')
      .argument('<IMAGE...>')
      .option('-f, --force', 'Force removal of the image')
      // Accepted for Docker compatibility; gantry deletes no parents (it records none yet).
      .option('--no-prune', 'Do not delete untagged parents')
      .action(async (inputs: string[], o: { force?: boolean }) => removeImages(getCtx(), inputs, o));
  }

  image
    .command('inspect')
    .description('Display detailed information on one or more images')
    .argument('<IMAGE...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(async (inputs: string[], o: { format?: string }) => inspectImages(getCtx(), inputs, o.format));

  for (const [parent, name] of [
    [program, 'history'],
    [image, 'history'],
  ] as const) {
    parent
      .command(name)
      .description('Show the history of an image')
      .argument('<IMAGE>')
      .option('-H, --human [bool]', 'Print sizes and dates in human readable format', 'true')
      .option('--format <string>', 'Format output using a custom template')
      .option('--no-trunc', "Don't truncate output")
      .option('-q, --quiet', 'Only show image IDs')
      .action(async (input: string, o: HistoryOpts) => showHistory(getCtx(), input, o));
  }

  image
    .command('prune')
    .description('Remove unused images')
    .option('-a, --all', 'Remove all unused images, not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect, [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { all?: boolean; filter: string[]; force?: boolean }) => pruneImages(getCtx(), o));

  registerTransferCommands(program, image, getCtx);
  registerDistributionCommands(program, image, getCtx);
  registerBuildCommands(program, image, getCtx);
}

interface ListOpts {
  all?: boolean;
  digests?: boolean;
  filter: string[];
  format?: string;
  trunc: boolean;
  quiet?: boolean;
}

/** One row of `images`: what Docker's image formatter exposes to templates. */
interface ImageRow {
  ID: string;
  Repository: string;
  Tag: string;
  Digest: string;
  CreatedSince: string;
  CreatedAt: string;
  Size: string;
  Containers: string;
  SharedSize: string;
  UniqueSize: string;
  VirtualSize: string;
}

async function listImages(ctx: CliContext, repo: string | undefined, o: ListOpts): Promise<void> {
  const filters = parseImageFilters(o.filter);
  if (repo) filters.push({ key: 'reference', value: repo });
  const images = await ctx.engine().images.list({ all: o.all, filters });
  const rows = images.flatMap((img) => imageRows(img, o.trunc));
  if (o.quiet) {
    for (const r of rows) ctx.out(r.ID);
    return;
  }
  const defaultTable = o.digests
    ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
    : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
  ctx.stdout.write(
    formatRows(o.format, rows, {
      defaultTable,
      headers: {
        ID: 'IMAGE ID',
        Repository: 'REPOSITORY',
        Tag: 'TAG',
        Digest: 'DIGEST',
        CreatedSince: 'CREATED',
        CreatedAt: 'CREATED AT',
        Size: 'SIZE',
        Containers: 'CONTAINERS',
        SharedSize: 'SHARED SIZE',
        UniqueSize: 'UNIQUE SIZE',
        VirtualSize: 'SIZE',
      },
    }),
  );
}

/** Docker's expansion of an image into rows: one per tag, else one per digest, else <none>. */
function imageRows(img: ImageSummary, trunc: boolean): ImageRow[] {
  const base = {
    ID: trunc ? shortId(img.Id) : img.Id,
    CreatedSince: timeAgo(new Date(img.Created * 1000)),
    CreatedAt: formatGoTime(new Date(img.Created * 1000)),
    Size: humanSize(img.Size),
    VirtualSize: humanSize(img.Size),
    Containers: img.Containers ? String(img.Containers) : 'N/A',
    SharedSize: 'N/A',
    UniqueSize: 'N/A',
  };
  const split = (name: string, sep: string) => {
    const i = name.lastIndexOf(sep);
    return i > 0 && !name.slice(i).includes('/') ? [name.slice(0, i), name.slice(i + 1)] : [name, ''];
  };
  const digestsByRepo = new Map(img.RepoDigests.map((d) => split(d, '@') as [string, string]));
  if (img.RepoTags.length > 0) {
    return img.RepoTags.map((t) => {
      const [repo, tag] = split(t, ':') as [string, string];
      return { ...base, Repository: repo, Tag: tag, Digest: digestsByRepo.get(repo) ?? '<none>' };
    });
  }
  if (img.RepoDigests.length > 0) {
    return [...digestsByRepo].map(([repo, digest]) => ({ ...base, Repository: repo, Tag: '<none>', Digest: digest }));
  }
  return [{ ...base, Repository: '<none>', Tag: '<none>', Digest: '<none>' }];
}

async function removeImages(ctx: CliContext, inputs: string[], o: { force?: boolean }): Promise<void> {
  for (const input of inputs) {
    try {
      const events = await ctx.engine().images.remove(input, { force: o.force });
      printRemoveEvents(ctx, events, 'Untagged', 'Deleted');
    } catch (err) {
      ctx.err(renderError(err));
      ctx.fail(exitCodeOf(err));
    }
  }
}

function printRemoveEvents(ctx: CliContext, events: RemoveEvent[], untagged: string, deleted: string): void {
  for (const e of events) ctx.out(e.Untagged ? `${untagged}: ${e.Untagged}` : `${deleted}: ${e.Deleted}`);
}

async function inspectImages(ctx: CliContext, inputs: string[], format: string | undefined): Promise<void> {
  const found: unknown[] = [];
  for (const input of inputs) {
    try {
      found.push(await ctx.engine().images.inspect(input));
    } catch (err) {
      ctx.err(renderError(err));
      ctx.fail(exitCodeOf(err));
    }
  }
  writeInspect(ctx, found, format);
}

/** Prints inspect results as Docker does: an indented JSON array, or a template per object. */
export function writeInspect(ctx: CliContext, objects: unknown[], format: string | undefined): void {
  if (format) {
    const tmpl = compileTemplate(format === 'json' ? '{{json .}}' : format);
    for (const o of objects) ctx.out(tmpl.render(o));
    return;
  }
  ctx.out(objects.length === 0 ? '[]' : goJson(objects, 4));
}

interface HistoryOpts {
  human: string | boolean;
  format?: string;
  trunc: boolean;
  quiet?: boolean;
}

async function showHistory(ctx: CliContext, input: string, o: HistoryOpts): Promise<void> {
  const rows = await ctx.engine().images.history(input);
  const human = o.human !== 'false' && o.human !== false;
  if (o.quiet) {
    for (const r of rows) ctx.out(r.Id === '<missing>' || !o.trunc ? r.Id : shortId(r.Id));
    return;
  }
  const view = rows.map((r: HistoryRow) => {
    const createdBy = r.CreatedBy.replace(/\t/g, ' ');
    return {
      ID: r.Id === '<missing>' || !o.trunc ? r.Id : shortId(r.Id),
      CreatedSince: human ? timeAgo(new Date(r.Created * 1000)) : new Date(r.Created * 1000).toISOString().replace('.000Z', 'Z'),
      CreatedAt: new Date(r.Created * 1000).toISOString().replace('.000Z', 'Z'),
      CreatedBy: o.trunc && [...createdBy].length > 45 ? `${[...createdBy].slice(0, 44).join('')}…` : createdBy,
      Size: human ? humanSize(r.Size) : String(r.Size),
      Comment: r.Comment,
    };
  });
  ctx.stdout.write(
    formatRows(o.format, view, {
      defaultTable: 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
      headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' },
    }),
  );
}

async function pruneImages(ctx: CliContext, o: { all?: boolean; filter: string[]; force?: boolean }): Promise<void> {
  const filters = parseImageFilters(o.filter);
  if (!o.force) {
    const warning = o.all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (!(await confirm(ctx, `${warning}\nAre you sure you want to continue? [y/N] `))) return;
  }
  const report = await ctx.engine().images.prune({ all: o.all, filters });
  if (report.ImagesDeleted.length > 0) {
    ctx.out('Deleted Images:');
    printRemoveEvents(ctx, report.ImagesDeleted, 'untagged', 'deleted');
    ctx.out('');
  }
  ctx.out(`Total reclaimed space: ${humanSize(report.SpaceReclaimed)}`);
}
