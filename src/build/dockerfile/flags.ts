/**
 * The `--name=value` flags of one instruction, declared by the instruction and then parsed, with
 * BuildKit's rules and messages (instructions/bflag.go): booleans take no value or true/false,
 * strings need a value and may be given once, string lists may repeat.
 */
import { withSuggestion } from './errors.js';

type FlagKind = 'bool' | 'string' | 'strings';

/** A flag set for one instruction: declare with bool/string/strings, then call parse(). */
export class InstructionFlags {
  private readonly kinds = new Map<string, FlagKind>();
  private readonly values = new Map<string, string[]>();

  constructor(private readonly args: readonly string[]) {}

  /** Declares flags; returns this for chaining. */
  declare(kind: FlagKind, ...names: string[]): this {
    for (const name of names) this.kinds.set(name, kind);
    return this;
  }

  /** Checks every given flag against the declared ones. Throws BuildKit's messages. */
  parse(): this {
    for (const arg of this.args) {
      if (arg === '--') return this;
      if (!arg.startsWith('--')) throw new Error(`arg should start with -- : ${arg}`);
      const eq = arg.indexOf('=');
      const flagName = eq < 0 ? arg : arg.slice(0, eq);
      const value = eq < 0 ? undefined : arg.slice(eq + 1);
      const name = flagName.slice(2);
      const kind = this.kinds.get(name);
      if (kind === undefined) {
        throw new Error(withSuggestion(`unknown flag: ${flagName}`, name, [...this.kinds.keys()].sort(), true));
      }
      if (this.values.has(name) && kind !== 'strings') throw new Error(`duplicate flag specified: ${flagName}`);
      if (kind === 'bool') {
        if (value === '') throw new Error(`missing a value on flag: ${flagName}`);
        const v = (value ?? 'true').toLowerCase();
        if (v !== 'true' && v !== 'false') throw new Error(`expecting boolean value for flag ${flagName}, not: ${value}`);
        this.values.set(name, [v]);
        continue;
      }
      if (value === undefined) throw new Error(`missing a value on flag: ${flagName}`);
      this.values.set(name, [...(this.values.get(name) ?? []), value]);
    }
    return this;
  }

  /** Whether the flag was given. */
  used(name: string): boolean {
    return this.values.has(name);
  }
  /** A string flag's value, or undefined when not given. */
  string(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }
  /** A repeatable flag's values in order. */
  strings(name: string): string[] {
    return this.values.get(name) ?? [];
  }
  /** A boolean flag: undefined when not given. */
  bool(name: string): boolean | undefined {
    const v = this.values.get(name)?.[0];
    return v === undefined ? undefined : v === 'true';
  }
}
