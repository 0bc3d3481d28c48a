/**
 * The first stage of reading a Dockerfile: text to a list of instruction nodes, as BuildKit's
 * frontend/dockerfile/parser does. It handles parser directives, comments, line continuations,
 * here-documents and `--flags`, and splits each instruction's arguments in that instruction's
 * way, but does not interpret them (see instructions.ts) nor expand variables (shell-lexer.ts).
 *
 * @see https://docs.docker.com/reference/dockerfile/#format
 */
import { DirectiveParser, type Directive } from './directives.js';
import { dockerfileError } from './errors.js';
import { heredocsFromLine, type Heredoc } from './heredoc.js';
import {
  parseHealthConfig,
  parseMaybeJSON,
  parseMaybeJSONToList,
  parseNameVal,
  parseWhitespaceDelimited,
  parseWords,
  splitCommand,
  type ParsedArgs,
} from './line-parsers.js';

/** One instruction as written, with its arguments split but not interpreted. */
export interface Node {
  /** The instruction keyword as written (`run`, `RUN`, ...). */
  keyword: string;
  /** The `--flags` before the arguments, quotes removed (`from=build`). */
  flags: string[];
  /**
   * The arguments: for ENV and LABEL [key, value, separator] triples (separator "" in the legacy
   * `ENV key value` form); for HEALTHCHECK the type then the command; otherwise the words or the
   * JSON array elements.
   */
  args: string[];
  /** The arguments came from a JSON array (exec form). */
  json: boolean;
  /** Here-documents, in the order the line opens them. */
  heredocs: Heredoc[];
  /** The logical line: continuation lines joined, comments and line endings removed. */
  original: string;
  /** 1-based first and last line, the last including continuation and here-document lines. */
  startLine: number;
  endLine: number;
  /** Comment lines directly above the instruction. */
  comments: string[];
  /** ONBUILD's trigger instruction. */
  trigger?: Node;
}

/** Something suspicious that BuildKit warns about but accepts. */
export interface ParseWarning {
  message: string;
  line: number;
}

/** The nodes of a Dockerfile with its parser directives. */
export interface ParseResult {
  nodes: Node[];
  directives: Directive[];
  /** The escape token in effect: `\` or `` ` ``. */
  escapeToken: string;
  warnings: ParseWarning[];
}

/** Options of {@link parse}. */
export interface ParseOptions {
  /** Name used in error messages; default "Dockerfile". */
  file?: string;
}

const HEREDOC_KEYWORDS = new Set(['add', 'copy', 'run']);

function splitArgs(keyword: string, rest: string, escapeToken: string): ParsedArgs {
  const plain = (args: string[]): ParsedArgs => ({ args, json: false });
  switch (keyword.toLowerCase()) {
    case 'add':
    case 'copy':
    case 'volume':
      return parseMaybeJSONToList(rest);
    case 'cmd':
    case 'entrypoint':
    case 'run':
    case 'shell':
      return parseMaybeJSON(rest);
    case 'arg':
      return plain(parseWords(rest, escapeToken));
    case 'env':
      return plain(parseNameVal(rest, 'ENV', escapeToken));
    case 'label':
      return plain(parseNameVal(rest, 'LABEL', escapeToken));
    case 'expose':
    case 'from':
      return plain(parseWhitespaceDelimited(rest));
    case 'healthcheck':
      return parseHealthConfig(rest);
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      return plain(rest === '' ? [] : [rest]);
    default:
      return plain([]); // unknown instructions are reported by instructions.ts, with a suggestion
  }
}

/** Builds a node from one logical line (also used for ONBUILD's trigger). */
function nodeFromLine(line: string, escapeToken: string, comments: string[]): Node {
  const { keyword, flags, rest } = splitCommand(line, escapeToken);
  const node: Node = { keyword, flags, args: [], json: false, heredocs: [], original: line, startLine: 0, endLine: 0, comments };
  if (keyword.toLowerCase() === 'onbuild') {
    if (rest !== '') {
      node.trigger = nodeFromLine(rest, escapeToken, []);
      node.args = [node.trigger.keyword, ...node.trigger.args];
    }
    return node;
  }
  Object.assign(node, splitArgs(keyword, rest, escapeToken));
  return node;
}

