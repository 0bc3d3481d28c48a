/**
 * Go text/template for `--format`, behaving like the Docker CLI's (`templates.Parse`):
 * Go's template language and builtins plus Docker's `json`, `split`, `join`, `title`,
 * `lower`, `upper`, `pad` and `truncate`.
 *
 * ```ts
 * const t = compileTemplate('{{.ID | printf "%.12s"}}\t{{join .Names ","}}');
 * t.render(row); // compile once, render many
 * ```
 *
 * Data follows the conventions in go-values.ts: plain objects are Go structs (a missing
 * property is an error), `Map`s and objects marked with {@link asMap} / {@link MAP_LIKE} are
 * Go maps (a missing key prints `<no value>`), functions are methods.
 *
 * Errors are GantryError INVALID_ARGUMENT with Docker's wording, e.g.
 * `template parsing error: template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type struct`.
 *
 * Docker defines no `trim` or `padWithSpace` template function, so neither does gantry
 * (`function "trim" not defined`, as `docker` says).
 *
 * Not supported: `define`, `template` and `block`; complex numbers; Go's `%x` of floats and
 * `%p`; methods of time.Time (a `Date` only prints). JavaScript numbers cannot say whether they were Go ints or floats: integral values
 * print as ints (`1000000`, where Go would print a float64 as `1e+06`).
 */
import { GantryError } from '../../core/errors.js';
import { executeTemplate } from './template-exec.js';
import { BUILTIN_FUNCS, DOCKER_FUNCS, FUNC_NAMES, HEADER_FUNCS } from './template-funcs.js';
import { parseTemplate, TemplateSyntaxError, type Tree } from './template-parser.js';

/** Markers for template data: {@link asMap}/{@link MAP_LIKE} make an object a Go map, {@link GO_TYPE} names its type. */
export { asMap, GO_TYPE, MAP_LIKE } from './go-values.js';

/** Options for {@link Template.render}. */
export interface RenderOptions {
  /**
   * The data is one row of a `docker ls`-style listing (a Docker formatter context): `{{json .}}`
   * on it sorts keys and escapes `<`, `>`, `&` as `\u003c`… exactly as Docker's does
   * (e.g. `"Repository":"\u003cnone\u003e"`). Set by the table formatter.
   */
  rowContext?: boolean;
  /** Use Docker's HeaderFunctions (`json`, `join`, `upper`, … return their argument) to render a table header. */
  header?: boolean;
  /** Return the output written before an execution error instead of throwing (Go writes partial output too). */
  partialOnError?: boolean;
}

/** A compiled template. */
export interface Template {
  /** The source it was compiled from. */
  readonly source: string;
  /** Executes the template against `data`; throws GantryError INVALID_ARGUMENT on an execution error. */
  render(data: unknown, options?: RenderOptions): string;
}

const FUNCS = { ...BUILTIN_FUNCS, ...DOCKER_FUNCS };
const HEADER = { ...FUNCS, ...HEADER_FUNCS };

function templateError(message: string, cause: unknown): GantryError {
  return new GantryError('INVALID_ARGUMENT', `template parsing error: ${message}`, { cause });
}

/** Parses `source` once; throws GantryError INVALID_ARGUMENT (`template parsing error: template: :1: …`) on a syntax error. */
export function compileTemplate(source: string): Template {
  let tree: Tree;
  try {
    tree = parseTemplate(source, FUNC_NAMES);
  } catch (e) {
    if (e instanceof TemplateSyntaxError) throw templateError(e.message, e);
    throw e;
  }
  return {
    source,
    render(data: unknown, options: RenderOptions = {}): string {
      const { output, error } = executeTemplate(tree, data, {
        funcs: options.header ? HEADER : FUNCS,
        rowContext: options.rowContext ?? false,
      });
      if (error && !options.partialOnError) throw templateError(error.message, error);
      return output;
    },
  };
}

/** Compiles and renders in one step (prefer {@link compileTemplate} when rendering many values). */
export function renderTemplate(source: string, data: unknown, options?: RenderOptions): string {
  return compileTemplate(source).render(data, options);
}
