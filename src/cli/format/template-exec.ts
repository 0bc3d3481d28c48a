/**
 * The executor for parsed templates (text/template/exec.go): walks the tree against the
 * data, evaluating fields, methods, variables and function calls with Go's semantics and
 * reporting failures with Go's wording (`template: :1:2: executing "" at <.Foo>: …`).
 */
import { formatValue } from './go-fmt.js';
import { goTypeName, hasField, kindOf, mapEntries, mapLookup, mapMethod } from './go-values.js';
import { isTrue, type FuncEnv, type FuncSpec, type ParamType } from './template-funcs.js';
import {
  nodeString,
  type ArgNode,
  type BranchNode,
  type ChainNode,
  type CommandNode,
  type FieldNode,
  type IdentifierNode,
  type ListNode,
  type Node,
  type PipeNode,
  type Tree,
  type VariableNode,
} from './template-parser.js';

/** Marks "no value from an earlier pipeline stage" (Go's missingVal). */
const MISSING: unique symbol = Symbol('missing');
type Final = unknown;
type AnyFn = (...args: unknown[]) => unknown;

/** An execution error; the message is Go's complete `template: …` text. */
export class TemplateExecError extends Error {}

const BREAK = { signal: 'break' };
const CONTINUE = { signal: 'continue' };

/** Settings for one execution. */
export interface ExecOptions {
  /** The functions in scope, by name. */
  funcs: Readonly<Record<string, FuncSpec>>;
  /** Passed to functions (see {@link FuncEnv}). */
  rowContext: boolean;
}

class State {
  readonly out: string[] = [];
  private readonly vars: { name: string; value: unknown }[];
  private node: Node | ArgNode | CommandNode | null = null;
  private readonly env: FuncEnv;

  constructor(private readonly tree: Tree, data: unknown, private readonly opts: ExecOptions) {
    this.vars = [{ name: '$', value: data }];
    this.env = { root: data, rowContext: opts.rowContext };
  }

  private at(n: Node | ArgNode | CommandNode): void {
    this.node = n;
  }

