import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDockerfile } from './dockerfile.js';
import { expandInstruction } from './expansion.js';
import type { Instruction } from './instructions.js';

const env = { APP: '/srv/app', PORTS: '80 443/tcp', NAME: 'web', USER_ID: '1000', SIZE: '1m' };

function expanded(text: string, escape = ''): Instruction {
  const df = parseDockerfile(`${escape}FROM scratch\n${text}`);
  return expandInstruction(df.stages[0]?.instructions[0] as Instruction, env, { escapeToken: df.escapeToken });
}

describe('expandInstruction', () => {
  it('expands ENV and LABEL keys and values as one word each', () => {
    assert.deepEqual((expanded('ENV DIR=$APP/bin "K $NAME"="v w"') as { env: unknown }).env, [
      { key: 'DIR', value: '/srv/app/bin' },
      { key: 'K web', value: 'v w' },
    ]);
    assert.deepEqual((expanded('LABEL org.name="${NAME:-x}"') as { labels: unknown }).labels, [{ key: 'org.name', value: 'web' }]);
  });
  it('expands WORKDIR, USER, STOPSIGNAL, VOLUME and ARG defaults', () => {
    assert.equal((expanded('WORKDIR ${APP}/data') as { path: string }).path, '/srv/app/data');
    assert.equal((expanded('USER $USER_ID:$USER_ID') as { user: string }).user, '1000:1000');
    assert.equal((expanded('STOPSIGNAL ${SIG:-SIGTERM}') as { signal: string }).signal, 'SIGTERM');
    assert.deepEqual((expanded('VOLUME $APP/a "$APP/b"') as { volumes: string[] }).volumes, ['/srv/app/a', '/srv/app/b']);
    assert.deepEqual((expanded('ARG X=$APP Y') as { args: unknown }).args, [{ key: 'X', value: '/srv/app' }, { key: 'Y' }]);
  });
  it('splits EXPOSE arguments into words', () => {
    assert.deepEqual((expanded('EXPOSE $PORTS 53/udp') as { ports: string[] }).ports, ['80', '443/tcp', '53/udp']);
  });
  it('expands COPY sources, destination and ownership, and unquoted here-documents raw', () => {
    const c = expanded('COPY --chown=$USER_ID <<EOF <<"RAW" $NAME.conf $APP/\n"$NAME"\nEOF\n$NAME\nRAW') as Extract<Instruction, { kind: 'COPY' }>;
    assert.deepEqual([c.sources, c.dest, c.chown], [['web.conf'], '/srv/app/', '1000']);
    assert.deepEqual(c.contents.map((x) => x.data), ['"web"\n', '$NAME\n']);
  });
  it('expands RUN --mount values but never the command', () => {
    const r = expanded('RUN --mount=type=tmpfs,target=$APP,size=$SIZE echo $APP') as Extract<Instruction, { kind: 'RUN' }>;
    assert.deepEqual(r.mounts, [{ type: 'tmpfs', target: '/srv/app', size: 1048576, readOnly: false, required: false }]);
    assert.deepEqual(r.command.args, ['echo $APP']);
  });
  it('leaves CMD, ENTRYPOINT, SHELL and HEALTHCHECK alone', () => {
    for (const line of ['CMD echo $APP', 'ENTRYPOINT ["$APP"]', 'SHELL ["$APP"]', 'HEALTHCHECK CMD $APP']) {
      const before = parseDockerfile(`FROM scratch\n${line}`).stages[0]?.instructions[0] as Instruction;
      assert.deepEqual(expandInstruction(before, env), before);
    }
  });
  it('uses the Dockerfile escape token', () => {
    assert.equal((expanded('WORKDIR C:\\app`$NAME', '# escape=`\n') as { path: string }).path, 'C:\\app$NAME');
  });
});
