/**
 * `search`: repositories of a registry matching a term, printed as Docker's CLI prints them
 * (docker/cli cli/command/registry/search.go and formatter_search.go): the table
 * NAME / DESCRIPTION / STARS / OFFICIAL — without the AUTOMATED column, which Docker 25 dropped
 * from the default — descriptions on one line and cut to 45 columns unless `--no-trunc`, and
 * `--format` with the fields .Name .Description .StarCount .IsOfficial .IsAutomated.
 * The search itself (term, limit, filters) is the engine's.
 */
import type { Command } from 'commander';
import type { SearchFilterArg, SearchResult } from '../../engine/engine.js';
import type { CliContext } from '../context.js';
import { ellipsis } from '../format/ellipsis.js';
import { formatRows, resolveFormat } from '../format/table.js';
import { collect } from '../options.js';
import { cut, flagError, parseGoInt } from './run-flags-go.js';

type Ctx = () => CliContext;

interface SearchFlags {
  filter: string[];
  format?: string;
  limit?: string;
  trunc: boolean;
}

/** One row: what Docker's searchContext exposes to templates (every field a string). */
interface SearchRow {
  Name: string;
  Description: string;
  StarCount: string;
  IsOfficial: string;
  IsAutomated: string;
}

const DEFAULT_TABLE = 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}';
const HEADERS = { Name: 'NAME', Description: 'DESCRIPTION', StarCount: 'STARS', IsOfficial: 'OFFICIAL', IsAutomated: 'AUTOMATED' };
const DESCRIPTION_WIDTH = 45;

/** Adds `search`. */
export function registerSearchCommand(program: Command, getCtx: Ctx): void {
  program
    .command('search')
    .description('Search Docker Hub for images')
    .argument('<TERM>')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option('--format <string>', 'Pretty-print search using a Go template')
    .option('--limit <int>', 'Max number of search results')
    .option('--no-trunc', "Don't truncate output")
    .action(async (term: string, o: SearchFlags) => searchCommand(getCtx(), term, o));
}

async function searchCommand(ctx: CliContext, term: string, o: SearchFlags): Promise<void> {
  // Flag values first, as pflag rejects them before the command runs (exit 125).
  const filters = o.filter.filter((f) => f !== '').map(filterArg);
  const limit = o.limit === undefined ? undefined : limitArg(o.limit);
  if (filters.some((f) => f.key === 'is-automated')) {
    ctx.err('WARNING: the "is-automated" filter is deprecated, and searching for "is-automated=true" will not yield any results in future.');
  }
  const results = await ctx.engine().search(term, { limit, filters });
  // NOTE: Docker's rows print booleans as "true"/"false" instead of "[OK]"/"" when they are
  // marshalled by `{{json .}}` (searchContext.MarshalJSON); `--format json` is that template.
  const json = o.format === 'json' || resolveFormat(o.format, DEFAULT_TABLE).template === '{{json .}}';
  const rows = results.map((r) => searchRow(r, o.trunc, json));
  ctx.stdout.write(formatRows(o.format, rows, { defaultTable: DEFAULT_TABLE, headers: HEADERS }));
}

function searchRow(r: SearchResult, trunc: boolean, json: boolean): SearchRow {
  const description = r.description.replace(/[\n\r]/g, ' ');
  const bool = (v: boolean) => (json ? String(v) : v ? '[OK]' : '');
  return {
    Name: r.name,
    Description: trunc ? ellipsis(description, DESCRIPTION_WIDTH) : description,
    StarCount: String(r.starCount),
    IsOfficial: bool(r.isOfficial),
    IsAutomated: bool(r.isAutomated),
  };
}

// docker/cli opts.FilterOpt: `name=value`, the name trimmed and lower-cased, the value trimmed
// (an empty flag value is ignored).
function filterArg(raw: string): SearchFilterArg {
  const [name, value, found] = cut(raw, '=');
  if (!found) throw flagError('-f, --filter', raw, 'bad format of filter (expected name=value)');
  return { key: name.trim().toLowerCase(), value: value.trim() };
}

// pflag's IntVar: strconv.ParseInt(s, 0, 64).
function limitArg(raw: string): number {
  try {
    return parseGoInt(raw);
  } catch (err) {
    throw flagError('--limit', raw, (err as Error).message);
  }
}
