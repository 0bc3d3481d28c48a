/**
 * The parser for Go text/template (text/template/parse/parse.go): builds the node tree the
 * executor walks and reports syntax errors with Go's wording (`template: :1: …`).
 * `define`, `template` and `block` are not supported.
 */
import { goQuote } from './go-strconv.js';
import { lex, tokenString, type Token, type TokenType } from './template-lexer.js';

/** A `.Field.Chain` on dot. */
export interface FieldNode { type: 'field'; pos: number; ident: string[] }
/** `$` or `$x`, possibly followed by fields: ident is `['$x', 'Field', …]`. */
export interface VariableNode { type: 'variable'; pos: number; ident: string[] }
/** Fields applied to a parenthesised pipeline or function result: `(index . 0).Name`. */
export interface ChainNode { type: 'chain'; pos: number; node: ArgNode; field: string[] }
/** A function name. */
export interface IdentifierNode { type: 'identifier'; pos: number; name: string }
/** A number literal; `value` is the numeric value, `isInt`/`isFloat` say which Go types it fits. */
export interface NumberNode { type: 'number'; pos: number; text: string; value: number; isInt: boolean; isFloat: boolean }
/** A string literal: `quoted` as written, `text` unquoted. */
export interface StringNode { type: 'string'; pos: number; quoted: string; text: string }
/** `.`, `nil`, `true`/`false`. */
export type LiteralNode = { type: 'dot'; pos: number } | { type: 'nil'; pos: number } | { type: 'bool'; pos: number; value: boolean };
/** One operand of a command. */
export type ArgNode = FieldNode | VariableNode | ChainNode | IdentifierNode | NumberNode | StringNode | LiteralNode | PipeNode;
/** A command: a function, method or value followed by its arguments. */
export interface CommandNode { type: 'command'; pos: number; args: ArgNode[] }
/** A pipeline with optional variable declarations: `$x := cmd | cmd`. */
export interface PipeNode { type: 'pipe'; pos: number; line: number; isAssign: boolean; decl: VariableNode[]; cmds: CommandNode[] }
/** A sequence of nodes. */
export interface ListNode { type: 'list'; pos: number; nodes: Node[] }
/** `{{if}}`, `{{range}}` or `{{with}}` with its body and optional else body. */
export interface BranchNode { type: 'if' | 'range' | 'with'; pos: number; line: number; pipe: PipeNode; list: ListNode; elseList: ListNode | null }
/** A node of the template body. */
export type Node =
  | { type: 'text'; pos: number; text: string }
  | { type: 'action'; pos: number; line: number; pipe: PipeNode }
  | { type: 'break' | 'continue'; pos: number; line: number }
  | BranchNode;
type EndOrElse = { type: 'end'; pos: number } | { type: 'else'; pos: number };

/** A parsed template: its body and the source it came from (for error positions). */
export interface Tree { root: ListNode; text: string }

/** Renders a node back to template syntax, as Go's Node.String does (used in error messages). */
export function nodeString(n: Node | ArgNode | CommandNode | ListNode | EndOrElse): string {
  switch (n.type) {
    case 'field': return '.' + n.ident.join('.');
    case 'variable': return n.ident.join('.');
    case 'chain': return (n.node.type === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node)) + n.field.map((f) => '.' + f).join('');
    case 'identifier': return n.name;
    case 'number': return n.text;
    case 'string': return n.quoted;
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return String(n.value);
    case 'command': return n.args.map((a) => (a.type === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'pipe': {
      const decl = n.decl.length > 0 ? n.decl.map(nodeString).join(', ') + (n.isAssign ? ' = ' : ' := ') : '';
      return decl + n.cmds.map(nodeString).join(' | ');
    }
    case 'list': return n.nodes.map(nodeString).join('');
    case 'text': return n.text;
    case 'action': return `{{${nodeString(n.pipe)}}}`;
    case 'break': case 'continue': case 'end': case 'else': return `{{${n.type}}}`;
    default:
      return `{{${n.type} ${nodeString(n.pipe)}}}${nodeString(n.list)}${n.elseList ? '{{else}}' + nodeString(n.elseList) : ''}{{end}}`;
  }
}

/** Thrown for a template syntax error; the message is Go's (`template: :1: …`). */
export class TemplateSyntaxError extends Error {}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** Go's strconv.Unquote for "…", `…` and '…' literals; undefined when the literal is malformed. */
export function unquote(lit: string): string | undefined {
  const q = lit[0];
  if (q === '`') return lit.slice(1, -1).replace(/\r/g, '');
  let out = '';
  const body = lit.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === q) return undefined;
    if (c !== '\\') { out += c; continue; }
    const e = body[++i] ?? '';
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (ESCAPES[e] !== undefined) out += ESCAPES[e];
    else if (e === q) out += e;
    else if (hexLen > 0 || /[0-7]/.test(e)) {
      const digits = hexLen > 0 ? body.slice(i + 1, i + 1 + hexLen) : body.slice(i, i + 3);
      if (!(hexLen > 0 ? /^[0-9a-fA-F]+$/ : /^[0-7]{3}$/).test(digits) || digits.length !== (hexLen || 3)) return undefined;
      const cp = parseInt(digits, hexLen > 0 ? 16 : 8);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff && hexLen > 2)) return undefined;
      out += hexLen === 2 || hexLen === 0 ? String.fromCharCode(cp) : String.fromCodePoint(cp);
      i += hexLen > 0 ? hexLen : 2;
    } else return undefined;
  }
  if (q === "'" && Array.from(out).length !== 1) return undefined;
  return out;
}

