/**
 * Getting images in and out: import, load, save, image bootstrap.
 */
import type { Command } from 'commander';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { tempSibling } from '../../core/atomic-file.js';
import { errors } from '../../core/errors.js';
import { familiarString, normalizeReference } from '../../core/reference.js';
import { parsePlatform } from '../../core/platform.js';
import type { CliContext } from '../context.js';
import { progressRenderer } from '../progress.js';
import { collect } from '../options.js';

type Ctx = () => CliContext;

/** Adds import, load, save and image bootstrap. */
export function registerTransferCommands(program: Command, image: Command, getCtx: Ctx): void {
  for (const parent of [program, image]) {
    parent
      .command('import')
      .description('Import the contents from a tarball to create a filesystem image')
      .argument('<file|URL|->')
      .argument('[REPOSITORY[:TAG]]')
      .option('-c, --change <change>', 'Apply Dockerfile instruction to the created image', collect, [])
      .option('-m, --message <message>', 'Set commit message for imported image')
      .option('--platform <platform>', 'Set platform if server is multi-platform capable')
      .action(async (src: string, ref: string | undefined, o: { change: string[]; message?: string; platform?: string }) => {
        const ctx = getCtx();
        const platform = o.platform ? parsePlatform(o.platform) : undefined;
        const source = await openSource(ctx, src);
        const result = await ctx.engine().importImage(source, {
          reference: ref,
          changes: o.change,
          message: o.message,
          platform,
        });
        ctx.out(result.id);
      });

    parent
      .command('load')
      .description('Load an image from a tar archive or STDIN')
      .option('-i, --input <file>', 'Read from tar archive file, instead of STDIN')
      .option('-q, --quiet', 'Suppress the load output')
      .action(async (o: { input?: string; quiet?: boolean }) => {
        const ctx = getCtx();
        if (!o.input && ctx.stdin.isTTY) {
          throw errors.invalid('requested load from stdin, but stdin is empty', { hint: 'use -i FILE or redirect stdin' });
        }
        const source = o.input ? await openFile(o.input) : ctx.stdin;
        const loaded = await ctx.engine().loadImages(source, { progress: progressRenderer(ctx.stdout, { quiet: o.quiet }) });
        for (const img of loaded) {
          for (const m of img.moved) {
            ctx.out(`The image ${familiarString(normalizeReference(m.name))} already exists, renaming the old one with ID ${m.from} to empty string`);
          }
          if (img.names.length === 0) ctx.out(`Loaded image ID: ${img.id}`);
          for (const n of img.names) ctx.out(`Loaded image: ${familiarString(normalizeReference(n))}`);
        }
      });

    parent
      .command('save')
      .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
      .argument('<IMAGE...>')
      .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
      .action(async (inputs: string[], o: { output?: string }) => {
        const ctx = getCtx();
        if (!o.output && ctx.stdout.isTTY) {
          throw errors.invalid('cowardly refusing to save to a terminal. Use the -o flag or redirect');
        }
        const engine = ctx.engine();
        for (const i of inputs) engine.images.resolve(i); // fail before creating any file
        if (!o.output) {
          await engine.saveImages(inputs, ctx.stdout);
          return;
        }
        // Written to a temporary sibling and renamed: a failed save leaves no partial file.
        const tmp = tempSibling(o.output);
        try {
          const out = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
          await engine.saveImages(inputs, out);
          await finished(out);
          await rename(tmp, o.output);
        } catch (err) {
          await rm(tmp, { force: true });
          throw err;
        }
      });
  }

  image
    .command('bootstrap')
    .description("Make a base image from this machine's files (busybox: Debian's busybox-static)")
    .argument('<kind>', 'what to bootstrap: busybox')
    .argument('[REPOSITORY[:TAG]]', 'name of the image', 'busybox:latest')
    .action(async (kind: string, ref: string) => {
      if (kind !== 'busybox') throw errors.invalid(`unknown bootstrap kind ${JSON.stringify(kind)}`, { hint: 'supported: busybox' });
      const ctx = getCtx();
      const result = await ctx.engine().bootstrapBusybox(ref);
      ctx.out(result.id);
    });
}

async function openFile(path: string): Promise<Readable> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? errors.notFound(`open ${path}: no such file or directory`) : err),
    );
  });
  return stream;
}

async function openSource(ctx: CliContext, src: string): Promise<Readable> {
  if (src === '-') return ctx.stdin;
  if (/^https?:\/\//.test(src)) {
    const res = await fetch(src);
    if (!res.ok || !res.body) throw errors.notFound(`importing ${src}: HTTP ${res.status} ${res.statusText}`);
    return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  }
  return openFile(src);
}