function canContainHeredoc(node: Node): boolean {
  const target = node.trigger ?? node;
  return HEREDOC_KEYWORDS.has(target.keyword.toLowerCase()) && !target.json;
}

const trimNewline = (s: string): string => s.replace(/[\r\n]+$/, '');
const trimLeft = (s: string): string => s.replace(/^\p{White_Space}+/u, '');
const isComment = (s: string): boolean => trimLeft(s).startsWith('#');

/** Splits into lines that keep their line endings. */
function scanLines(text: string): string[] {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  return lines;
}

/**
 * Parses Dockerfile text into nodes. Throws INVALID_ARGUMENT prefixed with `<file>:<line>: `.
 */
export function parse(text: string, options: ParseOptions = {}): ParseResult {
  const file = options.file ?? 'Dockerfile';
  const lines = scanLines(text.replace(/^\uFEFF/, ''));
  const directiveParser = new DirectiveParser();
  const directives: Directive[] = [];
  const warnings: ParseWarning[] = [];
  const nodes: Node[] = [];
  let escapeToken = '\\';
  let continuation = /([^\\])\\[ \t]*$|^\\[ \t]*$/;
  let comments: string[] = [];
  let index = 0; // next line to read (0-based); equals the 1-based number of the last line read

  const fail = (err: unknown, line: number): never => {
    throw dockerfileError(file, line, (err as Error).message, err);
  };
  // Directives are looked for on every line until the first non-directive, as BuildKit does.
  const processLine = (raw: string, stripLeft: boolean, lineNumber: number): { line: string; directive: boolean } => {
    let line = trimNewline(raw);
    if (stripLeft) line = trimLeft(line);
    let directive: Directive | undefined;
    try {
      directive = directiveParser.parseLine(line, lineNumber);
      if (directive?.name === 'escape') {
        if (directive.value !== '`' && directive.value !== '\\') {
          throw new Error(`invalid escape token '${directive.value}' does not match \` or \\`);
        }
        escapeToken = directive.value;
        const e = escapeToken === '`' ? '`' : '\\\\';
        continuation = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
      }
    } catch (err) {
      fail(err, lineNumber);
    }
    if (directive) directives.push(directive);
    return { line: isComment(line) ? '' : line, directive: directive !== undefined };
  };
  const trimContinuation = (line: string): { line: string; end: boolean } =>
    continuation.test(line) ? { line: line.replace(continuation, '$1'), end: false } : { line, end: true };

  while (index < lines.length) {
    const raw = lines[index] as string;
    if (isComment(raw)) {
      const comment = trimLeft(raw).slice(1).trim();
      if (comment === '') comments = [];
      else comments.push(comment);
    }
    const first = processLine(raw, true, index + 1);
    if (first.directive) comments.pop();
    index++;
    const startLine = index;
    let { line, end } = trimContinuation(first.line);
    if (end && line.length === 0) continue;
    let logical = line;
    let emptyContinuation = false;
    while (!end && index < lines.length) {
      const next = lines[index] as string;
      const processed = processLine(next, false, index + 1).line;
      index++;
      if (isComment(next)) continue; // comments may sit between continuation lines
      if (trimLeft(trimNewline(processed)).length === 0) {
        emptyContinuation = true;
        continue;
      }
      ({ line, end } = trimContinuation(processed));
      logical += line;
    }
    if (emptyContinuation) warnings.push({ message: `Empty continuation line found in: ${logical}`, line: index });

    let node: Node;
    try {
      node = nodeFromLine(logical, escapeToken, comments);
    } catch (err) {
      return fail(err, startLine);
    }
    if (canContainHeredoc(node) && logical.includes('<<')) {
      let docs: ReturnType<typeof heredocsFromLine>;
      try {
        docs = heredocsFromLine(logical);
      } catch (err) {
        return fail(err, startLine);
      }
      for (const doc of docs) {
        let content = '';
        let terminated = false;
        while (index < lines.length) {
          const l = lines[index] as string;
          index++;
          let candidate = trimNewline(l);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          content += l;
        }
        if (!terminated) fail(new Error('unterminated heredoc'), startLine);
        node.heredocs.push({ ...doc, content });
      }
    }
    node.startLine = startLine;
    node.endLine = index;
    nodes.push(node);
    comments = [];
  }
  if (nodes.length === 0) fail(new Error('file with no instructions'), index);
  return { nodes, directives, escapeToken, warnings };
}
