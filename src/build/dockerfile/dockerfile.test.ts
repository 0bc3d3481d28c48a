import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGantryError } from '../../core/errors.js';
import { parseDockerfile } from './dockerfile.js';
import type { Instruction } from './instructions.js';

/** The single instruction of `FROM scratch\n<line>`, without location fields. */
function one(line: string): Record<string, unknown> {
  const df = parseDockerfile(`FROM scratch\n${line}`);
  const i = df.stages[0]?.instructions[0] as Instruction;
  const rest: Record<string, unknown> = { ...i };
  delete rest.original;
  delete rest.startLine;
  delete rest.endLine;
  return rest;
}
const sec = 1e9;

describe('parseDockerfile: instruction forms', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['RUN echo hello', { kind: 'RUN', command: { args: ['echo hello'], shell: true, files: [] }, mountSpecs: [], mounts: [], network: 'default', devices: [], security: 'sandbox' }],
    ['RUN ["/bin/bash", "-c", "echo hello"]', { kind: 'RUN', command: { args: ['/bin/bash', '-c', 'echo hello'], shell: false, files: [] }, mountSpecs: [], mounts: [], network: 'default', devices: [], security: 'sandbox' }],
    ['RUN --network=none --security=insecure pip install x', { kind: 'RUN', command: { args: ['pip install x'], shell: true, files: [] }, mountSpecs: [], mounts: [], network: 'none', devices: [], security: 'insecure' }],
    [
      'RUN --mount=type=cache,target=/root/.cache,sharing=locked --mount=type=secret,id=aws,target=/root/.aws/credentials,required make',
      {
        kind: 'RUN',
        command: { args: ['make'], shell: true, files: [] },
        mountSpecs: ['type=cache,target=/root/.cache,sharing=locked', 'type=secret,id=aws,target=/root/.aws/credentials,required'],
        mounts: [
          { type: 'cache', target: '/root/.cache', sharing: 'locked', readOnly: false, required: false },
          { type: 'secret', id: 'aws', target: '/root/.aws/credentials', readOnly: true, required: true },
        ],
        network: 'default',
        devices: [],
        security: 'sandbox',
      },
    ],
    ['RUN --mount=target=/src,uid=$UID x', { kind: 'RUN', command: { args: ['x'], shell: true, files: [] }, mountSpecs: ['target=/src,uid=$UID'], mounts: undefined, network: 'default', devices: [], security: 'sandbox' }],
    ['RUN --device=vendor1.com/device=foo x', { kind: 'RUN', command: { args: ['x'], shell: true, files: [] }, mountSpecs: [], mounts: [], network: 'default', devices: ['vendor1.com/device=foo'], security: 'sandbox' }],
    ['CMD ["executable","param1","param2"]', { kind: 'CMD', command: { args: ['executable', 'param1', 'param2'], shell: false, files: [] } }],
    ['CMD ["param1","param2"]', { kind: 'CMD', command: { args: ['param1', 'param2'], shell: false, files: [] } }],
    ['CMD echo "This is a test." | wc -', { kind: 'CMD', command: { args: ['echo "This is a test." | wc -'], shell: true, files: [] } }],
    ['ENTRYPOINT ["top", "-b"]', { kind: 'ENTRYPOINT', command: { args: ['top', '-b'], shell: false, files: [] } }],
    ['ENTRYPOINT exec top -b', { kind: 'ENTRYPOINT', command: { args: ['exec top -b'], shell: true, files: [] } }],
    ['LABEL "com.example.vendor"="ACME Incorporated"', { kind: 'LABEL', labels: [{ key: '"com.example.vendor"', value: '"ACME Incorporated"' }] }],
    ['LABEL multi.label1="value1" multi.label2="value2" other="value3"', { kind: 'LABEL', labels: [{ key: 'multi.label1', value: '"value1"' }, { key: 'multi.label2', value: '"value2"' }, { key: 'other', value: '"value3"' }] }],
    ['LABEL version="1.0"', { kind: 'LABEL', labels: [{ key: 'version', value: '"1.0"' }] }],
    ['MAINTAINER Jane Doe <jane@example.com>', { kind: 'MAINTAINER', maintainer: 'Jane Doe <jane@example.com>' }],
    ['EXPOSE 80/udp', { kind: 'EXPOSE', ports: ['80/udp'] }],
    ['EXPOSE 80/tcp 443 53/udp', { kind: 'EXPOSE', ports: ['443', '53/udp', '80/tcp'] }],
    ['ENV MY_NAME="John Doe"', { kind: 'ENV', env: [{ key: 'MY_NAME', value: '"John Doe"' }] }],
    ['ENV MY_DOG=Rex\\ The\\ Dog', { kind: 'ENV', env: [{ key: 'MY_DOG', value: 'Rex\\ The\\ Dog' }] }],
    ['ENV MY_VAR my-value', { kind: 'ENV', env: [{ key: 'MY_VAR', value: 'my-value', noDelim: true }] }],
    ['ENV ONE TWO= THREE=world', { kind: 'ENV', env: [{ key: 'ONE', value: 'TWO= THREE=world', noDelim: true }] }],
    ['ARG user1', { kind: 'ARG', args: [{ key: 'user1' }] }],
    ['ARG buildno=1 user=someuser empty=', { kind: 'ARG', args: [{ key: 'buildno', value: '1' }, { key: 'user', value: 'someuser' }, { key: 'empty', value: '' }] }],
    ['ADD --chown=55:mygroup --chmod=644 files* /somedir/', { kind: 'ADD', sources: ['files*'], contents: [], dest: '/somedir/', chown: '55:mygroup', chmod: '644', checksum: undefined, link: false, keepGitDir: undefined, unpack: undefined, exclude: [] }],
    ['ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://mirrors.edge.kernel.org/pub/linux/kernel/Historic/linux-0.01.tar.gz /', { kind: 'ADD', sources: ['https://mirrors.edge.kernel.org/pub/linux/kernel/Historic/linux-0.01.tar.gz'], contents: [], dest: '/', chown: undefined, chmod: undefined, checksum: 'sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d', link: false, keepGitDir: undefined, unpack: undefined, exclude: [] }],
    ['ADD --keep-git-dir=true --link https://github.com/moby/buildkit.git#v0.10.1 /buildkit', { kind: 'ADD', sources: ['https://github.com/moby/buildkit.git#v0.10.1'], contents: [], dest: '/buildkit', chown: undefined, chmod: undefined, checksum: undefined, link: true, keepGitDir: true, unpack: undefined, exclude: [] }],
    ['ADD ["a b", "/dst dir/"]', { kind: 'ADD', sources: ['a b'], contents: [], dest: '/dst dir/', chown: undefined, chmod: undefined, checksum: undefined, link: false, keepGitDir: undefined, unpack: undefined, exclude: [] }],
    ['COPY --from=build --chown=bin --chmod=755 /app /app', { kind: 'COPY', sources: ['/app'], contents: [], dest: '/app', from: 'build', chown: 'bin', chmod: '755', link: false, parents: false, exclude: [] }],
    ['COPY --link --parents --exclude=*.txt --exclude=*.md ./x/ ./y/ /dest/', { kind: 'COPY', sources: ['./x/', './y/'], contents: [], dest: '/dest/', from: undefined, chown: undefined, chmod: undefined, link: true, parents: true, exclude: ['*.txt', '*.md'] }],
    ['COPY --link=false a b', { kind: 'COPY', sources: ['a'], contents: [], dest: 'b', from: undefined, chown: undefined, chmod: undefined, link: false, parents: false, exclude: [] }],
    ['WORKDIR /path/to/workdir', { kind: 'WORKDIR', path: '/path/to/workdir' }],
    ['WORKDIR $DIRPATH/$DIRNAME', { kind: 'WORKDIR', path: '$DIRPATH/$DIRNAME' }],
    ['USER patrick', { kind: 'USER', user: 'patrick' }],
    ['USER 1000:1000', { kind: 'USER', user: '1000:1000' }],
    ['VOLUME ["/data"]', { kind: 'VOLUME', volumes: ['/data'] }],
    ['VOLUME /var/log /var/db', { kind: 'VOLUME', volumes: ['/var/log', '/var/db'] }],
    ['STOPSIGNAL SIGKILL', { kind: 'STOPSIGNAL', signal: 'SIGKILL' }],
    ['HEALTHCHECK NONE', { kind: 'HEALTHCHECK', test: ['NONE'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 }],
    ['HEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/ || exit 1', { kind: 'HEALTHCHECK', test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], interval: 300 * sec, timeout: 3 * sec, startPeriod: 0, startInterval: 0, retries: 0 }],
    ['HEALTHCHECK --start-period=1m30s --start-interval=500ms --retries=3 CMD ["/bin/check", "-v"]', { kind: 'HEALTHCHECK', test: ['CMD', '/bin/check', '-v'], interval: 0, timeout: 0, startPeriod: 90 * sec, startInterval: 0.5 * sec, retries: 3 }],
    ['HEALTHCHECK --interval=0s cmd true', { kind: 'HEALTHCHECK', test: ['CMD-SHELL', 'true'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 }],
    ['SHELL ["powershell", "-command"]', { kind: 'SHELL', shell: ['powershell', '-command'] }],
    ['SHELL ["/bin/bash", "-o", "pipefail", "-c"]', { kind: 'SHELL', shell: ['/bin/bash', '-o', 'pipefail', '-c'] }],
  ];
  for (const [line, want] of cases) {
    it(line, () => assert.deepEqual(one(line), want));
  }

  it('parses ONBUILD triggers', () => {
    const i = one('ONBUILD ADD . /app/src');
    assert.equal(i.expression, 'ADD . /app/src');
    assert.deepEqual((i.trigger as { kind: string; sources: string[] }).sources, ['.']);
    const r = one('onbuild RUN <<EOF\necho hi\nEOF');
    assert.equal(r.expression, 'RUN <<EOF\necho hi\nEOF');
    assert.deepEqual((r.trigger as { command: unknown }).command, { args: ['<<EOF'], shell: true, files: [{ name: 'EOF', fileDescriptor: 0, chomp: false, expand: true, content: 'echo hi\n' }] });
  });
  it('turns COPY/ADD here-documents into inline sources', () => {
    const i = one('COPY <<robots.txt <<-"humans.txt" plain /usr/share/nginx/html/\nUser-agent: *\nrobots.txt\n\tThe $TEAM\n\thumans.txt');
    assert.deepEqual(i.sources, ['plain']);
    assert.deepEqual(i.contents, [
      { path: 'robots.txt', data: 'User-agent: *\n', expand: true },
      { path: 'humans.txt', data: 'The $TEAM\n', expand: false },
    ]);
  });
  it('keeps RUN here-documents as inline files', () => {
    const i = one('RUN <<EOF bash\nset -ex\napt-get update\nEOF');
    assert.deepEqual(i.command, { args: ['<<EOF bash'], shell: true, files: [{ name: 'EOF', fileDescriptor: 0, chomp: false, expand: true, content: 'set -ex\napt-get update\n' }] });
  });
});

