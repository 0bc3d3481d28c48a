/**
 * parseDockerfile: Dockerfile text to build stages. This is the entry point of the package; the
 * steps are parser.ts (text to nodes), parse-instruction.ts (node to typed instruction) and
 * here, grouping into stages the way BuildKit's instructions.Parse does.
 *
 * @see https://docs.docker.com/reference/dockerfile/
 */
import { isGantryError } from '../../core/errors.js';
import type { Directive } from './directives.js';
import { dockerfileError } from './errors.js';
import type { ArgInstruction, FromInstruction, Instruction } from './instructions.js';
import { parseInstruction } from './parse-instruction.js';
import { parse, type ParseWarning } from './parser.js';

/** One build stage: a FROM and the instructions after it. */
export interface Stage {
  /** Stage name from `AS name` (lower case), if any. */
  name?: string;
  /** The base: an image reference, `scratch` or an earlier stage's name (not yet expanded). */
  from: string;
  platform?: string;
  /** The FROM instruction itself. */
  source: FromInstruction;
  instructions: Instruction[];
}

/** A parsed Dockerfile. */
export interface Dockerfile {
  directives: Directive[];
  /** The escape token in effect: `\` or `` ` ``. */
  escapeToken: string;
  stages: Stage[];
  /** ARG instructions before the first FROM (usable in FROM lines and, redeclared, in stages). */
  globalArgs: ArgInstruction[];
  warnings: ParseWarning[];
}

/** Options of {@link parseDockerfile}. */
export interface ParseDockerfileOptions {
  /** Name used in error messages; default "Dockerfile". */
  file?: string;
}

/** Stage names BuildKit reserves. */
const RESERVED_STAGE_NAMES = new Set(['scratch', 'context']);

/**
 * Parses a Dockerfile. Throws INVALID_ARGUMENT with BuildKit's message prefixed by
 * `<file>:<line>: ` for the first problem found.
 */
export function parseDockerfile(text: string, options: ParseDockerfileOptions = {}): Dockerfile {
  const file = options.file ?? 'Dockerfile';
  const result = parse(text, { file });
  const stages: Stage[] = [];
  const globalArgs: ArgInstruction[] = [];
  const warnings = [...result.warnings];
  const names = new Set<string>();
  for (const node of result.nodes) {
    let instruction: Instruction;
    try {
      instruction = parseInstruction(node);
    } catch (err) {
      if (isGantryError(err)) throw err;
      throw dockerfileError(file, node.startLine, (err as Error).message, err);
    }
    if (instruction.kind === 'FROM') {
      if (instruction.name !== undefined) {
        if (names.has(instruction.name)) {
          throw dockerfileError(file, node.startLine, `duplicate stage name ${JSON.stringify(instruction.name)}, stage names should be unique`);
        }
        if (RESERVED_STAGE_NAMES.has(instruction.name)) {
          warnings.push({ message: `'${instruction.name}' is reserved and should not be used as a stage name`, line: node.startLine });
        }
        names.add(instruction.name);
      }
      stages.push({ name: instruction.name, from: instruction.image, platform: instruction.platform, source: instruction, instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (stage) stage.instructions.push(instruction);
    else if (instruction.kind === 'ARG') globalArgs.push(instruction);
    else throw dockerfileError(file, node.startLine, 'no build stage in current context');
  }
  return { directives: result.directives, escapeToken: result.escapeToken, stages, globalArgs, warnings };
}