const INT_RE = /^[+-]?(0[xX]_?[0-9a-fA-F]+(_[0-9a-fA-F]+)*|0[oO]_?[0-7]+(_[0-7]+)*|0[bB]_?[01]+(_[01]+)*|0(_?[0-7]+)*|[1-9](_?[0-9]+)*)$/;
const FLOAT_RE = /^[+-]?(\d+(_\d+)*(\.(\d+(_\d+)*)?)?|\.\d+(_\d+)*)([eE][+-]?\d+(_\d+)*)?$/;

function parseIntLiteral(text: string): number | undefined {
  if (!INT_RE.test(text)) return undefined;
  const neg = text.startsWith('-');
  let body = text.replace(/^[+-]/, '').replace(/_/g, '');
  if (/^0[0-7]/.test(body)) body = '0o' + body.slice(1);
  const v = Number(BigInt(body));
  return neg ? -v : v;
}

class Parser {
  private i = 0;
  private furthest = 0;
  private vars = ['$'];
  private rangeDepth = 0;
  private actionLine = 0;
  private readonly tokens: Token[];

  constructor(private readonly text: string, private readonly funcs: ReadonlySet<string>) {
    this.tokens = lex(text);
  }

  private next(): Token {
    const t = this.tokens[Math.min(this.i, this.tokens.length - 1)] as Token;
    this.furthest = Math.max(this.furthest, this.i);
    this.i++;
    return t;
  }
  private backup(): void { this.i--; }
  private peek(): Token { const t = this.next(); this.backup(); return t; }
  private nextNonSpace(): Token { let t = this.next(); while (t.type === 'space') t = this.next(); return t; }
  private peekNonSpace(): Token { const t = this.nextNonSpace(); this.backup(); return t; }
  private isKeyword(t: Token, word: string): boolean { return t.type === 'keyword' && t.val === word; }

  private errorf(msg: string): never {
    const line = (this.tokens[Math.min(this.furthest, this.tokens.length - 1)] as Token).line;
    throw new TemplateSyntaxError(`template: :${line}: ${msg}`);
  }