describe('parseDockerfile: stages', () => {
  it('groups instructions into stages with global ARGs', () => {
    const df = parseDockerfile(
      '# syntax=docker/dockerfile:1\nARG  CODE_VERSION=latest\nFROM base:${CODE_VERSION}\nCMD  /code/run-app\n\nFROM --platform=$BUILDPLATFORM extras:${CODE_VERSION} AS Build\nRUN make\nFROM scratch\nCOPY --from=build /out /\n',
    );
    assert.deepEqual(df.directives, [{ name: 'syntax', value: 'docker/dockerfile:1', line: 1 }]);
    assert.deepEqual(df.globalArgs.map((a) => a.args), [[{ key: 'CODE_VERSION', value: 'latest' }]]);
    assert.deepEqual(
      df.stages.map((s) => [s.name, s.from, s.platform, s.instructions.map((i) => i.kind)]),
      [
        [undefined, 'base:${CODE_VERSION}', undefined, ['CMD']],
        ['build', 'extras:${CODE_VERSION}', '$BUILDPLATFORM', ['RUN']],
        [undefined, 'scratch', undefined, ['COPY']],
      ],
    );
    assert.deepEqual([df.stages[1]?.source.startLine, df.stages[1]?.instructions[0]?.startLine], [6, 7]);
  });
  it('accepts lower-case keywords and `as`', () => {
    assert.equal(parseDockerfile('from alpine as Builder\nrun true').stages[0]?.name, 'builder');
  });
  it('warns about reserved stage names and empty continuation lines', () => {
    assert.deepEqual(parseDockerfile('FROM a AS context\nRUN a \\\n\n b').warnings, [
      { message: 'Empty continuation line found in: RUN a  b', line: 4 },
      { message: "'context' is reserved and should not be used as a stage name", line: 1 },
    ]);
  });
});

