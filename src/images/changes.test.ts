import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGantryError } from '../core/errors.js';
import type { ContainerConfig } from '../core/oci.js';
import { applyChanges } from './changes.js';
import { referenceMatch } from './filters.js';

describe('applyChanges (--change)', () => {
  const cases: [string[], ContainerConfig][] = [
    [['CMD ["sh", "-c", "echo hi"]'], { Cmd: ['sh', '-c', 'echo hi'] }],
    [['CMD echo hi'], { Cmd: ['/bin/sh', '-c', 'echo hi'] }],
    [['ENTRYPOINT ["/app"]'], { Entrypoint: ['/app'] }],
    [['ENV A=1 B="two words"', 'ENV A 3'], { Env: ['B=two words', 'A=3'] }],
    [['WORKDIR /srv', 'WORKDIR app'], { WorkingDir: '/srv/app' }],
    [['EXPOSE 80 53/udp'], { ExposedPorts: { '80/tcp': {}, '53/udp': {} } }],
    [['LABEL a=b c="d e"'], { Labels: { a: 'b', c: 'd e' } }],
    [['USER nobody:nogroup', 'STOPSIGNAL SIGINT'], { User: 'nobody:nogroup', StopSignal: 'SIGINT' }],
    [['VOLUME ["/data", "/logs"]'], { Volumes: { '/data': {}, '/logs': {} } }],
  ];
  for (const [changes, want] of cases) {
    it(changes.join(' | '), () => {
      const c: ContainerConfig = {};
      applyChanges(c, changes);
      assert.deepEqual(c, want);
    });
  }
  it('refuses instructions import does not take', () => {
    assert.throws(() => applyChanges({}, ['RUN echo']), (e) => isGantryError(e, 'INVALID_ARGUMENT') && /RUN is not a valid change command/.test(e.message));
    assert.throws(() => applyChanges({}, ['ENV']), /ENV requires at least one argument/);
  });
});

describe('referenceMatch (--filter reference=)', () => {
  const cases: [string, string, boolean][] = [
    ['busybox', 'busybox:latest', true],
    ['busy*', 'busybox:latest', true],
    ['busybox:1.*', 'busybox:1.36', true],
    ['busybox:1.*', 'busybox:latest', false],
    ['*/bb', 'team/bb:v1', true],
    ['*', 'team/bb:v1', false],
    ['localhost:5000/*/bb', 'localhost:5000/team/bb:v1', true],
  ];
  for (const [pattern, name, want] of cases) {
    it(`${pattern} ~ ${name} = ${want}`, () => assert.equal(referenceMatch(pattern, name), want));
  }
});