  private unexpected(token: Token, context: string): never {
    if (token.type === 'error') {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at :${this.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(token.val + extra);
    }
    this.errorf(`unexpected ${tokenString(token)} in ${context}`);
  }

  private expect(type: TokenType, context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  parse(): Tree {
    const root: ListNode = { type: 'list', pos: this.peek().pos, nodes: [] };
    while (this.peek().type !== 'eof') {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${nodeString(n)}`);
      else root.nodes.push(n);
    }
    return { root, text: this.text };
  }

  private itemList(): [ListNode, EndOrElse] {
    const list: ListNode = { type: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      else list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node | EndOrElse {
    const token = this.nextNonSpace();
    if (token.type === 'text') return { type: 'text', pos: token.pos, text: token.val };
    if (token.type !== 'leftDelim') this.unexpected(token, 'input');
    this.actionLine = token.line;
    try {
      return this.action();
    } finally {
      this.actionLine = 0;
    }
  }

  private action(): Node | EndOrElse {
    const token = this.nextNonSpace();
    if (token.type === 'keyword') {
      switch (token.val) {
        case 'block': case 'define': case 'template':
          this.errorf(`{{${token.val}}} is not supported`);
        // falls through (errorf never returns)
        case 'break': case 'continue': {
          const t = this.nextNonSpace();
          if (t.type !== 'rightDelim') this.unexpected(t, `{{${token.val}}}`);
          if (this.rangeDepth === 0) this.errorf(`{{${token.val}}} outside {{range}}`);
          return { type: token.val, pos: token.pos, line: token.line };
        }
        case 'else': {
          const peek = this.peekNonSpace();
          if (this.isKeyword(peek, 'if') || this.isKeyword(peek, 'with')) return { type: 'else', pos: peek.pos };
          return { type: 'else', pos: this.expect('rightDelim', 'else').pos };
        }
        case 'end': return { type: 'end', pos: this.expect('rightDelim', 'end').pos };
        case 'if': case 'range': case 'with': return this.control(token.val);
      }
    }
    this.backup();
    const t = this.peek();
    return { type: 'action', pos: t.pos, line: t.line, pipe: this.pipeline('command', 'rightDelim') };
  }

  private control(context: 'if' | 'range' | 'with'): BranchNode {
    const nvars = this.vars.length;
    try {
      const pipe = this.pipeline(context, 'rightDelim');
      if (context === 'range') this.rangeDepth++;
      const [list, next] = this.itemList();
      if (context === 'range') this.rangeDepth--;
      let elseList: ListNode | null = null;
      if (next.type === 'else') {
        if (context !== 'range' && this.isKeyword(this.peek(), context)) {
          this.next();
          elseList = { type: 'list', pos: next.pos, nodes: [this.control(context)] };
        } else {
          const [l, end] = this.itemList();
          if (end.type !== 'end') this.errorf(`expected end; found ${nodeString(end)}`);
          elseList = l;
        }
      }
      return { type: context, pos: pipe.pos, line: pipe.line, pipe, list, elseList };
    } finally {
      this.vars.length = nvars;
    }
  }

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const first = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: first.pos, line: first.line, isAssign: false, decl: [], cmds: [] };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      const save = this.i;
      this.next();
      const next = this.peekNonSpace();
      if (next.type === 'assign' || next.type === 'declare') {
        pipe.isAssign = next.type === 'assign';
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
      } else if (next.type === 'char' && next.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const t = this.peekNonSpace().type;
          if (t === 'variable' || t === 'rightDelim' || t === 'rightParen') continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      } else this.i = save;
      break;
    }
    for (;;) {
      const token = this.nextNonSpace();
      if (token.type === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      const operandStart = ['bool', 'charConstant', 'complex', 'field', 'identifier', 'number', 'rawString', 'string', 'variable', 'leftParen'];
      if (!operandStart.includes(token.type) && !this.isKeyword(token, '.') && !this.isKeyword(token, 'nil')) this.unexpected(token, context);
      this.backup();
      pipe.cmds.push(this.command());
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      if (['bool', 'dot', 'nil', 'number', 'string'].includes((c.args[0] as ArgNode).type)) {
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const token = this.next();
      if (token.type === 'space') continue;
      if (token.type === 'rightDelim' || token.type === 'rightParen') this.backup();
      else if (token.type !== 'pipe') this.unexpected(token, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): ArgNode | null {
    const node = this.term();
    if (!node || this.peek().type !== 'field') return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().val.slice(1));
    switch (node.type) {
      case 'field': return { type: 'field', pos, ident: [...node.ident, ...fields] };
      case 'variable': return { type: 'variable', pos, ident: [...node.ident, ...fields] };
      case 'bool': case 'string': case 'number': case 'nil': case 'dot':
        this.errorf(`unexpected . after term ${goQuote(nodeString(node))}`);
      // falls through (errorf never returns)
      default: return { type: 'chain', pos, node, field: fields };
    }
  }

  private term(): ArgNode | null {
    const token = this.nextNonSpace();
    switch (token.type) {
      case 'error': this.errorf(token.val);
      // falls through (errorf never returns)
      case 'identifier':
        if (!this.funcs.has(token.val)) this.errorf(`function ${goQuote(token.val)} not defined`);
        return { type: 'identifier', pos: token.pos, name: token.val };
      case 'keyword':
        if (token.val === '.') return { type: 'dot', pos: token.pos };
        if (token.val === 'nil') return { type: 'nil', pos: token.pos };
        break;
      case 'variable': {
        const v = this.newVariable(token.pos, token.val);
        if (!this.vars.includes(v.ident[0] as string)) this.errorf(`undefined variable ${goQuote(v.ident[0] as string)}`);
        return v;
      }
      case 'field': return { type: 'field', pos: token.pos, ident: token.val.slice(1).split('.') };
      case 'bool': return { type: 'bool', pos: token.pos, value: token.val === 'true' };
      case 'charConstant': case 'complex': case 'number': return this.newNumber(token);
      case 'leftParen': return this.pipeline('parenthesized pipeline', 'rightParen');
      case 'string': case 'rawString': {
        const text = unquote(token.val);
        if (text === undefined) this.errorf('invalid syntax');
        return { type: 'string', pos: token.pos, quoted: token.val, text };
      }
      default: break;
    }
    this.backup();
    return null;
  }

  private newVariable(pos: number, name: string): VariableNode {
    return { type: 'variable', pos, ident: name.split('.') };
  }

  private newNumber(token: Token): NumberNode {
    const base = { type: 'number' as const, pos: token.pos, text: token.val };
    if (token.type === 'charConstant') {
      const s = unquote(token.val);
      if (s === undefined) this.errorf(`malformed character constant: ${token.val}`);
      return { ...base, value: s.codePointAt(0) as number, isInt: true, isFloat: true };
    }
    if (token.type === 'complex' || token.val.endsWith('i')) this.errorf(`complex constants are not supported: ${token.val}`);
    const int = parseIntLiteral(token.val);
    if (int !== undefined) return { ...base, value: int, isInt: true, isFloat: true };
    if (FLOAT_RE.test(token.val)) {
      const value = Number(token.val.replace(/_/g, ''));
      return { ...base, value, isInt: Number.isInteger(value), isFloat: true };
    }
    this.errorf(`illegal number syntax: ${goQuote(token.val)}`);
  }
}

/** Parses template source; `funcs` are the defined function names. Throws {@link TemplateSyntaxError}. */
export function parseTemplate(text: string, funcs: ReadonlySet<string>): Tree {
  return new Parser(text, funcs).parse();
}
