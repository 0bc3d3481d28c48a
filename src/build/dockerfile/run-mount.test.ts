import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGoDuration } from './go-duration.js';
import { csvFields, parseMount, ramInBytes, type RunMount } from './run-mount.js';

describe('parseMount (RUN --mount)', () => {
  const ok: [string, RunMount][] = [
    ['target=/src', { type: 'bind', target: '/src', readOnly: true, required: false }],
    ['type=bind,source=/app,target=/app,from=build,rw', { type: 'bind', source: '/app', target: '/app', from: 'build', readOnly: false, required: false }],
    ['type=bind,src=a,dst=b,readwrite=true', { type: 'bind', source: 'a', target: 'b', readOnly: false, required: false }],
    ['type=cache,target=/root/.cache/go-build', { type: 'cache', target: '/root/.cache/go-build', readOnly: false, required: false }],
    ['type=cache,id=apt,sharing=private,destination=/var/cache/apt,mode=0755,uid=1000,gid=1000', { type: 'cache', id: 'apt', sharing: 'private', target: '/var/cache/apt', mode: 0o755, uid: 1000, gid: 1000, readOnly: false, required: false }],
    ['type=cache,target=/x,ro', { type: 'cache', target: '/x', readOnly: true, required: false }],
    ['type=tmpfs,target=/tmp,size=64m', { type: 'tmpfs', target: '/tmp', size: 64 * 1024 * 1024, readOnly: false, required: false }],
    ['type=secret,id=aws,target=/root/.aws/credentials', { type: 'secret', id: 'aws', target: '/root/.aws/credentials', readOnly: true, required: false }],
    ['type=secret,id=KEY,env=API_KEY,required=true', { type: 'secret', id: 'KEY', env: 'API_KEY', readOnly: true, required: true }],
    ['type=ssh,required', { type: 'ssh', readOnly: true, required: true }],
    ['TYPE=CACHE,Target=/x', { type: 'cache', target: '/x', readOnly: false, required: false }],
    ['type=bind,"target=/a,b"', { type: 'bind', target: '/a,b', readOnly: true, required: false }],
    ['type=bind,target=/x,readonly=false', { type: 'bind', target: '/x', readOnly: false, required: false }],
  ];
  for (const [spec, want] of ok) it(spec, () => assert.deepEqual(parseMount(spec), want));

  const bad: [string, string][] = [
    ['type=volume', 'unsupported mount type "volume"'],
    ['type=cache,sharing=lockd', 'unsupported sharing value "lockd" (did you mean locked?)'],
    ['type=bind,sharing=shared', 'invalid cache sharing set for bind mount'],
    ['type=cache,targte=/x', "unexpected key 'targte' in 'targte=/x' (did you mean target?)"],
    ['type=bind,size=1m', "unexpected key 'size' for mount type 'bind'"],
    ['type=bind,required', "unexpected key 'required' for mount type 'bind'"],
    ['type=tmpfs,size=lots', 'invalid value for size: lots'],
    ['type=cache,mode=999', 'invalid value 999 for mode'],
    ['type=cache,uid=-1', 'invalid value -1 for uid'],
    ['type=tmpfs,gid=1', 'gid not allowed for "tmpfs" type mounts'],
    ['type=bind,ro=maybe', 'invalid value for ro: maybe'],
    ['type=bind,nonsense', "invalid field 'nonsense' must be a key=value pair"],
    ['type=secret', 'invalid secret mount. one of source, target required'],
    ['type=secret,id=a,from=b', 'secret mount should not have a from'],
    ['type=secret,id=a,sharing=shared', 'secret mount should not define sharing'],
    ['type=secret,id=a,source=b', "both source and id can't be set"],
    ['type=bind,"target=/x', 'failed to parse csv mounts: parse error on line 1, column 21: extraneous or missing " in quoted-field'],
    ['type=bind,tar"get=/x', 'failed to parse csv mounts: parse error on line 1, column 14: bare " in non-quoted-field'],
  ];
  for (const [spec, message] of bad) it(`${spec}: ${message}`, () => assert.throws(() => parseMount(spec), { message }));

  it('expands values with the given function', () => {
    const env: Record<string, string> = { UID: '42', T: '/cache' };
    assert.deepEqual(parseMount('type=cache,target=$T,uid=$UID', (v) => v.replace(/\$(\w+)/g, (_, n: string) => env[n] ?? '')), {
      type: 'cache', target: '/cache', uid: 42, readOnly: false, required: false,
    });
  });
  it('splits CSV fields', () => {
    assert.deepEqual(csvFields('a,"b,c","d""e",'), ['a', 'b,c', 'd"e', '']);
  });
  it('reads RAM sizes in binary units', () => {
    assert.deepEqual(['1024', '1k', '1KiB', '1.5m', '2g', '1 GB'].map(ramInBytes), [1024, 1024, 1024, 1572864, 2147483648, 1073741824]);
    assert.throws(() => ramInBytes('1x'), /invalid size/);
  });
});

describe('parseGoDuration', () => {
  const cases: [string, number][] = [['0', 0], ['5s', 5e9], ['1m30s', 90e9], ['1.5h', 5400e9], ['300ms', 3e8], ['10us', 1e4], ['2µs', 2e3], ['.5s', 5e8], ['-1s', -1e9], ['1h2m3s4ms', 3723004e6]];
  for (const [input, ns] of cases) it(`${input} = ${ns}ns`, () => assert.equal(parseGoDuration(input), ns));
  for (const [input, message] of [['', 'time: invalid duration ""'], ['5', 'time: missing unit in duration "5"'], ['5d', 'time: unknown unit "d" in duration "5d"'], ['s', 'time: invalid duration "s"']]) {
    it(`${input || '(empty)'}: ${message}`, () => assert.throws(() => parseGoDuration(input as string), { message }));
  }
});
