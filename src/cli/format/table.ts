/**
 * Docker's `--format` handling for listing commands (docker/cli cli/command/formatter
 * formatter.go): `table …` renders a header row and aligns columns, `json` prints one JSON
 * object per row, anything else is a template rendered once per row.
 *
 * ```ts
 * formatRows(opts.format, rows, {
 *   defaultTable: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}',
 *   headers: { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE' },
 * });
 * ```
 *
 * Rows are plain objects whose properties are the template fields (Docker's formatter
 * context: `{{.Foo}}` on a missing property is an error) and may include methods such as
 * `Label(name)`. `-q` and `raw` are left to callers.
 */
import { compileTemplate, type Template } from './go-template.js';
import { asMap } from './go-values.js';
import { tabwrite } from './tabwriter.js';

/** Per-command settings for {@link formatRows}. */
export interface FormatRowsOptions {
  /** The command's default format, used for no `--format`, `""` or `table` (e.g. `table {{.ID}}\t{{.Names}}`). */
  defaultTable: string;
  /** Column titles by field name, e.g. `{ ID: 'CONTAINER ID' }` (Docker's SubHeaderContext). */
  headers: Record<string, string>;
}

/** A `--format` value resolved the way Docker's Format type does. */
export interface ResolvedFormat {
  /** True for `table …` formats (a header row, then tab-aligned rows). */
  table: boolean;
  /** The template text to render per row. */
  template: string;
}

/**
 * Resolves `--format`: undefined, `""` and `table` become `defaultTable`; `json` becomes `{{json .}}`;
 * a `table` prefix is stripped; surrounding spaces are trimmed and literal `\t` / `\n` become tab / newline.
 */
export function resolveFormat(format: string | undefined, defaultTable: string): ResolvedFormat {
  let source = format === undefined || format === '' || format === 'table' ? defaultTable : format;
  if (source === 'json') return { table: false, template: '{{json .}}' };
  const table = source.startsWith('table');
  if (table) source = source.slice('table'.length);
  source = source.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return { table, template: source };
}

/** Docker's SubHeaderContext.Label: the header for `{{.Label "com.example.some-label"}}` is `some label`. */
function headerLabel(name: string): string {
  const parts = name.split('.');
  return (parts[parts.length - 1] as string).replace(/[-_]/g, ' ');
}

/** The data a table header is rendered with: the header map plus Docker's `Label` method. */
function headerData(headers: Record<string, string>): object {
  const data: Record<string, unknown> = { ...headers };
  Object.defineProperty(data, 'Label', { value: headerLabel, enumerable: false });
  return asMap(data);
}

/** Renders `tmpl` once per row, each followed by a newline; throws on the first row that fails, printing nothing. */
function renderRows(tmpl: Template, rows: object[]): string {
  let out = '';
  for (const row of rows) out += tmpl.render(row, { rowContext: true }) + '\n';
  return out;
}

/**
 * Formats `rows` for a listing command exactly as the Docker CLI would print them, including
 * the trailing newline. Throws GantryError INVALID_ARGUMENT (`template parsing error: …`) for
 * a bad template or a row it cannot render.
 */
export function formatRows(format: string | undefined, rows: object[], opts: FormatRowsOptions): string {
  const { table, template } = resolveFormat(format, opts.defaultTable);
  const tmpl = compileTemplate(template);
  const body = renderRows(tmpl, rows);
  if (!table) return body;
  const header = tmpl.render(headerData(opts.headers), { header: true, partialOnError: true });
  return tabwrite(header + '\n' + body);
}

/** Renders a (non-table) template once per row and returns each row's text, for callers that print rows themselves. */
export function renderEach(format: string, rows: object[]): string[] {
  const tmpl = compileTemplate(format);
  return rows.map((row) => tmpl.render(row, { rowContext: true }));
}
