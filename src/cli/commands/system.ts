/**
 * System commands: `system df`, and the type-dispatching `inspect`.
 */
import type { Command } from 'commander';
import { errors } from '../../core/errors.js';
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
    .action((o: { format?: string }) => diskUsage(getCtx(), o.format));

  program
    .command('inspect')
    .description('Return low-level information on gantry objects')
    .argument('<NAME|ID...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .option('--type <type>', 'Return JSON for specified type')
    .option('-s, --size', 'Display total file sizes if the type is container')
    .action(async (inputs: string[], o: { format?: string; type?: string }) => {
      const ctx = getCtx();
      if (o.type && o.type !== 'image') throw errors.invalid(`"${o.type}" is not a valid value for --type`);
      const found: unknown[] = [];
      for (const input of inputs) {
        try {
          found.push(await ctx.engine().images.inspect(input));
        } catch (err) {
          ctx.err(renderError(err).replace('No such image', 'No such object'));
          ctx.fail(exitCodeOf(err));
        }
      }
      writeInspect(ctx, found, o.format);
    });
}

function diskUsage(ctx: CliContext, format: string | undefined): void {
  const { images } = ctx.engine().diskUsage();
  const pct = (part: number, whole: number) => (whole > 0 ? ` (${Math.round((part * 100) / whole)}%)` : '');
  const rows = [
    {
      Type: 'Images',
      TotalCount: String(images.total),
      Active: String(images.active),
      Size: humanSize(images.size),
      Reclaimable: `${humanSize(images.reclaimable)}${pct(images.reclaimable, images.size)}`,
    },
    { Type: 'Containers', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
    { Type: 'Local Volumes', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
    { Type: 'Build Cache', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
  ];
  ctx.stdout.write(
    formatRows(format, rows, {
      defaultTable: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
      headers: { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
    }),
  );
}
