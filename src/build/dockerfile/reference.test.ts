// Every example Dockerfile of the Dockerfile reference, parsed: one table row per example.
//
// Reference used: https://docs.docker.com/reference/dockerfile/, whose source is
// frontend/dockerfile/docs/reference.md in moby/buildkit — the version last changed by commit
// 678d51fd1bcb8f7e16e83a26b4adcd8364e2fa07 (2026-05-28), read at buildkit master
// 73ed6825c4b7569379ef89df0aedcdbe64473d31 (2026-08-21).
//
// Rules of the table:
// - `dockerfile` holds the reference's snippet as printed. Snippets that are a fragment of a
//   Dockerfile (no FROM) go through frag(), which puts `FROM scratch` before them; snippets that
//   are only parser directives go through directivesOnly(), which puts `FROM scratch` after them.
//   Those extra lines are the only additions, so error lines of frag() rows are one more than in
//   the snippet.
//   Snippets are template literals, so `\\`, `\${` and `\`` in the source stand for `\`, `${` and
//   a backtick of the snippet.
// - Where a snippet has a placeholder (`# directive=value`), it is parsed as printed and, in a
//   second row, with a real one (`# escape=\``) in its place.
// - Examples given inline in the prose (`like this`) have "(inline)" in their name.
// - Synopsis blocks (`RUN [OPTIONS] <command> ...`) are parsed as written, too: they are not
//   meant to be valid, so their rows pin down what the parser makes of them.
// - Where the reference describes behaviour that BuildKit no longer has, the row asserts
//   BuildKit's behaviour and a comment says so.
// - Expansion rows run each instruction of a stage through expandInstruction with the ARG and ENV
//   values in effect at that instruction (see expandStage below), as the builder does.
// The .dockerignore section has no example here (it only links elsewhere; tested with the context).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGantryError } from '../../core/errors.js';
import { parseDockerfile, type Dockerfile } from './dockerfile.js';
import { expandInstruction } from './expansion.js';
import type { Instruction } from './instructions.js';

// ---------------------------------------------------------------------------------------------
// Helpers

type Check = (df: Dockerfile) => void;
interface Row {
  section: string;
  name: string;
  dockerfile: string;
  /** Checks of the parsed Dockerfile (all must pass). */
  expect?: Check[];
  /** The whole error message parseDockerfile must throw instead. */
  error?: string;
}

/** A snippet that is part of a stage. */
const frag = (snippet: string): string => `FROM scratch\n${snippet}`;
/** A snippet made only of parser directives (a Dockerfile needs an instruction). */
const directivesOnly = (snippet: string): string => `${snippet}\nFROM scratch`;
const sec = 1e9;

/** Every instruction in file order: global ARGs, then each stage's FROM and its instructions. */
function flatten(df: Dockerfile): Instruction[] {
  return [...df.globalArgs, ...df.stages.flatMap((s) => [s.source, ...s.instructions])];
}

/**
 * The parts of `actual` that `expected` mentions: objects are compared on the keys `expected`
 * has (recursively), arrays element by element; anything else as a whole.
 */
function project(actual: unknown, expected: unknown): unknown {
  if (Array.isArray(expected) && Array.isArray(actual)) {
    return actual.length === expected.length ? actual.map((a, i) => project(a, expected[i])) : actual;
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(expected) && isObject(actual)) {
    return Object.fromEntries(Object.keys(expected).map((k) => [k, project(actual[k], expected[k])]));
  }
  return actual;
}
const like = (actual: unknown, expected: unknown, message?: string): void => assert.deepEqual(project(actual, expected), expected, message);

/** The instructions (all of them, in order) have the given kinds and fields. */
const parsed =
  (...expected: Record<string, unknown>[]): Check =>
  (df) =>
    like(flatten(df), expected);

/** Stage names and bases, in order. */
const stages =
  (...expected: { name?: string; from: string; platform?: string }[]): Check =>
  (df) =>
    assert.deepEqual(
      df.stages.map((s) => ({ name: s.name, from: s.from, platform: s.platform })),
      expected.map((e) => ({ name: e.name, from: e.from, platform: e.platform })),
    );

/** The parser directives and the escape token in effect. */
const directives =
  (expected: { name: string; value: string }[], escapeToken = '\\'): Check =>
  (df) => {
    assert.deepEqual(
      df.directives.map((d) => ({ name: d.name, value: d.value })),
      expected,
    );
    assert.equal(df.escapeToken, escapeToken);
  };

const AUTOMATIC_ARGS = ['TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT', 'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT'];

/**
 * Stage `index` with every instruction expanded the way the builder does it: the global ARGs
 * (with `buildArgs`) for FROM; inside the stage, each ARG and ENV takes effect from the next
 * instruction on (an ARG's value is the build argument, else its default, else the global ARG's; automatic
 * platform ARGs are given as build arguments).
 * Returns the expanded FROM and instructions and the variables at the end of the stage.
 */
function expandStage(df: Dockerfile, index: number, buildArgs: Record<string, string> = {}): { instructions: Instruction[]; vars: Record<string, string> } {
  const options = { escapeToken: df.escapeToken };
  // The automatic platform ARGs are in the global scope without an ARG instruction.
  const globals = new Map(Object.entries(buildArgs).filter(([k]) => AUTOMATIC_ARGS.includes(k)));
  for (const arg of df.globalArgs) {
    for (const a of expandInstruction(arg, globals, options).args) {
      const value = buildArgs[a.key] ?? a.value;
      if (value !== undefined) globals.set(a.key, value);
    }
  }
  const stage = df.stages[index];
  assert.ok(stage, `stage ${index}`);
  const vars = new Map<string, string>();
  const out: Instruction[] = [expandInstruction(stage.source, globals, options)];
  for (const instruction of stage.instructions) {
    const e = expandInstruction(instruction, vars, options);
    out.push(e);
    if (e.kind === 'ENV') for (const kv of e.env) vars.set(kv.key, kv.value);
    if (e.kind === 'ARG') {
      for (const a of e.args) {
        const value = buildArgs[a.key] ?? a.value ?? globals.get(a.key);
        if (value !== undefined) vars.set(a.key, value);
      }
    }
  }
  return { instructions: out, vars: Object.fromEntries(vars) };
}

/** Stage `index`, expanded (see expandStage), starts with these instructions (FROM first). */
const expanded =
  (index: number, expected: Record<string, unknown>[], buildArgs?: Record<string, string>): Check =>
  (df) =>
    like(expandStage(df, index, buildArgs).instructions.slice(0, expected.length), expected);

/** After stage `index` (expanded), these variables have these values. */
const varsAfter =
  (index: number, expected: Record<string, string>, buildArgs?: Record<string, string>): Check =>
  (df) =>
    like(expandStage(df, index, buildArgs).vars, expected);

/** The parser's warnings, by message. */
const warnings =
  (...expected: string[]): Check =>
  (df) =>
    assert.deepEqual(
      df.warnings.map((w) => w.message),
      expected,
    );

// Shorthands for the typed fields that rows check most.
const shell = (...args: string[]) => ({ args, shell: true, files: [] });
const exec = (...args: string[]) => ({ args, shell: false, files: [] });
const plainRun = (command: string) => ({ kind: 'RUN', command: shell(command), mountSpecs: [], network: 'default', devices: [], security: 'sandbox' });
const from = (image: string, name?: string, platform?: string) => ({ kind: 'FROM', image, name, platform });
const doc = (name: string, content: string, more: { chomp?: boolean; expand?: boolean; fileDescriptor?: number } = {}) => ({
  name,
  content,
  chomp: more.chomp ?? false,
  expand: more.expand ?? true,
  fileDescriptor: more.fileDescriptor ?? 0,
});
const copy = (sources: string[], dest: string, more: Record<string, unknown> = {}) => ({
  kind: 'COPY',
  sources,
  dest,
  contents: [],
  from: undefined,
  chown: undefined,
  chmod: undefined,
  link: false,
  parents: false,
  exclude: [],
  ...more,
});
const add = (sources: string[], dest: string, more: Record<string, unknown> = {}) => ({
  kind: 'ADD',
  sources,
  dest,
  contents: [],
  chown: undefined,
  chmod: undefined,
  checksum: undefined,
  link: false,
  keepGitDir: undefined,
  unpack: undefined,
  exclude: [],
  ...more,
});
const bind = (more: Record<string, unknown>) => ({ type: 'bind', readOnly: true, required: false, ...more });

// ---------------------------------------------------------------------------------------------
// The table, in the order of the reference.

