/**
 * Node to typed instruction, with BuildKit's argument checks and messages
 * (frontend/dockerfile/instructions/parse.go). Messages here carry no location; parseDockerfile
 * adds `file:line`.
 */
import { withSuggestion } from './errors.js';
import { InstructionFlags } from './flags.js';
import { parseGoDuration } from './go-duration.js';
import { chompHeredocContent, parseHeredoc } from './heredoc.js';
import {
  INSTRUCTION_NAMES,
  type CommandLine,
  type HealthcheckInstruction,
  type Instruction,
  type InstructionBase,
  type KeyValue,
  type RunInstruction,
  type SourceContent,
} from './instructions.js';
import type { Node } from './parser.js';
import { csvFields, parseMount } from './run-mount.js';

const atLeastOne = (cmd: string): Error => new Error(`${cmd} requires at least one argument`);
const exactlyOne = (cmd: string): Error => new Error(`${cmd} requires exactly one argument`);
const noDestination = (cmd: string): Error =>
  new Error(`${cmd} requires at least two arguments, but only one was provided. Destination could not be determined`);

/** Stage names: lower case letter first, then lower case letters, digits, `-`, `_` and `.`. */
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function keyValues(args: string[], cmd: string): KeyValue[] {
  if (args.length === 0) throw atLeastOne(cmd);
  if (args.length % 3 !== 0) throw new Error(`Bad input to ${cmd}, too many arguments`);
  const out: KeyValue[] = [];
  for (let i = 0; i < args.length; i += 3) {
    const [key, value, delim] = args.slice(i, i + 3) as [string, string, string];
    if (key === '') throw new Error(`${cmd} names can not be blank`);
    out.push(delim === '' ? { key, value, noDelim: true } : { key, value });
  }
  return out;
}

function commandLine(node: Node): CommandLine {
  const args = node.json || node.args.length === 0 ? node.args : [node.args.join(' ')];
  return { args, shell: !node.json, files: node.heredocs };
}