  private errorf(msg: string): never {
    if (this.node === null) throw new TemplateExecError(`template: : ${msg}`);
    const before = this.tree.text.slice(0, this.node.pos);
    const nl = before.lastIndexOf('\n');
    const col = Buffer.byteLength(nl < 0 ? before : before.slice(nl + 1), 'utf8');
    const line = before.split('\n').length;
    throw new TemplateExecError(`template: :${line}:${col}: executing "" at <${nodeString(this.node)}>: ${msg}`);
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]?.name === name) return this.vars[i]?.value;
    this.errorf(`undefined variable: ${name}`);
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i] as { name: string; value: unknown };
      if (v.name === name) {
        v.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private setTopVar(n: number, value: unknown): void {
    (this.vars[this.vars.length - n] as { value: unknown }).value = value;
  }

  walkList(dot: unknown, list: ListNode): void {
    for (const n of list.nodes) this.walk(dot, n);
  }

  private walk(dot: unknown, node: Node): void {
    this.at(node);
    switch (node.type) {
      case 'text':
        this.out.push(node.text);
        return;
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'if':
      case 'with':
        return this.walkIfOrWith(dot, node);
      case 'range':
        return this.walkRange(dot, node);
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
    }
  }

  private walkIfOrWith(dot: unknown, node: BranchNode): void {
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(val)) this.walkList(node.type === 'with' ? val : dot, node.list);
      else if (node.elseList) this.walkList(dot, node.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: unknown, r: BranchNode): void {
    this.at(r);
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const inner = this.vars.length;
      const { decl, isAssign } = r.pipe;
      let ran = false;
      const iterate = (index: unknown, elem: unknown): void => {
        ran = true;
        if (decl.length > 0) {
          if (isAssign) this.setVar(decl[0]?.ident[0] as string, decl.length > 1 ? index : elem);
          else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (isAssign) this.setVar(decl[1]?.ident[0] as string, elem);
          else this.setTopVar(2, index);
        }
        try {
          this.walkList(elem, r.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        } finally {
          this.vars.length = inner;
        }
      };
      try {
        switch (kindOf(val)) {
          case 'slice':
            (val as unknown[]).forEach((elem, i) => iterate(i, elem));
            break;
          case 'map':
            for (const [k, v] of mapEntries(val as object)) iterate(k, v);
            break;
          case 'int':
            if (decl.length > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
            for (let i = 0; i < Number(val); i++) iterate(i, i);
            break;
          case 'invalid':
          case 'nil':
            break;
          default:
            this.errorf(`range can't iterate over ${formatValue(val)}`);
        }
      } catch (e) {
        if (e !== BREAK) throw e;
      }
      if (!ran && r.elseList) this.walkList(dot, r.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0] as string, value);
      else this.vars.push({ name: v.ident[0] as string, value });
    }
    return value;
  }

  private notAFunction(args: ArgNode[] | null, final: Final): void {
    if ((args && args.length > 1) || final !== MISSING) {
      this.errorf(`can't give argument to non-function ${nodeString((args as ArgNode[])[0] as ArgNode)}`);
    }
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0] as ArgNode;
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
      default:
        break;
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'number':
        return first.value;
      case 'string':
        return first.text;
      default:
        this.errorf('nil is not a command');
    }
  }

  private evalFieldNode(dot: unknown, field: FieldNode, args: ArgNode[] | null, final: Final): unknown {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: unknown, chain: ChainNode, args: ArgNode[] | null, final: Final): unknown {
    this.at(chain);
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, 'value', chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: unknown, v: VariableNode, args: ArgNode[] | null, final: Final): unknown {
    this.at(v);
    const value = this.varValue(v.ident[0] as string);
    if (v.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(dot: unknown, receiver: unknown, node: ArgNode, ident: string[], args: ArgNode[] | null, final: Final): unknown {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i] as string, node, null, MISSING, receiver);
    return this.evalField(dot, ident[n - 1] as string, node, args, final, receiver);
  }

  private evalField(dot: unknown, name: string, node: ArgNode, args: ArgNode[] | null, final: Final, receiver: unknown): unknown {
    if (receiver === undefined) return undefined;
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    const kind = kindOf(receiver);
    if (kind === 'map') {
      const method = mapMethod(receiver as object, name);
      if (method) return this.evalCall(dot, method.bind(receiver), null, node, name, args, final);
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
      return mapLookup(receiver as object, name).value;
    }
    if (kind === 'struct' && hasField(receiver as object, name)) {
      const v = (receiver as Record<string, unknown>)[name];
      if (typeof v === 'function') return this.evalCall(dot, (v as AnyFn).bind(receiver), null, node, name, args, final, v.length);
      if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`);
      return v;
    }
    this.errorf(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }

  private evalFunction(dot: unknown, node: IdentifierNode, cmd: CommandNode | IdentifierNode, args: ArgNode[] | null, final: Final): unknown {
    this.at(node);
    const spec = this.opts.funcs[node.name];
    if (!spec) this.errorf(`"${node.name}" is not a defined function`);
    return this.evalCall(dot, null, spec, cmd, node.name, args, final);
  }

  private evalCall(
    dot: unknown,
    fn: AnyFn | null,
    spec: FuncSpec | null,
    node: ArgNode | CommandNode,
    name: string,
    args: ArgNode[] | null,
    final: Final,
    arity = fn?.length ?? 0,
  ): unknown {
    const argNodes = args ? args.slice(1) : [];
    const numIn = argNodes.length + (final !== MISSING ? 1 : 0);
    const params: ParamType[] = spec ? spec.params : new Array<ParamType>(arity).fill('any');
    const variadic = spec?.variadic;
    if (variadic !== undefined) {
      if (numIn < params.length) this.errorf(`wrong number of args for ${name}: want at least ${params.length} got ${argNodes.length}`);
    } else if (numIn !== params.length) {
      this.errorf(`wrong number of args for ${name}: want ${params.length} got ${numIn}`);
    }
    if (spec && (name === 'and' || name === 'or')) {
      let v: unknown;
      for (const a of argNodes) {
        v = this.evalArg(dot, 'value', a);
        if (isTrue(v) === (name === 'or')) return v;
      }
      return final !== MISSING ? final : v;
    }
    const typeAt = (i: number): ParamType => (i < params.length ? (params[i] as ParamType) : (variadic as ParamType));
    const argv = argNodes.map((a, i) => this.evalArg(dot, typeAt(i), a));
    if (final !== MISSING) argv.push(this.validateType(final, typeAt(numIn - 1)));
    try {
      return spec ? (spec.fn as (env: FuncEnv, ...a: unknown[]) => unknown)(this.env, ...argv) : (fn as AnyFn)(...argv);
    } catch (e) {
      if (e instanceof TemplateExecError || e === BREAK || e === CONTINUE) throw e;
      this.at(node);
      this.errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private validateType(value: unknown, type: ParamType): unknown {
    switch (type) {
      case 'value':
        return value;
      case 'any':
        return value === undefined ? null : value;
      default:
        if (value === undefined || value === null) this.errorf(`invalid value; expected ${type}`);
        if ((type === 'string' && typeof value !== 'string') || (type === 'int' && kindOf(value) !== 'int')) {
          this.errorf(`wrong type for value; expected ${type}; got ${goTypeName(value)}`);
        }
        return type === 'int' ? Number(value) : value;
    }
  }

  private evalArg(dot: unknown, type: ParamType, n: ArgNode): unknown {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, type);
      case 'nil':
        if (type === 'any' || type === 'value') return null;
        this.errorf(`cannot assign nil to ${type}`);
      // falls through (errorf never returns)
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), type);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, null, MISSING), type);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), type);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, null, MISSING), type);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, null, MISSING), type);
      default:
        break;
    }
    if (type === 'int') {
      if (n.type === 'number' && n.isInt) return n.value;
      this.errorf(`expected integer; found ${nodeString(n)}`);
    }
    if (type === 'string') {
      if (n.type === 'string') return n.text;
      this.errorf(`expected string; found ${nodeString(n)}`);
    }
    return n.type === 'bool' ? n.value : n.type === 'number' ? n.value : n.text;
  }

  private printValue(node: Node, v: unknown): void {
    this.at(node);
    if (typeof v === 'function') this.errorf(`can't print ${nodeString(node)} of type func()`);
    this.out.push(v === undefined ? '<no value>' : formatValue(v));
  }
}

/** Runs a parsed template; returns everything written, and the error that stopped it, if any. */
export function executeTemplate(tree: Tree, data: unknown, opts: ExecOptions): { output: string; error?: TemplateExecError } {
  const state = new State(tree, data, opts);
  try {
    state.walkList(data, tree.root);
    return { output: state.out.join('') };
  } catch (e) {
    if (e instanceof TemplateExecError) return { output: state.out.join(''), error: e };
    throw e;
  }
}
