/**
 * The typed form of Dockerfile instructions, one interface per instruction, discriminated by
 * `kind`. Values are as written (not yet expanded); see expansion.ts for which fields a builder
 * expands with the stage's ARG and ENV values.
 *
 * @see https://docs.docker.com/reference/dockerfile/
 */
import type { Heredoc } from './heredoc.js';
import type { RunMount } from './run-mount.js';

/** Where an instruction is and how it was written. */
export interface InstructionBase {
  /** The logical line, continuation lines joined. */
  original: string;
  /** 1-based first and last line (the last includes here-document lines). */
  startLine: number;
  endLine: number;
}

/** `key=value` of ENV and LABEL; `noDelim` for the legacy `ENV key value` form. */
export interface KeyValue {
  key: string;
  value: string;
  noDelim?: boolean;
}

/** A command in exec form (`shell: false`, JSON array) or shell form (`shell: true`, one string). */
export interface CommandLine {
  args: string[];
  /** Shell form: the builder prepends the stage's SHELL (default `/bin/sh -c`). */
  shell: boolean;
  /** Here-documents of RUN: inline files (chomp = strip leading tabs). */
  files: Heredoc[];
}

/** An inline source of COPY/ADD given as a here-document. */
export interface SourceContent {
  /** The here-document's name, used as the file name. */
  path: string;
  /** The content; leading tabs already stripped for `<<-`. */
  data: string;
  /** Whether the builder expands variables in `data` (delimiter unquoted). */
  expand: boolean;
}

export interface FromInstruction extends InstructionBase {
  kind: 'FROM';
  /** The base image reference (or `scratch`, or a stage name). */
  image: string;
  /** Stage name from `AS name`, lower-cased. */
  name?: string;
  platform?: string;
}
export interface RunInstruction extends InstructionBase {
  kind: 'RUN';
  command: CommandLine;
  /** The `--mount` values as written. */
  mountSpecs: string[];
  /**
   * The parsed mounts, or undefined when a value refers to a variable: the builder then calls
   * parseMount(spec, expand) on each of `mountSpecs`.
   */
  mounts: RunMount[] | undefined;
  network: 'default' | 'none' | 'host';
  /** `--device` values as written (CDI device names with options). */
  devices: string[];
  security: 'sandbox' | 'insecure';
}
export interface CmdInstruction extends InstructionBase {
  kind: 'CMD';
  command: CommandLine;
}
export interface EntrypointInstruction extends InstructionBase {
  kind: 'ENTRYPOINT';
  command: CommandLine;
}
export interface LabelInstruction extends InstructionBase {
  kind: 'LABEL';
  labels: KeyValue[];
}
export interface MaintainerInstruction extends InstructionBase {
  kind: 'MAINTAINER';
  maintainer: string;
}
export interface ExposeInstruction extends InstructionBase {
  kind: 'EXPOSE';
  /** Ports as written (`80`, `53/udp`, `$PORT`), sorted as BuildKit sorts them. */
  ports: string[];
}
export interface EnvInstruction extends InstructionBase {
  kind: 'ENV';
  env: KeyValue[];
}
/** One ARG name with its optional default. */
export interface ArgDefinition {
  key: string;
  value?: string;
}
export interface ArgInstruction extends InstructionBase {
  kind: 'ARG';
  args: ArgDefinition[];
}
interface CopyLike extends InstructionBase {
  /** Source paths (or URLs for ADD) as written. */
  sources: string[];
  /** Here-document sources. */
  contents: SourceContent[];
  dest: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  exclude: string[];
}
export interface AddInstruction extends CopyLike {
  kind: 'ADD';
  checksum?: string;
  /** Undefined when --keep-git-dir was not given. */
  keepGitDir?: boolean;
  /** Undefined when --unpack was not given. */
  unpack?: boolean;
}
export interface CopyInstruction extends CopyLike {
  kind: 'COPY';
  from?: string;
  parents: boolean;
}
export interface WorkdirInstruction extends InstructionBase {
  kind: 'WORKDIR';
  path: string;
}
export interface UserInstruction extends InstructionBase {
  kind: 'USER';
  user: string;
}
export interface VolumeInstruction extends InstructionBase {
  kind: 'VOLUME';
  volumes: string[];
}
export interface StopSignalInstruction extends InstructionBase {
  kind: 'STOPSIGNAL';
  signal: string;
}
/** HEALTHCHECK; durations in nanoseconds (0 = inherit the default), as in the image config. */
export interface HealthcheckInstruction extends InstructionBase {
  kind: 'HEALTHCHECK';
  /** `["NONE"]`, `["CMD", ...args]` (exec form) or `["CMD-SHELL", command]`. */
  test: string[];
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}
export interface ShellInstruction extends InstructionBase {
  kind: 'SHELL';
  shell: string[];
}
export interface OnbuildInstruction extends InstructionBase {
  kind: 'ONBUILD';
  /** The trigger as stored in the image config (text after ONBUILD, here-documents appended). */
  expression: string;
  /** The trigger, parsed. */
  trigger: Instruction;
}

/** Any instruction that may appear inside a stage (FROM starts one). */
export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | EnvInstruction
  | ArgInstruction
  | AddInstruction
  | CopyInstruction
  | WorkdirInstruction
  | UserInstruction
  | VolumeInstruction
  | StopSignalInstruction
  | HealthcheckInstruction
  | ShellInstruction
  | OnbuildInstruction;

/** The keywords of every instruction, upper case. */
export const INSTRUCTION_NAMES: readonly Instruction['kind'][] = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
];
