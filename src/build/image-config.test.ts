import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ImageConfig } from '../core/oci.js';
import { parseDockerfile } from './dockerfile/dockerfile.js';
import { expandInstruction } from './dockerfile/expansion.js';
import type { Instruction, RunInstruction } from './dockerfile/instructions.js';
import {
  addHistory,
  applyMetadata,
  commandArgs,
  copyHistoryText,
  DEFAULT_PATH,
  resolveWorkdir,
  runHistoryText,
  scratchConfig,
  setEnv,
  stageBaseConfig,
} from './image-config.js';

const first = (text: string): Instruction =>
  expandInstruction(parseDockerfile(`FROM scratch\n${text}\n`).stages[0]?.instructions[0] as Instruction, {});
const fresh = (): ImageConfig => scratchConfig({ architecture: 'amd64', os: 'linux' });
const apply = (config: ImageConfig, text: string, cmdSet = false) => applyMetadata(config, first(text), { cmdSet, where: 'Dockerfile:2' });

describe('image config of a build', () => {
  it('starts scratch with the default PATH and adds one to a base without', () => {
    assert.deepEqual(fresh().config?.Env, [DEFAULT_PATH]);
    const { config, onBuild } = stageBaseConfig({ ...fresh(), config: { Env: ['A=1'], OnBuild: ['RUN x'] } });
    assert.deepEqual(config.config?.Env, ['A=1', DEFAULT_PATH]);
    assert.deepEqual(onBuild, ['RUN x']);
    assert.equal(config.config?.OnBuild, undefined, 'triggers run in the child and are not inherited');
  });

  it('ENV replaces a variable in place and LABEL merges', () => {
    assert.deepEqual(setEnv(['A=1', 'B=2', 'C=3'], 'B', 'x'), ['A=1', 'B=x', 'C=3']);
    const c = fresh();
    assert.equal(apply(c, 'ENV A=1 B="two words"'), 'ENV A=1 B=two words');
    assert.deepEqual(c.config?.Env, [DEFAULT_PATH, 'A=1', 'B=two words']);
    apply(c, 'LABEL a=1');
    apply(c, 'LABEL b=2 a=3');
    assert.deepEqual(c.config?.Labels, { a: '3', b: '2' });
  });

  it('CMD and ENTRYPOINT: shell form under SHELL, ENTRYPOINT resets an inherited CMD', () => {
    const c = fresh();
    assert.equal(apply(c, 'CMD echo hi'), 'CMD ["/bin/sh" "-c" "echo hi"]');
    assert.deepEqual(c.config?.Cmd, ['/bin/sh', '-c', 'echo hi']);
    apply(c, 'ENTRYPOINT ["/app"]');
    assert.equal(c.config?.Cmd, null, 'an ENTRYPOINT after an inherited CMD clears it');
    apply(c, 'CMD ["a"]');
    apply(c, 'ENTRYPOINT ["/b"]', true);
    assert.deepEqual(c.config?.Cmd, ['a'], 'a CMD of this stage stays');
    apply(c, 'SHELL ["/bin/bash", "-eu", "-c"]');
    apply(c, 'CMD run');
    assert.deepEqual(c.config?.Cmd, ['/bin/bash', '-eu', '-c', 'run']);
  });

  it('EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, HEALTHCHECK, ONBUILD, MAINTAINER', () => {
    const c = fresh();
    assert.equal(apply(c, 'EXPOSE 80 53/udp 8000-8001'), 'EXPOSE map[53/udp:{} 80/tcp:{} 8000/tcp:{} 8001/tcp:{}]');
    assert.deepEqual(Object.keys(c.config?.ExposedPorts ?? {}).sort(), ['53/udp', '80/tcp', '8000/tcp', '8001/tcp']);
    assert.throws(() => apply(c, 'EXPOSE 80/xyz'), /Dockerfile:2: invalid containerPort: 80\/xyz/);
    apply(c, 'VOLUME ["/a", "/b"]');
    assert.deepEqual(c.config?.Volumes, { '/a': {}, '/b': {} });
    apply(c, 'USER app:staff');
    assert.equal(c.config?.User, 'app:staff');
    apply(c, 'WORKDIR /srv');
    apply(c, 'WORKDIR app/../api');
    assert.equal(c.config?.WorkingDir, '/srv/api');
    apply(c, 'STOPSIGNAL SIGQUIT');
    assert.equal(c.config?.StopSignal, 'SIGQUIT');
    apply(c, 'HEALTHCHECK --interval=30s --retries=2 CMD true');
    assert.deepEqual(c.config?.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 30e9, Retries: 2 });
    apply(c, 'HEALTHCHECK NONE');
    assert.deepEqual(c.config?.Healthcheck, { Test: ['NONE'] });
    apply(c, 'ONBUILD RUN make');
    assert.deepEqual(c.config?.OnBuild, ['RUN make']);
    apply(c, 'MAINTAINER someone');
    assert.equal(c.author, 'someone');
  });

  it('resolves WORKDIR against the previous one', () => {
    assert.equal(resolveWorkdir(undefined, 'a'), '/a');
    assert.equal(resolveWorkdir('/x/y', '../z/.'), '/x/z');
    assert.equal(resolveWorkdir('/x', '/abs'), '/abs');
  });

  it('turns RUN into argv: exec form as is, shell form and here-documents under the shell', () => {
    const run = (t: string) => (first(t) as RunInstruction).command;
    assert.deepEqual(commandArgs(run('RUN ["echo", "a b"]'), undefined), ['echo', 'a b']);
    assert.deepEqual(commandArgs(run('RUN echo $HOME'), ['/bin/ash', '-c']), ['/bin/ash', '-c', 'echo $HOME']);
    const doc = parseDockerfile('FROM scratch\nRUN <<EOF\necho one\necho two\nEOF\n').stages[0]?.instructions[0] as RunInstruction;
    assert.deepEqual(commandArgs(doc.command, undefined), ['/bin/sh', '-c', 'echo one\necho two\n']);
    const stdin = parseDockerfile('FROM scratch\nRUN cat <<EOF > /f\nline\nEOF\n').stages[0]?.instructions[0] as RunInstruction;
    assert.deepEqual(commandArgs(stdin.command, undefined), ['/bin/sh', '-c', 'cat <<EOF > /f\nline\nEOF']);
  });

  it('writes history as BuildKit does', () => {
    assert.equal(runHistoryText(['/bin/sh', '-c', 'make'], ['V=1']), 'RUN |1 V=1 /bin/sh -c make # buildkit');
    assert.equal(runHistoryText(['make'], []), 'RUN make # buildkit');
    const copy = first('COPY --from=build --chown=1:2 /out /app') as Parameters<typeof copyHistoryText>[0];
    assert.equal(copyHistoryText(copy), 'COPY --from=build --chown=1:2 /out /app # buildkit');
    const c = fresh();
    addHistory(c, 'ENV A=1', '2026-01-02T03:04:05Z', true);
    assert.deepEqual(c.history, [{ created: '2026-01-02T03:04:05Z', created_by: 'ENV A=1', comment: 'buildkit.dockerfile.v0', empty_layer: true }]);
    assert.equal(c.created, '2026-01-02T03:04:05Z');
  });
});