describe('parseDockerfile: errors', () => {
  const cases: [string, string][] = [
    ['FROM a\nRUNN x', 'Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)'],
    ['FROM a\ncopyy a b', 'Dockerfile:2: unknown instruction: copyy (did you mean copy?)'],
    ['FROM a\nFOOBAR x', 'Dockerfile:2: unknown instruction: FOOBAR'],
    ['FROM a\n\nWORKDIR', 'Dockerfile:3: WORKDIR requires exactly one argument'],
    ['FROM', 'Dockerfile:1: FROM requires either one or three arguments'],
    ['FROM a b', 'Dockerfile:1: FROM requires either one or three arguments'],
    ['FROM a AS b c', 'Dockerfile:1: FROM requires either one or three arguments'],
    ['FROM a AS 1st', 'Dockerfile:1: invalid name for build stage: "1st", name can\'t start with a number or contain symbols'],
    ['FROM a AS b$c', 'Dockerfile:1: invalid name for build stage: "b$c", name can\'t start with a number or contain symbols'],
    ['FROM --plat=x a', 'Dockerfile:1: unknown flag: --plat'],
    ['FROM a AS x\nRUN a\nFROM b AS y\nRUN b\nFROM c AS X', 'Dockerfile:5: duplicate stage name "x", stage names should be unique'],
    ['RUN x', 'Dockerfile:1: no build stage in current context'],
    ['ARG a\nENV b=c', 'Dockerfile:2: no build stage in current context'],
    ['FROM a\nENV =x', 'Dockerfile:2: ENV names can not be blank'],
    ['FROM a\nENV', 'Dockerfile:2: ENV requires at least one argument'],
    ['FROM a\nLABEL', 'Dockerfile:2: LABEL requires at least one argument'],
    ['FROM a\nARG', 'Dockerfile:2: ARG requires at least one argument'],
    ['FROM a\nARG =x', 'Dockerfile:2: ARG names can not be blank'],
    ['FROM a\nCOPY --frm=x a b', 'Dockerfile:2: unknown flag: --frm (did you mean from?)'],
    ['FROM a\nCOPY --from a b', 'Dockerfile:2: missing a value on flag: --from'],
    ['FROM a\nCOPY --from=a --from=b a b', 'Dockerfile:2: duplicate flag specified: --from'],
    ['FROM a\nCOPY --link=maybe a b', 'Dockerfile:2: expecting boolean value for flag --link, not: maybe'],
    ['FROM a\nCOPY --link= a b', 'Dockerfile:2: missing a value on flag: --link'],
    ['FROM a\nCOPY onlyone', 'Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined'],
    ['FROM a\nADD onlyone', 'Dockerfile:2: ADD requires at least two arguments, but only one was provided. Destination could not be determined'],
    ['FROM a\nCOPY a <<EOF\nx\nEOF', 'Dockerfile:2: COPY cannot accept a heredoc as a destination'],
    ['FROM a\nSHELL /bin/sh -c', 'Dockerfile:2: SHELL requires the arguments to be in JSON form'],
    ['FROM a\nSHELL', 'Dockerfile:2: SHELL requires at least one argument'],
    ['FROM a\nONBUILD', 'Dockerfile:2: ONBUILD requires at least one argument'],
    ['FROM a\nONBUILD ONBUILD RUN x', 'Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed'],
    ['FROM a\nONBUILD FROM b', "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"],
    ['FROM a\nONBUILD maintainer me', "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger"],
    ['FROM a\nMAINTAINER', 'Dockerfile:2: MAINTAINER requires exactly one argument'],
    ['FROM a\nUSER', 'Dockerfile:2: USER requires exactly one argument'],
    ['FROM a\nSTOPSIGNAL', 'Dockerfile:2: STOPSIGNAL requires exactly one argument'],
    ['FROM a\nEXPOSE', 'Dockerfile:2: EXPOSE requires at least one argument'],
    ['FROM a\nVOLUME', 'Dockerfile:2: VOLUME requires at least one argument'],
    ['FROM a\nVOLUME ["/a", " "]', 'Dockerfile:2: VOLUME specified can not be an empty string'],
    ['FROM a\nHEALTHCHECK', 'Dockerfile:2: HEALTHCHECK requires at least one argument'],
    ['FROM a\nHEALTHCHECK NONE x', 'Dockerfile:2: HEALTHCHECK NONE takes no arguments'],
    ['FROM a\nHEALTHCHECK CMD', 'Dockerfile:2: Missing command after HEALTHCHECK CMD'],
    ['FROM a\nHEALTHCHECK RUN x', 'Dockerfile:2: Unknown type "RUN" in HEALTHCHECK (try CMD)'],
    ['FROM a\nHEALTHCHECK --interval=5 CMD x', 'Dockerfile:2: time: missing unit in duration "5"'],
    ['FROM a\nHEALTHCHECK --timeout=5x CMD x', 'Dockerfile:2: time: unknown unit "x" in duration "5x"'],
    ['FROM a\nHEALTHCHECK --interval=10us CMD x', 'Dockerfile:2: Interval "interval" cannot be less than 1ms'],
    ['FROM a\nHEALTHCHECK --retries=-1 CMD x', 'Dockerfile:2: --retries cannot be negative (-1)'],
    ['FROM a\nHEALTHCHECK --retries=x CMD x', 'Dockerfile:2: strconv.ParseInt: parsing "x": invalid syntax'],
    ['FROM a\nHEALTHCHECK --intervall=1s CMD x', 'Dockerfile:2: unknown flag: --intervall (did you mean interval?)'],
    ['FROM a\nRUN --network=bridge x', 'Dockerfile:2: invalid network mode "bridge"'],
    ['FROM a\nRUN --security=root x', 'Dockerfile:2: security "root" is not valid'],
    ['FROM a\nRUN --mount=type=cahce,target=/x x', 'Dockerfile:2: unsupported mount type "cahce" (did you mean cache?)'],
    ['FROM a\nRUN --mount=from=$STAGE,target=/x x', "Dockerfile:2: 'from' doesn't support variable expansion, define alias stage instead"],
    ['FROM a\nRUN --mount=type=bind,uid=1 x', 'Dockerfile:2: uid not allowed for "bind" type mounts'],
    ['FROM a\nRUN --mnt=type=bind x', 'Dockerfile:2: unknown flag: --mnt (did you mean mount?)'],
    ['FROM a\nENV a=b c', 'Dockerfile:2: Syntax error - can\'t find = in "c". Must be of the form: name=value'],
    ['FROM a\nRUN <<EOF\nx', 'Dockerfile:2: unterminated heredoc'],
    ['', 'Dockerfile: file with no instructions'],
  ];
  for (const [text, message] of cases) {
    it(message, () => assert.throws(() => parseDockerfile(text), (e) => isGantryError(e, 'INVALID_ARGUMENT') && e.message === message && e.hint !== undefined));
  }
  it('names the file given', () => {
    assert.throws(() => parseDockerfile('RUN x', { file: 'app/Dockerfile.dev' }), { message: 'app/Dockerfile.dev:1: no build stage in current context' });
  });
});