const rows: Row[] = [
  // ## Format
  {
    section: 'Format',
    name: 'synopsis: INSTRUCTION is not an instruction',
    dockerfile: frag(`# Comment
INSTRUCTION arguments`),
    error: 'Dockerfile:3: unknown instruction: INSTRUCTION',
  },
  {
    section: 'Format',
    name: '(inline) keywords are not case-sensitive, flag names are',
    dockerfile: `from alpine AS Build
run echo hello
Copy --FROM=build a b`,
    error: 'Dockerfile:3: unknown flag: --FROM', // flag names are case-sensitive (no suggestion either)
  },
  {
    section: 'Format',
    name: '(inline) instructions are not case-sensitive',
    dockerfile: `from alpine AS Build
run echo hello
Copy --from=build a b`,
    expect: [stages({ name: 'build', from: 'alpine' }), parsed(from('alpine', 'build'), plainRun('echo hello'), copy(['a'], 'b', { from: 'build' }))],
  },
  {
    section: 'Format',
    name: '(inline) FROM may follow parser directives, comments and global ARGs',
    dockerfile: `# syntax=docker/dockerfile:1
# A comment
ARG BASE=alpine
FROM $BASE`,
    expect: [directives([{ name: 'syntax', value: 'docker/dockerfile:1' }]), parsed({ kind: 'ARG' }, from('$BASE')), expanded(0, [from('alpine')])],
  },
  {
    section: 'Format',
    name: '(inline) no other instruction may come before the first FROM',
    dockerfile: `ENV A=b
FROM alpine`,
    error: 'Dockerfile:1: no build stage in current context',
  },
  {
    section: 'Format',
    name: '# inside a line is an argument',
    dockerfile: frag(`# Comment
RUN echo 'we are running some # of cool things'`),
    expect: [parsed(from('scratch'), plainRun("echo 'we are running some # of cool things'"))],
  },
  {
    section: 'Format',
    name: 'a comment between continuation lines is removed',
    dockerfile: frag(`RUN echo hello \\
# comment
world`),
    expect: [parsed(from('scratch'), { ...plainRun('echo hello world'), startLine: 2, endLine: 4 })],
  },
  {
    section: 'Format',
    name: 'the equivalent without the comment',
    dockerfile: frag(`RUN echo hello \\
world`),
    expect: [parsed(from('scratch'), { ...plainRun('echo hello world'), startLine: 2, endLine: 3 })],
  },
  {
    section: 'Format',
    name: 'leading whitespace before comments and instructions is ignored',
    dockerfile: frag(`        # this is a comment-line
    RUN echo hello
RUN echo world`),
    expect: [parsed(from('scratch'), { ...plainRun('echo hello'), original: 'RUN echo hello' }, plainRun('echo world'))],
  },
  {
    section: 'Format',
    name: 'the equivalent without leading whitespace',
    dockerfile: frag(`# this is a comment-line
RUN echo hello
RUN echo world`),
    expect: [parsed(from('scratch'), plainRun('echo hello'), plainRun('echo world'))],
  },
  {
    section: 'Format',
    name: 'whitespace inside arguments is kept',
    dockerfile: frag(`RUN echo "\\
     hello\\
     world"`),
    expect: [parsed(from('scratch'), plainRun('echo "     hello     world"'))],
  },

  // ## Parser directives
  {
    section: 'Parser directives',
    name: 'invalid: a directive cannot continue on the next line (that line is an instruction)',
    dockerfile: `# direc \\
tive=value`,
    error: 'Dockerfile:2: unknown instruction: tive=value',
  },
  {
    section: 'Parser directives',
    name: 'invalid: appearing twice (the placeholder name is an unknown directive, hence a comment)',
    dockerfile: `# directive=value1
# directive=value2

FROM ImageName`,
    expect: [directives([]), parsed(from('ImageName'))],
  },
  {
    section: 'Parser directives',
    name: 'invalid: appearing twice, with a real directive',
    dockerfile: `# syntax=value1
# syntax=value2

FROM ImageName`,
    error: 'Dockerfile:2: only one syntax parser directive can be used',
  },
  {
    section: 'Parser directives',
    name: 'after a builder instruction it is a comment (as printed)',
    dockerfile: `FROM ImageName
# directive=value`,
    expect: [directives([]), parsed(from('ImageName'))],
  },
  {
    section: 'Parser directives',
    name: 'after a comment it is a comment (as printed)',
    dockerfile: `# About my dockerfile
# directive=value
FROM ImageName`,
    expect: [directives([]), parsed({ ...from('ImageName'), startLine: 3 })],
  },
  {
    section: 'Parser directives',
    name: 'after a builder instruction it is a comment',
    dockerfile: `FROM ImageName
# escape=\``,
    expect: [directives([]), parsed(from('ImageName'))],
  },
  {
    section: 'Parser directives',
    name: 'after a comment that is not a directive it is a comment',
    dockerfile: `# About my dockerfile
# escape=\`
FROM ImageName`,
    expect: [directives([]), parsed(from('ImageName'))],
  },
  {
    section: 'Parser directives',
    name: 'an unknown directive ends the directives',
    dockerfile: directivesOnly(`# unknowndirective=value
# syntax=value`),
    expect: [directives([]), parsed(from('scratch'))],
  },
  ...[
    '#directive=value',
    '# directive =value',
    '#\tdirective= value',
    '# directive = value',
    '#\t  dIrEcTiVe=value',
  ].map(
    (line): Row => ({
      section: 'Parser directives',
      name: `non line-breaking whitespace is allowed: ${JSON.stringify(line)} (as escape)`,
      dockerfile: directivesOnly(line.replace(/directive/i, (d) => (d === 'directive' ? 'escape' : 'eScApE')).replace('value', '`')),
      expect: [directives([{ name: 'escape', value: '`' }], '`')],
    }),
  ),
  {
    section: 'Parser directives',
    name: 'the whitespace examples as printed (an unknown directive name: all comments)',
    dockerfile: directivesOnly(`#directive=value
# directive =value
#\tdirective= value
# directive = value
#\t  dIrEcTiVe=value`),
    expect: [directives([]), parsed({ ...from('scratch'), startLine: 6 })],
  },
  {
    section: 'syntax',
    name: '# syntax=docker/dockerfile:1',
    dockerfile: directivesOnly(`# syntax=docker/dockerfile:1`),
    expect: [directives([{ name: 'syntax', value: 'docker/dockerfile:1' }])],
  },
  {
    section: 'syntax',
    name: '(inline) # syntax=docker/dockerfile-upstream:master',
    dockerfile: directivesOnly(`# syntax=docker/dockerfile-upstream:master`),
    expect: [directives([{ name: 'syntax', value: 'docker/dockerfile-upstream:master' }])],
  },
  {
    section: 'escape',
    name: '# escape=\\',
    dockerfile: directivesOnly(`# escape=\\`),
    expect: [directives([{ name: 'escape', value: '\\' }], '\\')],
  },
  {
    section: 'escape',
    name: '# escape=`',
    dockerfile: directivesOnly(`# escape=\``),
    expect: [directives([{ name: 'escape', value: '`' }], '`')],
  },
  {
    // The reference (written for the legacy builder) says the `\` ending `c:\\` escapes the newline
    // and joins the next line into the COPY. BuildKit's continuation pattern needs a character
    // other than the escape token before the final one, so `c:\\` ends the line: the COPY stands
    // alone, and `RUN dir c:\` continues into the end of the file. gantry does what BuildKit does.
    section: 'escape',
    name: 'Windows paths with the default escape token',
    dockerfile: `FROM microsoft/nanoserver
COPY testfile.txt c:\\\\
RUN dir c:\\`,
    expect: [
      parsed(from('microsoft/nanoserver'), { ...copy(['testfile.txt'], 'c:\\\\'), startLine: 2, endLine: 2 }, { ...plainRun('dir c:'), startLine: 3, endLine: 3 }),
      expanded(0, [from('microsoft/nanoserver'), copy(['testfile.txt'], 'c:\\')]),
    ],
  },
  {
    section: 'escape',
    name: 'Windows paths with escape=`',
    dockerfile: `# escape=\`

FROM microsoft/nanoserver
COPY testfile.txt c:\\
RUN dir c:\\`,
    expect: [
      directives([{ name: 'escape', value: '`' }], '`'),
      parsed(from('microsoft/nanoserver'), copy(['testfile.txt'], 'c:\\'), plainRun('dir c:\\')),
      expanded(0, [from('microsoft/nanoserver'), copy(['testfile.txt'], 'c:\\')]),
    ],
  },
  {
    section: 'check',
    name: 'synopsis: two check lines are the same directive twice',
    dockerfile: directivesOnly(`# check=skip=<checks|all>
# check=error=<boolean>`),
    error: 'Dockerfile:2: only one check parser directive can be used',
  },
  {
    section: 'check',
    name: 'skip a list of checks',
    dockerfile: directivesOnly(`# check=skip=JSONArgsRecommended,StageNameCasing`),
    expect: [directives([{ name: 'check', value: 'skip=JSONArgsRecommended,StageNameCasing' }])],
  },
  {
    section: 'check',
    name: 'error=true',
    dockerfile: directivesOnly(`# check=error=true`),
    expect: [directives([{ name: 'check', value: 'error=true' }])],
  },
  {
    section: 'check',
    name: 'skip and error together',
    dockerfile: directivesOnly(`# check=skip=JSONArgsRecommended;error=true`),
    expect: [directives([{ name: 'check', value: 'skip=JSONArgsRecommended;error=true' }])],
  },

  // ## Environment replacement
  ...(
    [
      ['${variable:-word} (set)', 'variable=value', '${variable:-word}', 'value'],
      ['${variable:-word} (empty)', 'variable=', '${variable:-word}', 'word'],
      ['${variable-word} (empty)', 'variable=', '${variable-word}', ''],
      ['${variable-word} (unset)', 'other=x', '${variable-word}', 'word'],
      ['${variable:+word} (set)', 'variable=value', '${variable:+word}', 'word'],
      ['${variable:+word} (empty)', 'variable=', '${variable:+word}', ''],
      ['${variable+word} (empty)', 'variable=', '${variable+word}', 'word'],
      ['${variable+word} (unset)', 'other=x', '${variable+word}', ''],
      ['${str#f*b}', 'str=foobarbaz', '${str#f*b}', 'arbaz'],
      ['${str##f*b}', 'str=foobarbaz', '${str##f*b}', 'az'],
      ['${string%b*}', 'string=foobarbaz', '${string%b*}', 'foobar'],
      ['${string%%b*}', 'string=foobarbaz', '${string%%b*}', 'foo'],
      ['${string/ba/fo}', 'string=foobarbaz', '${string/ba/fo}', 'fooforbaz'],
      ['${string//ba/fo}', 'string=foobarbaz', '${string//ba/fo}', 'fooforfoz'],
      ['word can hold variables', 'variable= other=x', '${variable:-$other/y}', 'x/y'],
      ['\\? and \\* match literally', 'f=a*b?c', '${f#a\\*}|${f%\\?c}|${f#a\\?}|${f#a?}', 'b?c|a*b|a*b?c|b?c'],
      ['\\$foo and \\${foo} are literals', 'foo=x', '\\$foo|\\${foo}|$foo', '$foo|${foo}|x'],
    ] as const
  ).map(
    ([name, env, word, value]): Row => ({
      section: 'Environment replacement',
      // The bash examples (`str=foobarbaz echo ${str#f*b}     # arbaz`) as ENV then a LABEL.
      name: `(inline) ${name}`,
      dockerfile: frag(`ENV ${env}\nLABEL result=${word}`),
      expect: [(df) => like(expandStage(df, 0).instructions[2], { kind: 'LABEL', labels: [{ key: 'result', value }] })],
    }),
  ),
  {
    // The reference shows each instruction's "parsed representation" after a `#`, but `#` only
    // starts a comment at the beginning of a line: BuildKit (and gantry) take the rest of each line
    // as arguments. The next row has the annotations removed.
    section: 'Environment replacement',
    name: 'FROM busybox / ENV FOO=/bar, annotations included (they are arguments)',
    dockerfile: `FROM busybox
ENV FOO=/bar
WORKDIR \${FOO}   # WORKDIR /bar
ADD . $FOO       # ADD . /bar
COPY \\$FOO /quux # COPY $FOO /quux`,
    expect: [
      parsed(
        from('busybox'),
        { kind: 'ENV', env: [{ key: 'FOO', value: '/bar' }] },
        { kind: 'WORKDIR', path: '${FOO}   # WORKDIR /bar' },
        add(['.', '$FOO', '#', 'ADD', '.'], '/bar'),
        copy(['\\$FOO', '/quux', '#', 'COPY', '$FOO'], '/quux'),
      ),
      expanded(0, [
        from('busybox'),
        { kind: 'ENV' },
        { kind: 'WORKDIR', path: '/bar   # WORKDIR /bar' },
        add(['.', '/bar', '#', 'ADD', '.'], '/bar'),
        copy(['$FOO', '/quux', '#', 'COPY', '/bar'], '/quux'),
      ]),
    ],
  },
  {
    section: 'Environment replacement',
    name: 'FROM busybox / ENV FOO=/bar, each line as its annotation says',
    dockerfile: `FROM busybox
ENV FOO=/bar
WORKDIR \${FOO}
ADD . $FOO
COPY \\$FOO /quux`,
    expect: [expanded(0, [from('busybox'), { kind: 'ENV' }, { kind: 'WORKDIR', path: '/bar' }, add(['.'], '/bar'), copy(['$FOO'], '/quux')])],
  },
  {
    section: 'Environment replacement',
    name: 'a variable has one value throughout an instruction',
    dockerfile: frag(`ENV abc=hello
ENV abc=bye def=$abc
ENV ghi=$abc`),
    expect: [
      parsed(from('scratch'), { kind: 'ENV', env: [{ key: 'abc', value: 'hello' }] }, { kind: 'ENV', env: [{ key: 'abc', value: 'bye' }, { key: 'def', value: '$abc' }] }, { kind: 'ENV' }),
      varsAfter(0, { abc: 'bye', def: 'hello', ghi: 'bye' }),
    ],
  },

  // ## Shell and exec form
  {
    section: 'Shell and exec form',
    name: '(inline) synopsis: INSTRUCTION in exec and shell form',
    dockerfile: frag(`INSTRUCTION ["executable","param1","param2"]
INSTRUCTION command param1 param2`),
    error: 'Dockerfile:2: unknown instruction: INSTRUCTION',
  },
  {
    section: 'Shell and exec form',
    name: 'exec form',
    dockerfile: frag(`ENTRYPOINT ["/bin/bash", "-c", "echo hello"]`),
    expect: [parsed(from('scratch'), { kind: 'ENTRYPOINT', command: exec('/bin/bash', '-c', 'echo hello') })],
  },
  {
    section: 'Shell and exec form',
    name: '(inline) exec form needs double quotes: single quotes make it shell form',
    dockerfile: frag(`ENTRYPOINT ['/bin/bash', '-c', 'echo hello']`),
    expect: [parsed(from('scratch'), { kind: 'ENTRYPOINT', command: shell("['/bin/bash', '-c', 'echo hello']") })],
  },
  {
    section: 'Shell and exec form',
    name: '(inline) exec form does no variable substitution',
    dockerfile: frag(`RUN [ "echo", "$HOME" ]`),
    expect: [parsed(from('scratch'), { kind: 'RUN', command: exec('echo', '$HOME') }), expanded(0, [from('scratch'), { kind: 'RUN', command: exec('echo', '$HOME') }], {})],
  },
  {
    section: 'Shell and exec form',
    name: '(inline) exec form running a shell',
    dockerfile: frag(`RUN [ "sh", "-c", "echo $HOME" ]`),
    expect: [parsed(from('scratch'), { kind: 'RUN', command: exec('sh', '-c', 'echo $HOME') })],
  },
  {
    section: 'Shell and exec form',
    name: 'unescaped backslashes are not JSON: shell form',
    dockerfile: frag(`RUN ["c:\\windows\\system32\\tasklist.exe"]`),
    expect: [parsed(from('scratch'), plainRun('["c:\\windows\\system32\\tasklist.exe"]'))],
  },
  {
    section: 'Shell and exec form',
    name: 'escaped backslashes: exec form',
    dockerfile: frag(`RUN ["c:\\\\windows\\\\system32\\\\tasklist.exe"]`),
    expect: [parsed(from('scratch'), { kind: 'RUN', command: exec('c:\\windows\\system32\\tasklist.exe') })],
  },
  {
    section: 'Shell and exec form',
    name: 'shell form over two lines',
    dockerfile: frag(`RUN source $HOME/.bashrc && \\
echo $HOME`),
    expect: [parsed(from('scratch'), plainRun('source $HOME/.bashrc && echo $HOME'))],
  },
  {
    section: 'Shell and exec form',
    name: 'shell form on one line',
    dockerfile: frag(`RUN source $HOME/.bashrc && echo $HOME`),
    expect: [parsed(from('scratch'), plainRun('source $HOME/.bashrc && echo $HOME'))],
  },
  {
    section: 'Shell and exec form',
    name: 'shell form with a here-document',
    dockerfile: frag(`RUN <<EOF
  source $HOME/.bashrc
  echo $HOME
EOF`),
    expect: [parsed(from('scratch'), { kind: 'RUN', command: { args: ['<<EOF'], shell: true, files: [doc('EOF', '  source $HOME/.bashrc\n  echo $HOME\n')] }, startLine: 2, endLine: 5 })],
  },
  {
    section: 'Shell and exec form',
    name: 'use a different shell',
    dockerfile: frag(`SHELL ["/bin/bash", "-c"]
RUN echo hello`),
    expect: [parsed(from('scratch'), { kind: 'SHELL', shell: ['/bin/bash', '-c'] }, plainRun('echo hello'))],
  },

  // ## FROM
  ...[
    'FROM [--platform=<platform>] <image> [AS <name>]',
    'FROM [--platform=<platform>] <image>[:<tag>] [AS <name>]',
    'FROM [--platform=<platform>] <image>[@<digest>] [AS <name>]',
  ].map(
    (synopsis): Row => ({
      section: 'FROM',
      name: `synopsis: ${synopsis}`,
      dockerfile: synopsis,
      error: 'Dockerfile:1: FROM requires either one or three arguments',
    }),
  ),
  {
    section: 'FROM',
    name: 'stages based on a common stage (indented, as in the list item)',
    dockerfile: `  FROM ubuntu AS base
  RUN apt-get update && apt-get install -y shared-tooling

  FROM base AS dev
  RUN apt-get install -y dev-tooling

  FROM base AS prod
  COPY --from=build /app /app`,
    expect: [
      stages({ name: 'base', from: 'ubuntu' }, { name: 'dev', from: 'base' }, { name: 'prod', from: 'base' }),
      parsed(
        from('ubuntu', 'base'),
        plainRun('apt-get update && apt-get install -y shared-tooling'),
        from('base', 'dev'),
        plainRun('apt-get install -y dev-tooling'),
        from('base', 'prod'),
        copy(['/app'], '/app', { from: 'build' }),
      ),
    ],
  },
  {
    section: 'FROM',
    name: '(inline) a stage name used by FROM, COPY --from and RUN --mount=type=bind,from',
    dockerfile: `FROM alpine AS tools
FROM tools
COPY --from=tools /bin/sh /sh
RUN --mount=type=bind,from=tools ls /`,
    expect: [
      stages({ name: 'tools', from: 'alpine' }, { from: 'tools' }),
      parsed(from('alpine', 'tools'), from('tools'), copy(['/bin/sh'], '/sh', { from: 'tools' }), { kind: 'RUN', command: shell('ls /'), mounts: [bind({ from: 'tools' })] }),
    ],
  },
  {
    section: 'FROM',
    name: '(inline) --platform=$BUILDPLATFORM',
    dockerfile: `FROM --platform=$BUILDPLATFORM golang AS build`,
    expect: [
      parsed(from('golang', 'build', '$BUILDPLATFORM')),
      (df) => like(expandStage(df, 0, { BUILDPLATFORM: 'linux/amd64' }).instructions[0], from('golang', 'build', 'linux/amd64')),
    ],
  },
  {
    section: 'FROM',
    name: 'ARG before FROM, used in FROM lines',
    dockerfile: `ARG  CODE_VERSION=latest
FROM base:\${CODE_VERSION}
CMD  /code/run-app

FROM extras:\${CODE_VERSION}
CMD  /code/run-extras`,
    expect: [
      parsed(
        { kind: 'ARG', args: [{ key: 'CODE_VERSION', value: 'latest' }] },
        from('base:${CODE_VERSION}'),
        { kind: 'CMD', command: shell('/code/run-app') },
        from('extras:${CODE_VERSION}'),
        { kind: 'CMD', command: shell('/code/run-extras') },
      ),
      stages({ from: 'base:${CODE_VERSION}' }, { from: 'extras:${CODE_VERSION}' }),
      expanded(0, [from('base:latest')]),
      expanded(1, [from('extras:latest')]),
      expanded(1, [from('extras:1.2')], { CODE_VERSION: '1.2' }),
    ],
  },
  {
    section: 'FROM',
    name: 'a global ARG redeclared in the stage',
    dockerfile: `ARG VERSION=latest
FROM busybox:$VERSION
ARG VERSION
RUN echo $VERSION > image_version`,
    expect: [
      parsed({ kind: 'ARG', args: [{ key: 'VERSION', value: 'latest' }] }, from('busybox:$VERSION'), { kind: 'ARG', args: [{ key: 'VERSION' }] }, plainRun('echo $VERSION > image_version')),
      expanded(0, [from('busybox:latest')]),
      varsAfter(0, { VERSION: 'latest' }),
    ],
  },

  // ## RUN
  {
    section: 'RUN',
    name: 'synopsis: shell and exec forms',
    dockerfile: frag(`# Shell form:
RUN [OPTIONS] <command> ...
# Exec form:
RUN [OPTIONS] [ "<command>", ... ]`),
    expect: [parsed(from('scratch'), plainRun('[OPTIONS] <command> ...'), plainRun('[OPTIONS] [ "<command>", ... ]'))],
  },
  {
    section: 'RUN',
    name: 'a here-document',
    dockerfile: frag(`RUN <<EOF
apt-get update
apt-get install -y curl
EOF`),
    expect: [parsed(from('scratch'), { kind: 'RUN', command: { args: ['<<EOF'], shell: true, files: [doc('EOF', 'apt-get update\napt-get install -y curl\n')] } })],
  },
  {
    section: 'RUN',
    name: '(inline) cache invalidation: RUN apt-get dist-upgrade -y',
    dockerfile: frag(`RUN apt-get dist-upgrade -y`),
    expect: [parsed(from('scratch'), plainRun('apt-get dist-upgrade -y'))],
  },
  {
    section: 'RUN --device',
    name: 'synopsis',
    dockerfile: frag(`RUN --device=name,[required]`),
    expect: [parsed(from('scratch'), { kind: 'RUN', command: { args: [], shell: true, files: [] }, devices: ['name,[required]'] })],
  },
  {
    section: 'RUN --device',
    name: 'CUDA-powered LLaMA inference',
    dockerfile: `# syntax=docker/dockerfile:1-labs

FROM scratch AS model
ADD https://huggingface.co/bartowski/Llama-3.2-1B-Instruct-GGUF/resolve/main/Llama-3.2-1B-Instruct-Q4_K_M.gguf /model.gguf

FROM scratch AS prompt
COPY <<EOF prompt.txt
Q: Generate  a list of 10 unique biggest countries by population in JSON with their estimated poulation in 1900 and 2024. Answer only newline formatted JSON with keys "country", "population_1900", "population_2024" with 10 items.
A:
[
    {

EOF

FROM ghcr.io/ggml-org/llama.cpp:full-cuda-b5124
RUN --device=nvidia.com/gpu=all \\
    --mount=from=model,target=/models \\
    --mount=from=prompt,target=/tmp \\
    ./llama-cli -m /models/model.gguf -no-cnv -ngl 99 -f /tmp/prompt.txt`,
    expect: [
      directives([{ name: 'syntax', value: 'docker/dockerfile:1-labs' }]),
      stages({ name: 'model', from: 'scratch' }, { name: 'prompt', from: 'scratch' }, { from: 'ghcr.io/ggml-org/llama.cpp:full-cuda-b5124' }),
      parsed(
        from('scratch', 'model'),
        add(['https://huggingface.co/bartowski/Llama-3.2-1B-Instruct-GGUF/resolve/main/Llama-3.2-1B-Instruct-Q4_K_M.gguf'], '/model.gguf'),
        from('scratch', 'prompt'),
        {
          ...copy([], 'prompt.txt'),
          contents: [
            {
              path: 'EOF',
              expand: true,
              data: 'Q: Generate  a list of 10 unique biggest countries by population in JSON with their estimated poulation in 1900 and 2024. Answer only newline formatted JSON with keys "country", "population_1900", "population_2024" with 10 items.\nA:\n[\n    {\n\n',
            },
          ],
          startLine: 7,
          endLine: 13,
        },
        from('ghcr.io/ggml-org/llama.cpp:full-cuda-b5124'),
        {
          kind: 'RUN',
          command: shell('./llama-cli -m /models/model.gguf -no-cnv -ngl 99 -f /tmp/prompt.txt'),
          devices: ['nvidia.com/gpu=all'],
          mountSpecs: ['from=model,target=/models', 'from=prompt,target=/tmp'],
          mounts: [bind({ from: 'model', target: '/models' }), bind({ from: 'prompt', target: '/tmp' })],
          startLine: 16,
          endLine: 19,
        },
      ),
    ],
  },
  {
    // BuildKit reads mount options when the step runs; gantry already when parsing (there is no
    // variable in this value), with BuildKit's message.
    section: 'RUN --mount',
    name: 'synopsis: [type=<TYPE>] is not a key',
    dockerfile: frag(`RUN --mount=[type=<TYPE>][,option=<value>[,option=<value>]...]`),
    error: "Dockerfile:2: unexpected key '[type' in '[type=<TYPE>][' (did you mean type?)",
  },
  // The --mount sections show their options in tables, not in examples: one row per type
  // uses every option of its table.
  {
    section: 'RUN --mount=type=bind',
    name: '(table) target, source, from, rw',
    dockerfile: frag(`RUN --mount=type=bind,target=/src,source=app,from=build,rw --mount=dst=/a --mount=destination=/b,readwrite=true make`),
    expect: [
      parsed(from('scratch'), {
        kind: 'RUN',
        command: shell('make'),
        mounts: [bind({ target: '/src', source: 'app', from: 'build', readOnly: false }), bind({ target: '/a' }), bind({ target: '/b', readOnly: false })],
      }),
    ],
  },
  {
    section: 'RUN --mount=type=cache',
    name: '(table) id, target, ro, sharing, from, source, mode, uid, gid',
    dockerfile: frag(`RUN --mount=type=cache,id=gomod,target=/go/pkg/mod,ro,sharing=private,from=base,source=/cache,mode=0700,uid=1000,gid=1000 go build`),
    expect: [
      parsed(from('scratch'), {
        kind: 'RUN',
        mounts: [{ type: 'cache', id: 'gomod', target: '/go/pkg/mod', readOnly: true, sharing: 'private', from: 'base', source: '/cache', mode: 0o700, uid: 1000, gid: 1000, required: false }],
      }),
    ],
  },
  {
    section: 'RUN --mount=type=tmpfs',
    name: '(table) target and size',
    dockerfile: frag(`RUN --mount=type=tmpfs,target=/tmp,size=64m make`),
    expect: [parsed(from('scratch'), { kind: 'RUN', mounts: [{ type: 'tmpfs', target: '/tmp', size: 64 * 1024 * 1024, readOnly: false, required: false }] })],
  },
  {
    section: 'RUN --mount=type=secret',
    name: '(table) id, dst, required, mode, uid, gid',
    dockerfile: frag(`RUN --mount=type=secret,id=npmrc,dst=/root/.npmrc,required=true,mode=0440,uid=1000,gid=1000 npm ci`),
    expect: [parsed(from('scratch'), { kind: 'RUN', mounts: [{ type: 'secret', id: 'npmrc', target: '/root/.npmrc', required: true, mode: 0o440, uid: 1000, gid: 1000, readOnly: true }] })],
  },
  {
    section: 'RUN --mount=type=ssh',
    name: '(table) id, target, required, mode, uid, gid',
    dockerfile: frag(`RUN --mount=type=ssh,id=gitlab,target=/run/ssh.sock,required,mode=0600,uid=1000,gid=1000 git clone x`),
    expect: [parsed(from('scratch'), { kind: 'RUN', mounts: [{ type: 'ssh', id: 'gitlab', target: '/run/ssh.sock', required: true, mode: 0o600, uid: 1000, gid: 1000, readOnly: true }] })],
  },
  {
    section: 'RUN --mount=type=tmpfs',
    name: '(table) size belongs to tmpfs only',
    dockerfile: frag(`RUN --mount=type=cache,target=/x,size=1m make`),
    error: "Dockerfile:2: unexpected key 'size' for mount type 'cache'",
  },
  {
    section: 'RUN --mount=type=cache',
    name: 'cache Go packages',
    dockerfile: `# syntax=docker/dockerfile:1
FROM golang
RUN --mount=type=cache,target=/root/.cache/go-build \\
  go build ...`,
    expect: [
      parsed(from('golang'), {
        kind: 'RUN',
        command: shell('go build ...'),
        mountSpecs: ['type=cache,target=/root/.cache/go-build'],
        mounts: [{ type: 'cache', target: '/root/.cache/go-build', readOnly: false, required: false }],
      }),
    ],
  },
  {
    section: 'RUN --mount=type=cache',
    name: 'cache apt packages',
    dockerfile: `# syntax=docker/dockerfile:1
FROM ubuntu
RUN rm -f /etc/apt/apt.conf.d/docker-clean; echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\
  --mount=type=cache,target=/var/lib/apt,sharing=locked \\
  apt-get update && apt-get --no-install-recommends install -y gcc`,
    expect: [
      parsed(from('ubuntu'), plainRun(`rm -f /etc/apt/apt.conf.d/docker-clean; echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache`), {
        kind: 'RUN',
        command: shell('apt-get update && apt-get --no-install-recommends install -y gcc'),
        mounts: [
          { type: 'cache', target: '/var/cache/apt', sharing: 'locked', readOnly: false, required: false },
          { type: 'cache', target: '/var/lib/apt', sharing: 'locked', readOnly: false, required: false },
        ],
      }),
    ],
  },
  {
    section: 'RUN --mount=type=secret',
    name: 'access to S3',
    dockerfile: `# syntax=docker/dockerfile:1
FROM python:3
RUN pip install awscli
RUN --mount=type=secret,id=aws,target=/root/.aws/credentials \\
  aws s3 cp s3://... ...`,
    expect: [
      parsed(from('python:3'), plainRun('pip install awscli'), {
        kind: 'RUN',
        command: shell('aws s3 cp s3://... ...'),
        mounts: [{ type: 'secret', id: 'aws', target: '/root/.aws/credentials', readOnly: true, required: false }],
      }),
    ],
  },
  {
    section: 'RUN --mount=type=secret',
    name: 'mount as environment variable',
    dockerfile: `# syntax=docker/dockerfile:1
FROM alpine
RUN --mount=type=secret,id=API_KEY,env=API_KEY \\
    some-command --token-from-env $API_KEY`,
    expect: [
      parsed(from('alpine'), {
        kind: 'RUN',
        command: shell('some-command --token-from-env $API_KEY'),
        mounts: [{ type: 'secret', id: 'API_KEY', env: 'API_KEY', target: undefined, readOnly: true, required: false }],
      }),
    ],
  },
  {
    // The two comment lines at the end belong to no instruction.
    section: 'RUN --mount=type=ssh',
    name: 'access to GitLab',
    dockerfile: `# syntax=docker/dockerfile:1
FROM alpine
RUN apk add --no-cache openssh-client
RUN mkdir -p -m 0700 ~/.ssh && ssh-keyscan gitlab.com >> ~/.ssh/known_hosts
RUN --mount=type=ssh \\
  ssh -q -T git@gitlab.com 2>&1 | tee /hello
# "Welcome to GitLab, @GITLAB_USERNAME_ASSOCIATED_WITH_SSHKEY" should be printed here
# with the type of build progress is defined as \`plain\`.`,
    expect: [
      parsed(from('alpine'), plainRun('apk add --no-cache openssh-client'), plainRun('mkdir -p -m 0700 ~/.ssh && ssh-keyscan gitlab.com >> ~/.ssh/known_hosts'), {
        kind: 'RUN',
        command: shell('ssh -q -T git@gitlab.com 2>&1 | tee /hello'),
        mounts: [{ type: 'ssh', readOnly: true, required: false, id: undefined, target: undefined }],
        endLine: 6,
      }),
    ],
  },
  {
    section: 'RUN --network',
    name: 'synopsis: <TYPE> is not a network mode',
    dockerfile: frag(`RUN --network=<TYPE>`),
    error: 'Dockerfile:2: invalid network mode "<TYPE>"',
  },
  {
    section: 'RUN --network=none',
    name: 'isolating external effects',
    dockerfile: `# syntax=docker/dockerfile:1
FROM python:3.6
ADD mypackage.tgz wheels/
RUN --network=none pip install --find-links wheels mypackage`,
    expect: [parsed(from('python:3.6'), add(['mypackage.tgz'], 'wheels/'), { ...plainRun('pip install --find-links wheels mypackage'), network: 'none' })],
  },
  {
    section: 'RUN --network=host',
    name: '(inline) --network=host',
    dockerfile: frag(`RUN --network=host pip install mypackage`),
    expect: [parsed(from('scratch'), { ...plainRun('pip install mypackage'), network: 'host' })],
  },
  {
    section: 'RUN --security',
    name: 'synopsis: <sandbox|insecure> is neither',
    dockerfile: frag(`RUN --security=<sandbox|insecure>`),
    error: 'Dockerfile:2: security "<sandbox|insecure>" is not valid',
  },
  {
    section: 'RUN --security',
    name: 'check entitlements',
    dockerfile: `# syntax=docker/dockerfile:1
FROM ubuntu
RUN --security=insecure cat /proc/self/status | grep CapEff`,
    expect: [parsed(from('ubuntu'), { ...plainRun('cat /proc/self/status | grep CapEff'), security: 'insecure' })],
  },

  // ## CMD
  {
    section: 'CMD',
    name: '(inline) exec form',
    dockerfile: frag(`CMD ["executable","param1","param2"]`),
    expect: [parsed(from('scratch'), { kind: 'CMD', command: exec('executable', 'param1', 'param2') })],
  },
  {
    section: 'CMD',
    name: '(inline) exec form, default parameters to ENTRYPOINT',
    dockerfile: frag(`CMD ["param1","param2"]`),
    expect: [parsed(from('scratch'), { kind: 'CMD', command: exec('param1', 'param2') })],
  },
  {
    section: 'CMD',
    name: '(inline) shell form',
    dockerfile: frag(`CMD command param1 param2`),
    expect: [parsed(from('scratch'), { kind: 'CMD', command: shell('command param1 param2') })],
  },

  // ## LABEL
  {
    section: 'LABEL',
    name: 'synopsis',
    dockerfile: frag(`LABEL <key>=<value> [<key>=<value>...]`),
    expect: [
      parsed(from('scratch'), {
        kind: 'LABEL',
        labels: [
          { key: '<key>', value: '<value>' },
          { key: '[<key>', value: '<value>...]' },
        ],
      }),
    ],
  },
  {
    section: 'LABEL',
    name: 'usage examples, expanded as docker image inspect shows them',
    dockerfile: frag(`LABEL "com.example.vendor"="ACME Incorporated"
LABEL com.example.label-with-value="foo"
LABEL version="1.0"
LABEL description="This text illustrates \\
that label-values can span multiple lines."`),
    expect: [
      parsed(
        from('scratch'),
        { kind: 'LABEL', labels: [{ key: '"com.example.vendor"', value: '"ACME Incorporated"' }] },
        { kind: 'LABEL', labels: [{ key: 'com.example.label-with-value', value: '"foo"' }] },
        { kind: 'LABEL', labels: [{ key: 'version', value: '"1.0"' }] },
        { kind: 'LABEL', labels: [{ key: 'description', value: '"This text illustrates that label-values can span multiple lines."' }], startLine: 5, endLine: 6 },
      ),
      (df) =>
        assert.deepEqual(
          Object.fromEntries(expandStage(df, 0).instructions.flatMap((i) => (i.kind === 'LABEL' ? i.labels.map((l) => [l.key, l.value]) : []))),
          {
            'com.example.vendor': 'ACME Incorporated',
            'com.example.label-with-value': 'foo',
            version: '1.0',
            description: 'This text illustrates that label-values can span multiple lines.',
          },
        ),
    ],
  },
  {
    section: 'LABEL',
    name: 'several labels on one line',
    dockerfile: frag(`LABEL multi.label1="value1" multi.label2="value2" other="value3"`),
    expect: [
      expanded(0, [
        from('scratch'),
        {
          kind: 'LABEL',
          labels: [
            { key: 'multi.label1', value: 'value1' },
            { key: 'multi.label2', value: 'value2' },
            { key: 'other', value: 'value3' },
          ],
        },
      ]),
    ],
  },
  {
    section: 'LABEL',
    name: 'several labels over continuation lines',
    dockerfile: frag(`LABEL multi.label1="value1" \\
      multi.label2="value2" \\
      other="value3"`),
    expect: [
      parsed(from('scratch'), {
        kind: 'LABEL',
        labels: [
          { key: 'multi.label1', value: '"value1"' },
          { key: 'multi.label2', value: '"value2"' },
          { key: 'other', value: '"value3"' },
        ],
        startLine: 2,
        endLine: 4,
      }),
    ],
  },
  {
    section: 'LABEL',
    name: '(inline) double quotes expand, single quotes do not',
    dockerfile: frag(`ARG ENV_VAR=bar
LABEL example="foo-$ENV_VAR" literal='foo-$ENV_VAR'`),
    expect: [
      expanded(0, [
        from('scratch'),
        { kind: 'ARG' },
        {
          kind: 'LABEL',
          labels: [
            { key: 'example', value: 'foo-bar' },
            { key: 'literal', value: 'foo-$ENV_VAR' },
          ],
        },
      ]),
    ],
  },

  // ## MAINTAINER (deprecated)
  {
    section: 'MAINTAINER',
    name: 'synopsis',
    dockerfile: frag(`MAINTAINER <name>`),
    expect: [parsed(from('scratch'), { kind: 'MAINTAINER', maintainer: '<name>' })],
  },
  {
    section: 'MAINTAINER',
    name: 'the label to use instead',
    dockerfile: frag(`LABEL org.opencontainers.image.authors="SvenDowideit@home.org.au"`),
    expect: [expanded(0, [from('scratch'), { kind: 'LABEL', labels: [{ key: 'org.opencontainers.image.authors', value: 'SvenDowideit@home.org.au' }] }])],
  },

  // ## EXPOSE
  {
    section: 'EXPOSE',
    name: 'synopsis (ports are kept as written, sorted)',
    dockerfile: frag(`EXPOSE <port> [<port>/<protocol>...]`),
    expect: [parsed(from('scratch'), { kind: 'EXPOSE', ports: ['<port>', '[<port>/<protocol>...]'] })],
  },
  {
    section: 'EXPOSE',
    name: 'UDP',
    dockerfile: frag(`EXPOSE 80/udp`),
    expect: [parsed(from('scratch'), { kind: 'EXPOSE', ports: ['80/udp'] })],
  },
  {
    section: 'EXPOSE',
    name: 'TCP and UDP',
    dockerfile: frag(`EXPOSE 80/tcp
EXPOSE 80/udp`),
    expect: [parsed(from('scratch'), { kind: 'EXPOSE', ports: ['80/tcp'] }, { kind: 'EXPOSE', ports: ['80/udp'] })],
  },

  // ## ENV
  {
    section: 'ENV',
    name: 'synopsis',
    dockerfile: frag(`ENV <key>=<value> [<key>=<value>...]`),
    expect: [
      parsed(from('scratch'), {
        kind: 'ENV',
        env: [
          { key: '<key>', value: '<value>' },
          { key: '[<key>', value: '<value>...]' },
        ],
      }),
    ],
  },
  {
    section: 'ENV',
    name: 'quotes and backslashes',
    dockerfile: frag(`ENV MY_NAME="John Doe"
ENV MY_DOG=Rex\\ The\\ Dog
ENV MY_CAT=fluffy`),
    expect: [
      parsed(
        from('scratch'),
        { kind: 'ENV', env: [{ key: 'MY_NAME', value: '"John Doe"' }] },
        { kind: 'ENV', env: [{ key: 'MY_DOG', value: 'Rex\\ The\\ Dog' }] },
        { kind: 'ENV', env: [{ key: 'MY_CAT', value: 'fluffy' }] },
      ),
      varsAfter(0, { MY_NAME: 'John Doe', MY_DOG: 'Rex The Dog', MY_CAT: 'fluffy' }),
    ],
  },
  {
    section: 'ENV',
    name: '(inline) quote characters are removed unless escaped',
    dockerfile: frag(`ENV A=\\"quoted\\" B="a \\"b\\"" C='single "double"'`),
    expect: [varsAfter(0, { A: '"quoted"', B: 'a "b"', C: 'single "double"' })],
  },
  {
    section: 'ENV',
    name: 'several variables in one instruction, same result',
    dockerfile: frag(`ENV MY_NAME="John Doe" MY_DOG=Rex\\ The\\ Dog \\
    MY_CAT=fluffy`),
    expect: [
      parsed(from('scratch'), {
        kind: 'ENV',
        env: [
          { key: 'MY_NAME', value: '"John Doe"' },
          { key: 'MY_DOG', value: 'Rex\\ The\\ Dog' },
          { key: 'MY_CAT', value: 'fluffy' },
        ],
      }),
      varsAfter(0, { MY_NAME: 'John Doe', MY_DOG: 'Rex The Dog', MY_CAT: 'fluffy' }),
    ],
  },
  {
    section: 'ENV',
    name: '(inline) ENV DEBIAN_FRONTEND=noninteractive',
    dockerfile: frag(`ENV DEBIAN_FRONTEND=noninteractive`),
    expect: [varsAfter(0, { DEBIAN_FRONTEND: 'noninteractive' })],
  },
  {
    section: 'ENV',
    name: 'a variable for one command only',
    dockerfile: frag(`RUN DEBIAN_FRONTEND=noninteractive apt-get update && apt-get install -y ...`),
    expect: [parsed(from('scratch'), plainRun('DEBIAN_FRONTEND=noninteractive apt-get update && apt-get install -y ...'))],
  },
  {
    section: 'ENV',
    name: 'an ARG instead of ENV',
    dockerfile: frag(`ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y ...`),
    expect: [parsed(from('scratch'), { kind: 'ARG', args: [{ key: 'DEBIAN_FRONTEND', value: 'noninteractive' }] }, plainRun('apt-get update && apt-get install -y ...'))],
  },
  {
    section: 'ENV',
    name: '(inline) synopsis of the alternative syntax ENV <key> <value>',
    dockerfile: frag(`ENV <key> <value>`),
    expect: [parsed(from('scratch'), { kind: 'ENV', env: [{ key: '<key>', value: '<value>', noDelim: true }] })],
  },
  {
    section: 'ENV',
    name: 'alternative syntax ENV <key> <value>',
    dockerfile: frag(`ENV MY_VAR my-value`),
    expect: [parsed(from('scratch'), { kind: 'ENV', env: [{ key: 'MY_VAR', value: 'my-value', noDelim: true }] }), varsAfter(0, { MY_VAR: 'my-value' })],
  },
  {
    section: 'ENV',
    name: 'alternative syntax sets one variable: ONE="TWO= THREE=world"',
    dockerfile: frag(`ENV ONE TWO= THREE=world`),
    expect: [parsed(from('scratch'), { kind: 'ENV', env: [{ key: 'ONE', value: 'TWO= THREE=world', noDelim: true }] }), varsAfter(0, { ONE: 'TWO= THREE=world' })],
  },

  // ## ADD
  {
    section: 'ADD',
    name: 'synopsis: both forms (brackets around [OPTIONS] make neither flags nor JSON)',
    dockerfile: frag(`ADD [OPTIONS] <src> ... <dest>
ADD [OPTIONS] ["<src>", ... "<dest>"]`),
    expect: [parsed(from('scratch'), add(['[OPTIONS]', '<src>', '...'], '<dest>'), add(['[OPTIONS]', '["<src>",', '...'], '"<dest>"]'))],
  },
  {
    section: 'ADD',
    name: 'two files',
    dockerfile: frag(`ADD file1.txt file2.txt /usr/src/things/`),
    expect: [parsed(from('scratch'), add(['file1.txt', 'file2.txt'], '/usr/src/things/'))],
  },
  {
    section: 'ADD',
    name: 'a URL and a Git address',
    dockerfile: frag(`ADD https://example.com/archive.zip /usr/src/things/
ADD git@github.com:user/repo.git /usr/src/things/`),
    expect: [parsed(from('scratch'), add(['https://example.com/archive.zip'], '/usr/src/things/'), add(['git@github.com:user/repo.git'], '/usr/src/things/'))],
  },
  {
    section: 'ADD',
    name: '(inline) parent navigation and trailing slashes in sources are kept as written',
    dockerfile: frag(`ADD file.txt /
ADD ../something /something
ADD something/ /something
ADD something /something`),
    expect: [parsed(from('scratch'), add(['file.txt'], '/'), add(['../something'], '/something'), add(['something/'], '/something'), add(['something'], '/something'))],
  },
  {
    section: 'ADD',
    name: 'pattern *.png',
    dockerfile: frag(`ADD *.png /dest/`),
    expect: [expanded(0, [from('scratch'), add(['*.png'], '/dest/')])],
  },
  {
    section: 'ADD',
    name: 'pattern index.?s',
    dockerfile: frag(`ADD index.?s /dest/`),
    expect: [expanded(0, [from('scratch'), add(['index.?s'], '/dest/')])],
  },
  {
    section: 'ADD',
    name: 'escaped pattern arr[[]0].txt',
    dockerfile: frag(`ADD arr[[]0].txt /dest/`),
    expect: [expanded(0, [from('scratch'), add(['arr[[]0].txt'], '/dest/')])],
  },
  {
    section: 'ADD',
    name: '(inline) a URL to a file or to a directory',
    dockerfile: frag(`ADD http://example.com/foobar /
ADD http://example.com/foo /bar`),
    expect: [parsed(from('scratch'), add(['http://example.com/foobar'], '/'), add(['http://example.com/foo'], '/bar'))],
  },
  {
    section: 'ADD',
    name: 'a Git repository',
    dockerfile: frag(`ADD https://github.com/user/repo.git /mydir/`),
    expect: [parsed(from('scratch'), add(['https://github.com/user/repo.git'], '/mydir/'))],
  },
  {
    section: 'ADD',
    name: 'a Git URL fragment (# is part of the word)',
    dockerfile: frag(`ADD git@github.com:moby/buildkit.git#v0.14.1:docs /buildkit-docs`),
    expect: [expanded(0, [from('scratch'), add(['git@github.com:moby/buildkit.git#v0.14.1:docs'], '/buildkit-docs')])],
  },
  {
    section: 'ADD',
    name: 'a Git repository over SSH',
    dockerfile: `# syntax=docker/dockerfile:1
FROM alpine
ADD git@git.example.com:foo/bar.git /bar`,
    expect: [parsed(from('alpine'), add(['git@git.example.com:foo/bar.git'], '/bar'))],
  },
  {
    section: 'ADD',
    name: 'absolute destination',
    dockerfile: frag(`# create /abs/test.txt
ADD test.txt /abs/`),
    expect: [parsed(from('scratch'), add(['test.txt'], '/abs/'))],
  },
  {
    section: 'ADD',
    name: '(inline) a trailing slash in the destination is kept',
    dockerfile: frag(`ADD test.txt /abs
ADD test.txt /abs/`),
    expect: [parsed(from('scratch'), add(['test.txt'], '/abs'), add(['test.txt'], '/abs/'))],
  },
  {
    section: 'ADD',
    name: 'relative destination',
    dockerfile: frag(`WORKDIR /usr/src/app
# create /usr/src/app/rel/test.txt
ADD test.txt rel/`),
    expect: [parsed(from('scratch'), { kind: 'WORKDIR', path: '/usr/src/app' }, add(['test.txt'], 'rel/'))],
  },
  {
    section: 'ADD --keep-git-dir',
    name: 'synopsis (a bracketed word is not a flag)',
    dockerfile: frag(`ADD [--keep-git-dir=<boolean>] <src> ... <dir>`),
    expect: [parsed(from('scratch'), add(['[--keep-git-dir=<boolean>]', '<src>', '...'], '<dir>'))],
  },
  {
    section: 'ADD --keep-git-dir',
    name: '--keep-git-dir=true',
    dockerfile: `# syntax=docker/dockerfile:1
FROM alpine
ADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.10.1 /buildkit`,
    expect: [parsed(from('alpine'), add(['https://github.com/moby/buildkit.git#v0.10.1'], '/buildkit', { keepGitDir: true }))],
  },
  {
    section: 'ADD --checksum',
    name: 'synopsis',
    dockerfile: frag(`ADD [--checksum=<hash>] <src> ... <dir>`),
    expect: [parsed(from('scratch'), add(['[--checksum=<hash>]', '<src>', '...'], '<dir>'))],
  },
  {
    section: 'ADD --checksum',
    name: 'a Git commit prefix and an HTTP digest',
    dockerfile: frag(`ADD --checksum=be1f38e https://github.com/moby/buildkit.git#v0.26.2 /
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://mirrors.edge.kernel.org/pub/linux/kernel/Historic/linux-0.01.tar.gz /`),
    expect: [
      parsed(
        from('scratch'),
        add(['https://github.com/moby/buildkit.git#v0.26.2'], '/', { checksum: 'be1f38e' }),
        add(['https://mirrors.edge.kernel.org/pub/linux/kernel/Historic/linux-0.01.tar.gz'], '/', {
          checksum: 'sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d',
        }),
      ),
    ],
  },
  {
    section: 'ADD --unpack',
    name: 'synopsis',
    dockerfile: frag(`ADD [--unpack=<bool>] <src> ... <dir>`),
    expect: [parsed(from('scratch'), add(['[--unpack=<bool>]', '<src>', '...'], '<dir>'))],
  },
  {
    section: 'ADD --unpack',
    name: '--unpack=true and --unpack=false',
    dockerfile: `# syntax=docker/dockerfile:1
FROM alpine
# Download and unpack archive.tar.gz into /download:
ADD --unpack=true https://example.com/archive.tar.gz /download
# Add local tar without unpacking:
ADD --unpack=false my-archive.tar.gz .`,
    expect: [parsed(from('alpine'), add(['https://example.com/archive.tar.gz'], '/download', { unpack: true }), add(['my-archive.tar.gz'], '.', { unpack: false }))],
  },
  {
    section: 'ADD --chown, --chmod, --link, --exclude',
    name: '(inline) the COPY flags on ADD',
    dockerfile: frag(`ADD --chown=myuser:mygroup --chmod=644 --link --exclude=*.txt --exclude=*.md files* /somedir/`),
    expect: [parsed(from('scratch'), add(['files*'], '/somedir/', { chown: 'myuser:mygroup', chmod: '644', link: true, exclude: ['*.txt', '*.md'] }))],
  },

  // ## COPY
  {
    section: 'COPY',
    name: 'synopsis: both forms',
    dockerfile: frag(`COPY [OPTIONS] <src> ... <dest>
COPY [OPTIONS] ["<src>", ... "<dest>"]`),
    expect: [parsed(from('scratch'), copy(['[OPTIONS]', '<src>', '...'], '<dest>'), copy(['[OPTIONS]', '["<src>",', '...'], '"<dest>"]'))],
  },
  {
    section: 'COPY',
    name: 'two files',
    dockerfile: frag(`COPY file1.txt file2.txt /usr/src/things/`),
    expect: [parsed(from('scratch'), copy(['file1.txt', 'file2.txt'], '/usr/src/things/'))],
  },
  {
    section: 'COPY',
    name: 'from a build stage',
    dockerfile: `FROM golang AS build
WORKDIR /app
RUN --mount=type=bind,target=. go build -o /myapp ./cmd

COPY --from=build /myapp /usr/bin/`,
    expect: [
      parsed(
        from('golang', 'build'),
        { kind: 'WORKDIR', path: '/app' },
        { kind: 'RUN', command: shell('go build -o /myapp ./cmd'), mounts: [bind({ target: '.' })] },
        copy(['/myapp'], '/usr/bin/', { from: 'build', startLine: 5 }),
      ),
    ],
  },
  {
    section: 'COPY',
    name: '(inline) parent navigation and trailing slashes in sources are kept as written',
    dockerfile: frag(`COPY ../something /something
COPY something/ /something
COPY something /something`),
    expect: [parsed(from('scratch'), copy(['../something'], '/something'), copy(['something/'], '/something'), copy(['something'], '/something'))],
  },
  {
    section: 'COPY',
    name: 'pattern *.png',
    dockerfile: frag(`COPY *.png /dest/`),
    expect: [expanded(0, [from('scratch'), copy(['*.png'], '/dest/')])],
  },
  {
    section: 'COPY',
    name: 'pattern index.?s',
    dockerfile: frag(`COPY index.?s /dest/`),
    expect: [expanded(0, [from('scratch'), copy(['index.?s'], '/dest/')])],
  },
  {
    section: 'COPY',
    name: 'escaped pattern arr[[]0].txt',
    dockerfile: frag(`COPY arr[[]0].txt /dest/`),
    expect: [expanded(0, [from('scratch'), copy(['arr[[]0].txt'], '/dest/')])],
  },
  {
    section: 'COPY',
    name: 'absolute destination',
    dockerfile: frag(`# create /abs/test.txt
COPY test.txt /abs/`),
    expect: [parsed(from('scratch'), copy(['test.txt'], '/abs/'))],
  },
  {
    section: 'COPY',
    name: '(inline) a trailing slash in the destination is kept',
    dockerfile: frag(`COPY test.txt /abs
COPY test.txt /abs/`),
    expect: [parsed(from('scratch'), copy(['test.txt'], '/abs'), copy(['test.txt'], '/abs/'))],
  },
  {
    section: 'COPY',
    name: 'relative destination',
    dockerfile: frag(`WORKDIR /usr/src/app
# create /usr/src/app/rel/test.txt
COPY test.txt rel/`),
    expect: [parsed(from('scratch'), { kind: 'WORKDIR', path: '/usr/src/app' }, copy(['test.txt'], 'rel/'))],
  },
  {
    section: 'COPY --from',
    name: 'synopsis',
    dockerfile: frag(`COPY [--from=<image|stage|context>] <src> ... <dest>`),
    expect: [parsed(from('scratch'), copy(['[--from=<image|stage|context>]', '<src>', '...'], '<dest>'))],
  },
  {
    section: 'COPY --from',
    name: 'multi-stage build',
    dockerfile: `# syntax=docker/dockerfile:1
FROM alpine AS build
COPY . .
RUN apk add clang
RUN clang -o /hello hello.c

FROM scratch
COPY --from=build /hello /`,
    expect: [
      stages({ name: 'build', from: 'alpine' }, { from: 'scratch' }),
      parsed(from('alpine', 'build'), copy(['.'], '.'), plainRun('apk add clang'), plainRun('clang -o /hello hello.c'), from('scratch'), copy(['/hello'], '/', { from: 'build' })),
    ],
  },
  {
    section: 'COPY --from',
    name: 'from an image',
    dockerfile: frag(`COPY --from=nginx:latest /etc/nginx/nginx.conf /nginx.conf`),
    expect: [parsed(from('scratch'), copy(['/etc/nginx/nginx.conf'], '/nginx.conf', { from: 'nginx:latest' }))],
  },
  {
    section: 'COPY --chmod',
    name: 'synopsis',
    dockerfile: frag(`COPY [--chmod=<perms>] <src> ... <dest>`),
    expect: [parsed(from('scratch'), copy(['[--chmod=<perms>]', '<src>', '...'], '<dest>'))],
  },
  {
    section: 'COPY --chmod',
    name: 'octal notation, and a variable',
    dockerfile: frag(`COPY --chmod=755 app.sh /app/
COPY --chmod=644 file.txt /data/
ARG MODE=440
COPY --chmod=$MODE . .`),
    expect: [
      parsed(from('scratch'), copy(['app.sh'], '/app/', { chmod: '755' }), copy(['file.txt'], '/data/', { chmod: '644' }), { kind: 'ARG', args: [{ key: 'MODE', value: '440' }] }, copy(['.'], '.', { chmod: '$MODE' })),
      expanded(0, [from('scratch'), { kind: 'COPY' }, { kind: 'COPY' }, { kind: 'ARG' }, copy(['.'], '.', { chmod: '440' })]),
      expanded(0, [from('scratch'), { kind: 'COPY' }, { kind: 'COPY' }, { kind: 'ARG' }, copy(['.'], '.', { chmod: '600' })], { MODE: '600' }),
    ],
  },
  {
    section: 'COPY --chmod',
    name: 'symbolic notation',
    dockerfile: frag(`COPY --chmod=+x script.sh /app/
COPY --chmod=u=rwX,go=rX . /app/
COPY --chmod=g=u config/ /config/`),
    expect: [parsed(from('scratch'), copy(['script.sh'], '/app/', { chmod: '+x' }), copy(['.'], '/app/', { chmod: 'u=rwX,go=rX' }), copy(['config/'], '/config/', { chmod: 'g=u' }))],
  },
  {
    section: 'COPY --chown',
    name: 'synopsis',
    dockerfile: frag(`COPY [--chown=<user>:<group>] <src> ... <dest>`),
    expect: [parsed(from('scratch'), copy(['[--chown=<user>:<group>]', '<src>', '...'], '<dest>'))],
  },
  {
    section: 'COPY --chown',
    name: 'users, groups and IDs',
    dockerfile: frag(`COPY --chown=55:mygroup files* /somedir/
COPY --chown=bin files* /somedir/
COPY --chown=1 files* /somedir/
COPY --chown=10:11 files* /somedir/
COPY --chown=myuser:mygroup --chmod=644 files* /somedir/`),
    expect: [
      parsed(
        from('scratch'),
        copy(['files*'], '/somedir/', { chown: '55:mygroup' }),
        copy(['files*'], '/somedir/', { chown: 'bin' }),
        copy(['files*'], '/somedir/', { chown: '1' }),
        copy(['files*'], '/somedir/', { chown: '10:11' }),
        copy(['files*'], '/somedir/', { chown: 'myuser:mygroup', chmod: '644' }),
      ),
    ],
  },
  {
    section: 'COPY --link',
    name: 'synopsis',
    dockerfile: frag(`COPY [--link[=<boolean>]] <src> ... <dest>`),
    expect: [parsed(from('scratch'), copy(['[--link[=<boolean>]]', '<src>', '...'], '<dest>'))],
  },
  {
    section: 'COPY --link',
    name: '--link',
    dockerfile: `# syntax=docker/dockerfile:1
FROM alpine
COPY --link /foo /bar`,
    expect: [parsed(from('alpine'), copy(['/foo'], '/bar', { link: true }))],
  },
  {
    section: 'COPY --link',
    name: 'the equivalent first build',
    dockerfile: `FROM alpine`,
    expect: [parsed(from('alpine')), stages({ from: 'alpine' })],
  },
  {
    section: 'COPY --link',
    name: 'the equivalent second build',
    dockerfile: `FROM scratch
COPY /foo /bar`,
    expect: [parsed(from('scratch'), copy(['/foo'], '/bar'))],
  },
  {
    section: 'COPY --parents',
    name: 'synopsis',
    dockerfile: frag(`COPY [--parents[=<boolean>]] <src> ... <dest>`),
    expect: [parsed(from('scratch'), copy(['[--parents[=<boolean>]]', '<src>', '...'], '<dest>'))],
  },
  {
    section: 'COPY --parents',
    name: 'without and with --parents',
    dockerfile: `# syntax=docker/dockerfile:1
FROM scratch

COPY ./x/a.txt ./y/a.txt /no_parents/
COPY --parents ./x/a.txt ./y/a.txt /parents/

# /no_parents/a.txt
# /parents/x/a.txt
# /parents/y/a.txt`,
    expect: [parsed(from('scratch'), copy(['./x/a.txt', './y/a.txt'], '/no_parents/'), copy(['./x/a.txt', './y/a.txt'], '/parents/', { parents: true }))],
  },
  {
    section: 'COPY --parents',
    name: 'a /./ pivot',
    dockerfile: `# syntax=docker/dockerfile:1
FROM scratch

COPY --parents ./x/./y/*.txt /parents/

# Build context:
# ./x/y/a.txt
# ./x/y/b.txt
#
# Output:
# /parents/y/a.txt
# /parents/y/b.txt`,
    expect: [parsed(from('scratch'), copy(['./x/./y/*.txt'], '/parents/', { parents: true }))],
  },
  {
    section: 'COPY --parents',
    name: 'a ** pattern',
    dockerfile: `# syntax=docker/dockerfile:1
FROM scratch

COPY --parents ./src/**/*.txt /parents/

# Build context:
# ./src/a.txt
# ./src/x/b.txt
# ./src/x/y/c.txt
#
# Output:
# /parents/src/a.txt
# /parents/src/x/b.txt
# /parents/src/x/y/c.txt`,
    expect: [parsed(from('scratch'), copy(['./src/**/*.txt'], '/parents/', { parents: true })), expanded(0, [from('scratch'), copy(['./src/**/*.txt'], '/parents/', { parents: true })])],
  },
  {
    section: 'COPY --exclude',
    name: 'synopsis',
    dockerfile: frag(`COPY [--exclude=<path> ...] <src> ... <dest>`),
    expect: [parsed(from('scratch'), copy(['[--exclude=<path>', '...]', '<src>', '...'], '<dest>'))],
  },
  {
    section: 'COPY --exclude',
    name: 'one --exclude',
    dockerfile: `# syntax=docker/dockerfile:1
FROM scratch

COPY --exclude=*.txt hom* /mydir/`,
    expect: [parsed(from('scratch'), copy(['hom*'], '/mydir/', { exclude: ['*.txt'] }))],
  },
  {
    section: 'COPY --exclude',
    name: 'two --exclude',
    dockerfile: `# syntax=docker/dockerfile:1
FROM scratch

COPY --exclude=*.txt --exclude=*.md hom* /mydir/`,
    expect: [parsed(from('scratch'), copy(['hom*'], '/mydir/', { exclude: ['*.txt', '*.md'] }))],
  },

  // ## ENTRYPOINT
  {
    section: 'ENTRYPOINT',
    name: 'exec form (indented, as in the list item)',
    dockerfile: frag(`  ENTRYPOINT ["executable", "param1", "param2"]`),
    expect: [parsed(from('scratch'), { kind: 'ENTRYPOINT', command: exec('executable', 'param1', 'param2') })],
  },
  {
    section: 'ENTRYPOINT',
    name: 'shell form (indented, as in the list item)',
    dockerfile: frag(`  ENTRYPOINT command param1 param2`),
    expect: [parsed(from('scratch'), { kind: 'ENTRYPOINT', command: shell('command param1 param2') })],
  },
  {
    section: 'ENTRYPOINT',
    name: 'exec form ENTRYPOINT with CMD: top',
    dockerfile: `FROM ubuntu
ENTRYPOINT ["top", "-b"]
CMD ["-c"]`,
    expect: [parsed(from('ubuntu'), { kind: 'ENTRYPOINT', command: exec('top', '-b') }, { kind: 'CMD', command: exec('-c') })],
  },
  {
    section: 'ENTRYPOINT',
    name: 'Apache in the foreground',
    dockerfile: `FROM debian:stable
RUN apt-get update && apt-get install -y --force-yes apache2
EXPOSE 80 443
VOLUME ["/var/www", "/var/log/apache2", "/etc/apache2"]
ENTRYPOINT ["/usr/sbin/apache2ctl", "-D", "FOREGROUND"]`,
    expect: [
      parsed(
        from('debian:stable'),
        plainRun('apt-get update && apt-get install -y --force-yes apache2'),
        { kind: 'EXPOSE', ports: ['443', '80'] },
        { kind: 'VOLUME', volumes: ['/var/www', '/var/log/apache2', '/etc/apache2'] },
        { kind: 'ENTRYPOINT', command: exec('/usr/sbin/apache2ctl', '-D', 'FOREGROUND') },
      ),
    ],
  },
  {
    section: 'ENTRYPOINT',
    name: 'shell form with exec',
    dockerfile: `FROM ubuntu
ENTRYPOINT exec top -b`,
    expect: [parsed(from('ubuntu'), { kind: 'ENTRYPOINT', command: shell('exec top -b') })],
  },
  {
    // `--` ends an instruction's flags (BuildKit's extractBuilderFlags) and is dropped, so the
    // CMD is `--ignored-param1`; the example's point (shell-form ENTRYPOINT ignores CMD) stands.
    section: 'ENTRYPOINT',
    name: 'shell form without exec, CMD -- --ignored-param1',
    dockerfile: `FROM ubuntu
ENTRYPOINT top -b
CMD -- --ignored-param1`,
    expect: [parsed(from('ubuntu'), { kind: 'ENTRYPOINT', command: shell('top -b') }, { kind: 'CMD', command: shell('--ignored-param1'), original: 'CMD -- --ignored-param1' })],
  },

  // ## VOLUME
  {
    section: 'VOLUME',
    name: 'JSON form',
    dockerfile: frag(`VOLUME ["/data"]`),
    expect: [parsed(from('scratch'), { kind: 'VOLUME', volumes: ['/data'] })],
  },
  {
    section: 'VOLUME',
    name: '(inline) JSON and plain forms',
    dockerfile: frag(`VOLUME ["/var/log/"]
VOLUME /var/log
VOLUME /var/log /var/db`),
    expect: [parsed(from('scratch'), { kind: 'VOLUME', volumes: ['/var/log/'] }, { kind: 'VOLUME', volumes: ['/var/log'] }, { kind: 'VOLUME', volumes: ['/var/log', '/var/db'] })],
  },
  {
    section: 'VOLUME',
    name: '(inline) JSON formatting: single quotes are not JSON',
    dockerfile: frag(`VOLUME ['/data']`),
    expect: [parsed(from('scratch'), { kind: 'VOLUME', volumes: ["['/data']"] }), expanded(0, [from('scratch'), { kind: 'VOLUME', volumes: ['[/data]'] }])],
  },
  {
    section: 'VOLUME',
    name: 'a volume initialised from the image',
    dockerfile: `FROM ubuntu
RUN mkdir /myvol
RUN echo "hello world" > /myvol/greeting
VOLUME /myvol`,
    expect: [parsed(from('ubuntu'), plainRun('mkdir /myvol'), plainRun('echo "hello world" > /myvol/greeting'), { kind: 'VOLUME', volumes: ['/myvol'] })],
  },

  // ## USER
  {
    section: 'USER',
    name: 'synopsis: name and group',
    dockerfile: frag(`USER <user>[:<group>]`),
    expect: [parsed(from('scratch'), { kind: 'USER', user: '<user>[:<group>]' })],
  },
  {
    section: 'USER',
    name: 'synopsis: IDs',
    dockerfile: frag(`USER <UID>[:<GID>]`),
    expect: [parsed(from('scratch'), { kind: 'USER', user: '<UID>[:<GID>]' })],
  },
  {
    section: 'USER',
    name: 'a Windows user created first',
    dockerfile: `FROM microsoft/windowsservercore
# Create Windows user in the container
RUN net user /add patrick
# Set it for subsequent commands
USER patrick`,
    expect: [parsed(from('microsoft/windowsservercore'), plainRun('net user /add patrick'), { kind: 'USER', user: 'patrick', startLine: 5 })],
  },

  // ## WORKDIR
  {
    section: 'WORKDIR',
    name: 'synopsis',
    dockerfile: frag(`WORKDIR /path/to/workdir`),
    expect: [parsed(from('scratch'), { kind: 'WORKDIR', path: '/path/to/workdir' })],
  },
  {
    section: 'WORKDIR',
    name: 'relative paths (the builder joins them: /a/b/c)',
    dockerfile: frag(`WORKDIR /a
WORKDIR b
WORKDIR c
RUN pwd`),
    expect: [parsed(from('scratch'), { kind: 'WORKDIR', path: '/a' }, { kind: 'WORKDIR', path: 'b' }, { kind: 'WORKDIR', path: 'c' }, plainRun('pwd'))],
  },
  {
    // The reference says pwd prints `/path/$DIRNAME`; BuildKit expands a variable that is not
    // set to the empty string (and its UndefinedVar check warns), so the path is `/path/`.
    section: 'WORKDIR',
    name: 'ENV variables in WORKDIR; an unset one is empty',
    dockerfile: frag(`ENV DIRPATH=/path
WORKDIR $DIRPATH/$DIRNAME
RUN pwd`),
    expect: [
      parsed(from('scratch'), { kind: 'ENV' }, { kind: 'WORKDIR', path: '$DIRPATH/$DIRNAME' }, plainRun('pwd')),
      expanded(0, [from('scratch'), { kind: 'ENV' }, { kind: 'WORKDIR', path: '/path/' }]),
      (df) => {
        const undefinedNames: string[] = [];
        expandInstruction(df.stages[0]?.instructions[1] as Instruction, { DIRPATH: '/path' }, { onUndefined: (n) => undefinedNames.push(n) });
        assert.deepEqual(undefinedNames, ['DIRNAME']);
      },
    ],
  },

  // ## ARG
  {
    // The synopsis's brackets and the space in <default value> make odd but valid names.
    section: 'ARG',
    name: 'synopsis',
    dockerfile: frag(`ARG <name>[=<default value>] [<name>[=<default value>]...]`),
    expect: [
      parsed(from('scratch'), {
        kind: 'ARG',
        args: [{ key: '<name>[', value: '<default' }, { key: 'value>]' }, { key: '[<name>[', value: '<default' }, { key: 'value>]...]' }],
      }),
    ],
  },
  {
    section: 'ARG',
    name: 'two ARGs without defaults',
    dockerfile: `FROM busybox
ARG user1
ARG buildno
# ...`,
    expect: [parsed(from('busybox'), { kind: 'ARG', args: [{ key: 'user1' }] }, { kind: 'ARG', args: [{ key: 'buildno' }] }), varsAfter(0, {})],
  },
  {
    section: 'ARG',
    name: 'default values',
    dockerfile: `FROM busybox
ARG user1=someuser
ARG buildno=1
# ...`,
    expect: [
      parsed(from('busybox'), { kind: 'ARG', args: [{ key: 'user1', value: 'someuser' }] }, { kind: 'ARG', args: [{ key: 'buildno', value: '1' }] }),
      varsAfter(0, { user1: 'someuser', buildno: '1' }),
      varsAfter(0, { user1: 'someuser', buildno: '7' }, { buildno: '7' }),
    ],
  },
  {
    section: 'ARG',
    name: 'scope: an ARG takes effect from its line on',
    dockerfile: `FROM busybox
USER \${username:-some_user}
ARG username
USER $username
# ...`,
    expect: [
      parsed(from('busybox'), { kind: 'USER', user: '${username:-some_user}' }, { kind: 'ARG', args: [{ key: 'username' }] }, { kind: 'USER', user: '$username' }),
      expanded(0, [from('busybox'), { kind: 'USER', user: 'some_user' }, { kind: 'ARG' }, { kind: 'USER', user: 'what_user' }], { username: 'what_user' }),
    ],
  },
  {
    section: 'ARG',
    name: 'ENV overrides an ARG of the same name',
    dockerfile: `FROM ubuntu
ARG CONT_IMG_VER
ENV CONT_IMG_VER=v1.0.0
RUN echo $CONT_IMG_VER`,
    expect: [parsed(from('ubuntu'), { kind: 'ARG', args: [{ key: 'CONT_IMG_VER' }] }, { kind: 'ENV', env: [{ key: 'CONT_IMG_VER', value: 'v1.0.0' }] }, plainRun('echo $CONT_IMG_VER')), varsAfter(0, { CONT_IMG_VER: 'v1.0.0' }, { CONT_IMG_VER: 'v2.0.1' })],
  },
  {
    section: 'ARG',
    name: 'ENV defaulting to an ARG',
    dockerfile: `FROM ubuntu
ARG CONT_IMG_VER
ENV CONT_IMG_VER=\${CONT_IMG_VER:-v1.0.0}
RUN echo $CONT_IMG_VER`,
    expect: [varsAfter(0, { CONT_IMG_VER: 'v2.0.1' }, { CONT_IMG_VER: 'v2.0.1' }), varsAfter(0, { CONT_IMG_VER: 'v1.0.0' })],
  },
  {
    section: 'ARG',
    name: 'predefined ARGs need no ARG instruction',
    dockerfile: `FROM ubuntu
RUN echo "Hello World"`,
    expect: [parsed(from('ubuntu'), plainRun('echo "Hello World"'))],
  },
  {
    section: 'ARG',
    name: 'a predefined ARG declared to keep it in the history',
    dockerfile: `FROM ubuntu
ARG HTTP_PROXY
RUN echo "Hello World"`,
    expect: [parsed(from('ubuntu'), { kind: 'ARG', args: [{ key: 'HTTP_PROXY' }] }, plainRun('echo "Hello World"')), varsAfter(0, { HTTP_PROXY: 'http://user:pass@proxy.lon.example.com' }, { HTTP_PROXY: 'http://user:pass@proxy.lon.example.com' })],
  },
  {
    section: 'ARG',
    name: 'an automatic platform ARG redeclared in the stage',
    dockerfile: `FROM alpine
ARG TARGETPLATFORM
RUN echo "I'm building for $TARGETPLATFORM"`,
    expect: [parsed(from('alpine'), { kind: 'ARG', args: [{ key: 'TARGETPLATFORM' }] }, plainRun(`echo "I'm building for $TARGETPLATFORM"`)), varsAfter(0, { TARGETPLATFORM: 'linux/arm64' }, { TARGETPLATFORM: 'linux/arm64' })],
  },
  {
    section: 'ARG',
    name: 'BuildKit built-in args: keep the .git dir',
    dockerfile: `# syntax=docker/dockerfile:1
FROM alpine
WORKDIR /src
RUN --mount=target=. \\
  make REVISION=$(git rev-parse HEAD) build`,
    expect: [parsed(from('alpine'), { kind: 'WORKDIR', path: '/src' }, { kind: 'RUN', command: shell('make REVISION=$(git rev-parse HEAD) build'), mountSpecs: ['target=.'], mounts: [bind({ target: '.' })] })],
  },
  {
    section: 'ARG',
    name: 'caching: ARG used by RUN',
    dockerfile: `FROM ubuntu
ARG CONT_IMG_VER
RUN echo $CONT_IMG_VER`,
    expect: [parsed(from('ubuntu'), { kind: 'ARG', args: [{ key: 'CONT_IMG_VER' }] }, plainRun('echo $CONT_IMG_VER'))],
  },
  {
    section: 'ARG',
    name: 'caching: ARG not used by RUN',
    dockerfile: `FROM ubuntu
ARG CONT_IMG_VER
RUN echo hello`,
    expect: [parsed(from('ubuntu'), { kind: 'ARG', args: [{ key: 'CONT_IMG_VER' }] }, plainRun('echo hello'))],
  },
  {
    section: 'ARG',
    name: 'caching: ENV from an ARG',
    dockerfile: `FROM ubuntu
ARG CONT_IMG_VER
ENV CONT_IMG_VER=$CONT_IMG_VER
RUN echo $CONT_IMG_VER`,
    expect: [varsAfter(0, { CONT_IMG_VER: 'x' }, { CONT_IMG_VER: 'x' }), expanded(0, [from('ubuntu'), { kind: 'ARG' }, { kind: 'ENV', env: [{ key: 'CONT_IMG_VER', value: 'x' }] }], { CONT_IMG_VER: 'x' })],
  },
  {
    section: 'ARG',
    name: 'caching: ENV overriding an ARG with a constant',
    dockerfile: `FROM ubuntu
ARG CONT_IMG_VER
ENV CONT_IMG_VER=hello
RUN echo $CONT_IMG_VER`,
    expect: [varsAfter(0, { CONT_IMG_VER: 'hello' }, { CONT_IMG_VER: 'x' })],
  },

  // ## ONBUILD
  {
    // BuildKit stores any trigger text and only fails when a child build runs it; gantry parses
    // the trigger at once and refuses an unknown instruction.
    section: 'ONBUILD',
    name: 'synopsis: <INSTRUCTION> is not an instruction',
    dockerfile: frag(`ONBUILD <INSTRUCTION>`),
    error: 'Dockerfile:2: unknown instruction: <INSTRUCTION>',
  },
  {
    section: 'ONBUILD',
    name: 'ADD and RUN triggers',
    dockerfile: frag(`ONBUILD ADD . /app/src
ONBUILD RUN /usr/local/bin/python-build --dir /app/src`),
    expect: [
      parsed(
        from('scratch'),
        { kind: 'ONBUILD', expression: 'ADD . /app/src', trigger: add(['.'], '/app/src') },
        { kind: 'ONBUILD', expression: 'RUN /usr/local/bin/python-build --dir /app/src', trigger: plainRun('/usr/local/bin/python-build --dir /app/src') },
      ),
    ],
  },
  {
    section: 'ONBUILD',
    name: 'triggers that copy or mount from a stage',
    dockerfile: `# syntax=docker/dockerfile:1.11
FROM alpine AS baseimage
ONBUILD COPY --from=build /usr/bin/app /app
ONBUILD RUN --mount=from=config,target=/opt/appconfig ...`,
    expect: [
      parsed(
        from('alpine', 'baseimage'),
        { kind: 'ONBUILD', expression: 'COPY --from=build /usr/bin/app /app', trigger: copy(['/usr/bin/app'], '/app', { from: 'build' }) },
        {
          kind: 'ONBUILD',
          expression: 'RUN --mount=from=config,target=/opt/appconfig ...',
          trigger: { kind: 'RUN', command: shell('...'), mounts: [bind({ from: 'config', target: '/opt/appconfig' })] },
        },
      ),
    ],
  },
  {
    section: 'ONBUILD',
    name: '(inline) limitation: ONBUILD ONBUILD',
    dockerfile: frag(`ONBUILD ONBUILD RUN echo hi`),
    error: "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
  },
  {
    section: 'ONBUILD',
    name: '(inline) limitation: ONBUILD FROM',
    dockerfile: frag(`ONBUILD FROM alpine`),
    error: "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger",
  },
  {
    section: 'ONBUILD',
    name: '(inline) limitation: ONBUILD MAINTAINER',
    dockerfile: frag(`ONBUILD MAINTAINER me`),
    error: "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger",
  },

  // ## STOPSIGNAL
  {
    section: 'STOPSIGNAL',
    name: 'synopsis',
    dockerfile: frag(`STOPSIGNAL signal`),
    expect: [parsed(from('scratch'), { kind: 'STOPSIGNAL', signal: 'signal' })],
  },
  {
    section: 'STOPSIGNAL',
    name: '(inline) a name and a number',
    dockerfile: frag(`STOPSIGNAL SIGKILL
STOPSIGNAL 9`),
    expect: [parsed(from('scratch'), { kind: 'STOPSIGNAL', signal: 'SIGKILL' }, { kind: 'STOPSIGNAL', signal: '9' })],
  },

  // ## HEALTHCHECK
  {
    section: 'HEALTHCHECK',
    name: '(inline) synopsis: [OPTIONS] is not a type',
    dockerfile: frag(`HEALTHCHECK [OPTIONS] CMD command`),
    error: 'Dockerfile:2: Unknown type "[OPTIONS]" in HEALTHCHECK (try CMD)',
  },
  {
    section: 'HEALTHCHECK',
    name: '(inline) HEALTHCHECK NONE',
    dockerfile: frag(`HEALTHCHECK NONE`),
    expect: [parsed(from('scratch'), { kind: 'HEALTHCHECK', test: ['NONE'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 })],
  },
  {
    section: 'HEALTHCHECK',
    name: '(inline) a shell command',
    dockerfile: frag(`HEALTHCHECK CMD /bin/check-running`),
    expect: [parsed(from('scratch'), { kind: 'HEALTHCHECK', test: ['CMD-SHELL', '/bin/check-running'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 })],
  },
  {
    section: 'HEALTHCHECK',
    name: '(inline) the options with their default values',
    dockerfile: frag(`HEALTHCHECK --interval=30s --timeout=30s --start-period=0s --start-interval=5s --retries=3 CMD /bin/check-running`),
    expect: [parsed(from('scratch'), { kind: 'HEALTHCHECK', test: ['CMD-SHELL', '/bin/check-running'], interval: 30 * sec, timeout: 30 * sec, startPeriod: 0, startInterval: 5 * sec, retries: 3 })],
  },
  {
    section: 'HEALTHCHECK',
    name: '(inline) exec array',
    dockerfile: frag(`HEALTHCHECK CMD ["/bin/check-running", "--quiet"]`),
    expect: [parsed(from('scratch'), { kind: 'HEALTHCHECK', test: ['CMD', '/bin/check-running', '--quiet'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 })],
  },
  {
    section: 'HEALTHCHECK',
    name: 'every five minutes, three seconds to answer',
    dockerfile: frag(`HEALTHCHECK --interval=5m --timeout=3s \\
  CMD curl -f http://localhost/ || exit 1`),
    expect: [parsed(from('scratch'), { kind: 'HEALTHCHECK', test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], interval: 300 * sec, timeout: 3 * sec, startPeriod: 0, startInterval: 0, retries: 0, startLine: 2, endLine: 3 })],
  },

  // ## SHELL
  {
    section: 'SHELL',
    name: 'synopsis',
    dockerfile: frag(`SHELL ["executable", "parameters"]`),
    expect: [parsed(from('scratch'), { kind: 'SHELL', shell: ['executable', 'parameters'] })],
  },
  {
    section: 'SHELL',
    name: 'cmd and powershell on Windows',
    dockerfile: `FROM microsoft/windowsservercore

# Executed as cmd /S /C echo default
RUN echo default

# Executed as cmd /S /C powershell -command Write-Host default
RUN powershell -command Write-Host default

# Executed as powershell -command Write-Host hello
SHELL ["powershell", "-command"]
RUN Write-Host hello

# Executed as cmd /S /C echo hello
SHELL ["cmd", "/S", "/C"]
RUN echo hello`,
    expect: [
      parsed(
        from('microsoft/windowsservercore'),
        { ...plainRun('echo default'), startLine: 4 },
        plainRun('powershell -command Write-Host default'),
        { kind: 'SHELL', shell: ['powershell', '-command'] },
        plainRun('Write-Host hello'),
        { kind: 'SHELL', shell: ['cmd', '/S', '/C'] },
        { ...plainRun('echo hello'), startLine: 15 },
      ),
    ],
  },
  {
    section: 'SHELL',
    name: 'powershell through cmd',
    dockerfile: frag(`RUN powershell -command Execute-MyCmdlet -param1 "c:\\foo.txt"`),
    expect: [parsed(from('scratch'), plainRun('powershell -command Execute-MyCmdlet -param1 "c:\\foo.txt"'))],
  },
  {
    section: 'SHELL',
    name: 'powershell in exec form',
    dockerfile: frag(`RUN ["powershell", "-command", "Execute-MyCmdlet", "-param1 \\"c:\\\\foo.txt\\""]`),
    expect: [parsed(from('scratch'), { kind: 'RUN', command: exec('powershell', '-command', 'Execute-MyCmdlet', '-param1 "c:\\foo.txt"') })],
  },
  {
    section: 'SHELL',
    name: 'SHELL with the escape directive',
    dockerfile: `# escape=\`

FROM microsoft/nanoserver
SHELL ["powershell","-command"]
RUN New-Item -ItemType Directory C:\\Example
ADD Execute-MyCmdlet.ps1 c:\\example\\
RUN c:\\example\\Execute-MyCmdlet -sample 'hello world'`,
    expect: [
      directives([{ name: 'escape', value: '`' }], '`'),
      parsed(
        from('microsoft/nanoserver'),
        { kind: 'SHELL', shell: ['powershell', '-command'] },
        plainRun('New-Item -ItemType Directory C:\\Example'),
        add(['Execute-MyCmdlet.ps1'], 'c:\\example\\'),
        plainRun("c:\\example\\Execute-MyCmdlet -sample 'hello world'"),
      ),
      expanded(0, [from('microsoft/nanoserver'), { kind: 'SHELL' }, { kind: 'RUN' }, add(['Execute-MyCmdlet.ps1'], 'c:\\example\\')]),
    ],
  },
  {
    section: 'SHELL',
    name: '(inline) SHELL must be JSON',
    dockerfile: frag(`SHELL cmd /S /C /V:ON|OFF`),
    error: 'Dockerfile:2: SHELL requires the arguments to be in JSON form',
  },

  // ## Here-Documents
  {
    section: 'Here-Documents',
    name: 'a multi-line script for bash',
    dockerfile: `# syntax=docker/dockerfile:1
FROM debian
RUN <<EOT bash
  set -ex
  apt-get update
  apt-get install -y vim
EOT`,
    expect: [parsed(from('debian'), { kind: 'RUN', command: { args: ['<<EOT bash'], shell: true, files: [doc('EOT', '  set -ex\n  apt-get update\n  apt-get install -y vim\n')] }, startLine: 3, endLine: 7 })],
  },
  {
    section: 'Here-Documents',
    name: 'only a here-document: the default shell runs it',
    dockerfile: `# syntax=docker/dockerfile:1
FROM debian
RUN <<EOT
  mkdir -p foo/bar
EOT`,
    expect: [parsed(from('debian'), { kind: 'RUN', command: { args: ['<<EOT'], shell: true, files: [doc('EOT', '  mkdir -p foo/bar\n')] } })],
  },
  {
    section: 'Here-Documents',
    name: 'a shebang line (not a comment)',
    dockerfile: `# syntax=docker/dockerfile:1
FROM python:3.6
RUN <<EOT
#!/usr/bin/env python
print("hello world")
EOT`,
    expect: [parsed(from('python:3.6'), { kind: 'RUN', command: { args: ['<<EOT'], shell: true, files: [doc('EOT', '#!/usr/bin/env python\nprint("hello world")\n')] } })],
  },
  {
    section: 'Here-Documents',
    name: 'two here-documents on one line',
    dockerfile: `# syntax=docker/dockerfile:1
FROM alpine
RUN <<FILE1 cat > file1 && <<FILE2 cat > file2
I am
first
FILE1
I am
second
FILE2`,
    expect: [
      parsed(from('alpine'), {
        kind: 'RUN',
        command: { args: ['<<FILE1 cat > file1 && <<FILE2 cat > file2'], shell: true, files: [doc('FILE1', 'I am\nfirst\n'), doc('FILE2', 'I am\nsecond\n')] },
        startLine: 3,
        endLine: 9,
      }),
    ],
  },
  {
    section: 'Here-Documents',
    name: 'COPY an inline file',
    dockerfile: `# syntax=docker/dockerfile:1
FROM alpine
COPY <<EOF greeting.txt
hello world
EOF`,
    expect: [parsed(from('alpine'), { ...copy([], 'greeting.txt'), contents: [{ path: 'EOF', data: 'hello world\n', expand: true }] })],
  },
  {
    // <<- strips leading tabs only; the example indents with spaces, which stay.
    section: 'Here-Documents',
    name: 'COPY <<-EOT: variables expanded',
    dockerfile: `# syntax=docker/dockerfile:1
FROM alpine
ARG FOO=bar
COPY <<-EOT /script.sh
  echo "hello \${FOO}"
EOT
ENTRYPOINT ash /script.sh`,
    expect: [
      parsed(
        from('alpine'),
        { kind: 'ARG', args: [{ key: 'FOO', value: 'bar' }] },
        { ...copy([], '/script.sh'), contents: [{ path: 'EOT', data: '  echo "hello ${FOO}"\n', expand: true }] },
        { kind: 'ENTRYPOINT', command: shell('ash /script.sh') },
      ),
      expanded(0, [from('alpine'), { kind: 'ARG' }, { kind: 'COPY', contents: [{ path: 'EOT', data: '  echo "hello bar"\n' }] }]),
    ],
  },
  {
    section: 'Here-Documents',
    name: '(inline) tab stripping: <<- removes leading tabs, the terminator may be indented with tabs',
    dockerfile: frag(`ARG FOO=bar
COPY <<-EOT /script.sh
\t\techo "hello \${FOO}"
\tEOT
RUN <<-EOT
\tcat /script.sh
\tEOT`),
    expect: [
      expanded(0, [from('scratch'), { kind: 'ARG' }, { kind: 'COPY', contents: [{ path: 'EOT', data: 'echo "hello bar"\n' }] }]),
      (df) => like(df.stages[0]?.instructions[2], { kind: 'RUN', command: { args: ['<<-EOT'], files: [doc('EOT', '\tcat /script.sh\n', { chomp: true })] }, startLine: 6, endLine: 8 }),
    ],
  },
  {
    section: 'Here-Documents',
    name: 'COPY <<-"EOT": a quoted delimiter turns expansion off',
    dockerfile: `# syntax=docker/dockerfile:1
FROM alpine
ARG FOO=bar
COPY <<-"EOT" /script.sh
  echo "hello \${FOO}"
EOT
ENTRYPOINT ash /script.sh`,
    expect: [
      parsed(from('alpine'), { kind: 'ARG' }, { ...copy([], '/script.sh'), contents: [{ path: 'EOT', data: '  echo "hello ${FOO}"\n', expand: false }] }, { kind: 'ENTRYPOINT' }),
      expanded(0, [from('alpine'), { kind: 'ARG' }, { kind: 'COPY', contents: [{ path: 'EOT', data: '  echo "hello ${FOO}"\n', expand: false }] }]),
    ],
  },
];

// ---------------------------------------------------------------------------------------------

describe('the Dockerfile reference, example by example', () => {
  it('has a row for every section of the reference', () => {
    const sections = new Set(rows.map((r) => r.section.split(' ')[0]));
    for (const s of ['Format', 'Parser', 'syntax', 'escape', 'check', 'Environment', 'Shell', 'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL', 'Here-Documents']) {
      assert.ok(sections.has(s), s);
    }
  });
  for (const row of rows) {
    it(`${row.section}: ${row.name}`, () => {
      if (row.error !== undefined) {
        const message = row.error;
        assert.throws(
          () => parseDockerfile(row.dockerfile),
          (e) => isGantryError(e, 'INVALID_ARGUMENT') && e.message === message,
        );
        return;
      }
      const df = parseDockerfile(row.dockerfile);
      warnings()(df); // no example draws a parser warning
      for (const check of row.expect ?? []) check(df);
    });
  }
});
