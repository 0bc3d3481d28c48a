/**
 * System commands: `system df`, and the type-dispatching `inspect`.
 */
import type { Command } from 'commander';
import { errors, isGantryError } from '../../core/errors.js';
import type { CliContext } from '../context.js';
import { exitCodeOf, renderError } from '../errors.js';
import { formatRows } from '../format/table.js';
import { humanSize } from '../format/units.js';
import { writeInspect } from './images.js';

type Ctx = () => CliContext;

/** Adds `system df` and `inspect`. */
export function registerSystemCommands(program: Command, getCtx: Ctx): void {
  const system = program.command('system').description('Manage gantry');
  system.action(() => system.help());
  system
    .command('df')
    .description('Show gantry disk usage')
    .option('--format <string>', 'Format output using a custom template')
    .option('-v, --verbose', 'Show detailed information on space usage')
    .action(async (o: { format?: string }) => diskUsage(getCtx(), o.format));

  system
    .command('boot')
    .description('Start the containers whose restart policy wants them running (run at host boot)')
    .action(async () => {
      const ctx = getCtx();
      for (const id of await ctx.engine().containers.boot()) ctx.out(id);
    });

  program
    .command('inspect')
    .description('Return low-level information on gantry objects')
    .argument('<NAME|ID...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .option('--type <type>', 'Return JSON for specified type')
    .option('-s, --size', 'Display total file sizes if the type is container')
    .action(async (inputs: string[], o: { format?: string; type?: string; size?: boolean }) => {
      const ctx = getCtx();
      if (o.type && o.type !== 'image' && o.type !== 'container' && o.type !== 'volume') {
        throw errors.invalid(`"${o.type}" is not a valid value for --type`);
      }
      const found: unknown[] = [];
      const engine = ctx.engine();
      // Docker's order: a container, then an image, then a volume of that name.
      const lookups: [string, (input: string) => Promise<unknown>][] = [
        ['container', (i) => engine.containers.inspect(i, o.size)],
        ['image', (i) => engine.images.inspect(i)],
        ['volume', async (i) => engine.volumes.inspect(i)],
      ];
      for (const input of inputs) {
        let value: unknown;
        let lastErr: unknown;
        for (const [type, lookup] of lookups) {
          if (o.type && o.type !== type) continue;
          try {
            value = await lookup(input);
            break;
          } catch (err) {
            if (!isGantryError(err, 'NOT_FOUND')) {
              lastErr = err;
              break;
            }
          }
        }
        if (value !== undefined) found.push(value);
        else {
          ctx.err(lastErr ? renderError(lastErr) : `Error: No such object: ${input}`);
          ctx.fail(lastErr ? exitCodeOf(lastErr) : 1);
        }
      }
      writeInspect(ctx, found, o.format);
    });
}

async function diskUsage(ctx: CliContext, format: string | undefined): Promise<void> {
  const { images, containers } = await ctx.engine().diskUsage();
  const volumes = ctx.engine().volumes.usage();
  // Docker's integer division: 99.6% prints as 99%.
  const pct = (part: number, whole: number) => (whole > 0 ? ` (${Math.trunc((part * 100) / whole)}%)` : '');
  const rows = [
    {
      Type: 'Images',
      TotalCount: String(images.total),
      Active: String(images.active),
      Size: humanSize(images.size),
      Reclaimable: `${humanSize(images.reclaimable)}${pct(images.reclaimable, images.size)}`,
    },
    {
      Type: 'Containers',
      TotalCount: String(containers.total),
      Active: String(containers.active),
      Size: humanSize(containers.size),
      Reclaimable: `${humanSize(containers.reclaimable)}${pct(containers.reclaimable, containers.size)}`,
    },
    {
      Type: 'Local Volumes',
      TotalCount: String(volumes.volumes.length),
      Active: String(volumes.active),
      Size: humanSize(volumes.totalSize),
      Reclaimable: `${humanSize(volumes.reclaimable)}${pct(volumes.reclaimable, volumes.totalSize)}`,
    },
    { Type: 'Build Cache', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
  ];
  ctx.stdout.write(
    formatRows(format, rows, {
      defaultTable: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
      headers: { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
    }),
  );
}