function sourcesAndDest(node: Node, cmd: string): { sources: string[]; contents: SourceContent[]; dest: string } {
  const dest = node.args[node.args.length - 1] as string;
  if (parseHeredoc(dest)) throw new Error(`${cmd} cannot accept a heredoc as a destination`);
  const byName = new Map(node.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const contents: SourceContent[] = [];
  for (const src of node.args.slice(0, -1)) {
    const doc = parseHeredoc(src);
    if (!doc) {
      sources.push(src);
      continue;
    }
    const content = byName.get(doc.name)?.content ?? '';
    contents.push({ path: doc.name, data: doc.chomp ? chompHeredocContent(content) : content, expand: doc.expand });
  }
  return { sources, contents, dest };
}

function duration(flags: InstructionFlags, name: string): number {
  const s = flags.string(name);
  if (s === undefined || s === '') return 0;
  const ns = parseGoDuration(s);
  if (ns === 0) return 0;
  if (ns < 1e6) throw new Error(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
  return ns;
}

function healthcheck(node: Node, base: InstructionBase): HealthcheckInstruction {
  if (node.args.length === 0) throw atLeastOne('HEALTHCHECK');
  const type = (node.args[0] as string).toUpperCase();
  const args = node.args.slice(1);
  const none = { kind: 'HEALTHCHECK', ...base, interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 } as const;
  if (type === 'NONE') {
    if (args.length !== 0) throw new Error('HEALTHCHECK NONE takes no arguments');
    return { ...none, test: ['NONE'] };
  }
  const flags = new InstructionFlags(node.flags).declare('string', 'interval', 'timeout', 'start-period', 'start-interval', 'retries').parse();
  if (type !== 'CMD') throw new Error(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  const cmd = node.json || args.length === 0 ? args : [args.join(' ')];
  if (cmd.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
  const result: HealthcheckInstruction = {
    ...none,
    test: [node.json ? 'CMD' : 'CMD-SHELL', ...cmd],
    interval: duration(flags, 'interval'),
    timeout: duration(flags, 'timeout'),
    startPeriod: duration(flags, 'start-period'),
    startInterval: duration(flags, 'start-interval'),
  };
  const retries = flags.string('retries');
  if (retries !== undefined && retries !== '') {
    if (!/^[+-]?\d+$/.test(retries)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    const n = Number(retries);
    if (n < 0) throw new Error(`--retries cannot be negative (${n})`);
    result.retries = n;
  }
  return result;
}

function run(node: Node, base: InstructionBase): RunInstruction {
  const flags = new InstructionFlags(node.flags).declare('strings', 'mount', 'device').declare('string', 'network', 'security').parse();
  const mountSpecs = flags.strings('mount');
  for (const spec of mountSpecs) {
    // Like BuildKit, `from` must name a stage or image literally: it decides the build graph.
    for (const field of csvFields(spec)) {
      const eq = field.indexOf('=');
      const [key, value] = [field.slice(0, eq).toLowerCase(), field.slice(eq + 1)];
      const dollar = value.indexOf('$');
      if (eq >= 0 && key === 'from' && dollar !== -1 && dollar !== value.length - 1) {
        throw new Error(`'${key}' doesn't support variable expansion, define alias stage instead`);
      }
    }
  }
  const mounts = mountSpecs.some((s) => s.includes('$')) ? undefined : mountSpecs.map((s) => parseMount(s));
  const network = flags.string('network') ?? 'default';
  if (network !== 'default' && network !== 'none' && network !== 'host') throw new Error(`invalid network mode ${JSON.stringify(network)}`);
  const security = flags.string('security') ?? 'sandbox';
  if (security !== 'sandbox' && security !== 'insecure') throw new Error(`security ${JSON.stringify(security)} is not valid`);
  return { kind: 'RUN', ...base, command: commandLine(node), mountSpecs, mounts, network, devices: flags.strings('device'), security };
}

/** Parses one node into its typed instruction. Throws plain Errors with BuildKit's wording. */
export function parseInstruction(node: Node): Instruction {
  const base: InstructionBase = { original: node.original, startLine: node.startLine, endLine: node.endLine };
  const args = node.args;
  const flags = new InstructionFlags(node.flags);
  const one = (cmd: string): string => {
    if (args.length !== 1) throw exactlyOne(cmd);
    return args[0] as string;
  };
  switch (node.keyword.toUpperCase()) {
    case 'ENV':
      flags.parse();
      return { kind: 'ENV', ...base, env: keyValues(args, 'ENV') };
    case 'MAINTAINER': {
      const maintainer = one('MAINTAINER');
      flags.parse();
      return { kind: 'MAINTAINER', ...base, maintainer };
    }
    case 'LABEL':
      flags.parse();
      return { kind: 'LABEL', ...base, labels: keyValues(args, 'LABEL') };
    case 'ADD': {
      if (args.length < 2) throw noDestination('ADD');
      flags.declare('string', 'chown', 'chmod', 'checksum').declare('bool', 'link', 'keep-git-dir', 'unpack').declare('strings', 'exclude').parse();
      return {
        kind: 'ADD',
        ...base,
        ...sourcesAndDest(node, 'ADD'),
        chown: flags.string('chown') || undefined,
        chmod: flags.string('chmod') || undefined,
        checksum: flags.string('checksum') || undefined,
        link: flags.bool('link') ?? false,
        keepGitDir: flags.bool('keep-git-dir'),
        unpack: flags.bool('unpack'),
        exclude: flags.strings('exclude'),
      };
    }
    case 'COPY': {
      if (args.length < 2) throw noDestination('COPY');
      flags.declare('string', 'chown', 'from', 'chmod').declare('bool', 'link', 'parents').declare('strings', 'exclude').parse();
      return {
        kind: 'COPY',
        ...base,
        ...sourcesAndDest(node, 'COPY'),
        from: flags.string('from') || undefined,
        chown: flags.string('chown') || undefined,
        chmod: flags.string('chmod') || undefined,
        link: flags.bool('link') ?? false,
        parents: flags.bool('parents') ?? false,
        exclude: flags.strings('exclude'),
      };
    }
    case 'FROM': {
      let name: string | undefined;
      if (args.length === 3 && (args[1] as string).toLowerCase() === 'as') {
        name = (args[2] as string).toLowerCase();
        if (!STAGE_NAME.test(name)) {
          throw new Error(`invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`);
        }
      } else if (args.length !== 1) throw new Error('FROM requires either one or three arguments');
      flags.declare('string', 'platform').parse();
      return { kind: 'FROM', ...base, image: args[0] as string, name, platform: flags.string('platform') || undefined };
    }
    case 'ONBUILD': {
      if (args.length === 0 || !node.trigger) throw atLeastOne('ONBUILD');
      flags.parse();
      const keyword = (args[0] as string).trim().toUpperCase();
      if (keyword === 'ONBUILD') throw new Error('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (keyword === 'MAINTAINER' || keyword === 'FROM') throw new Error(`${keyword} isn't allowed as an ONBUILD trigger`);
      let expression = node.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const doc of node.heredocs) expression += `\n${doc.content}${doc.name}`;
      const trigger = parseInstruction({ ...node.trigger, heredocs: node.heredocs, startLine: node.startLine, endLine: node.endLine });
      return { kind: 'ONBUILD', ...base, expression, trigger };
    }
    case 'WORKDIR': {
      const path = one('WORKDIR');
      flags.parse();
      return { kind: 'WORKDIR', ...base, path };
    }
    case 'RUN':
      return run(node, base);
    case 'CMD':
      flags.parse();
      return { kind: 'CMD', ...base, command: commandLine(node) };
    case 'ENTRYPOINT':
      flags.parse();
      return { kind: 'ENTRYPOINT', ...base, command: commandLine(node) };
    case 'HEALTHCHECK':
      return healthcheck(node, base);
    case 'EXPOSE':
      if (args.length === 0) throw atLeastOne('EXPOSE');
      flags.parse();
      return { kind: 'EXPOSE', ...base, ports: [...args].sort() };
    case 'USER': {
      const user = one('USER');
      flags.parse();
      return { kind: 'USER', ...base, user };
    }
    case 'VOLUME': {
      if (args.length === 0) throw atLeastOne('VOLUME');
      flags.parse();
      const volumes = args.map((v) => v.trim());
      if (volumes.includes('')) throw new Error('VOLUME specified can not be an empty string');
      return { kind: 'VOLUME', ...base, volumes };
    }
    case 'STOPSIGNAL':
      return { kind: 'STOPSIGNAL', ...base, signal: one('STOPSIGNAL') };
    case 'ARG': {
      if (args.length === 0) throw atLeastOne('ARG');
      const defs = args.map((arg) => {
        const eq = arg.indexOf('=');
        if (eq < 0) return { key: arg };
        if (eq === 0) throw new Error('ARG names can not be blank');
        return { key: arg.slice(0, eq), value: arg.slice(eq + 1) };
      });
      return { kind: 'ARG', ...base, args: defs };
    }
    case 'SHELL': {
      flags.parse();
      if (args.length === 0) throw atLeastOne('SHELL');
      if (!node.json) throw new Error('SHELL requires the arguments to be in JSON form');
      return { kind: 'SHELL', ...base, shell: args };
    }
    default:
      throw new Error(withSuggestion(`unknown instruction: ${node.keyword}`, node.keyword, INSTRUCTION_NAMES, false));
  }
}
