import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { readAll, spawnChild } from './spawn.js';

describe('spawnChild', () => {
  it('pipes stdin, stdout, stderr and an extra fd, and reports the exit', async () => {
    const child = spawnChild('/bin/sh', ['-c', 'read line; echo "got $line"; echo err >&2; echo extra >&3; exit 5'], {
      stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', extraFds: ['pipe'],
    });
    child.stdin?.end('hello\n');
    const [status, out, err, extra] = await Promise.all([
      child.exited, readAll(child.stdout!), readAll(child.stderr!), readAll(child.stdio[3]!),
    ]);
    assert.deepEqual(status, { code: 5, signal: null });
    assert.equal(out.toString(), 'got hello\n');
    assert.equal(err.toString(), 'err\n');
    assert.equal(extra.toString(), 'extra\n');
  });

  it('passes env and cwd', async () => {
    const child = spawnChild('/bin/sh', ['-c', 'echo "$A $B"; pwd'], { env: { A: '1', B: undefined }, cwd: '/etc', stdout: 'pipe' });
    assert.equal((await readAll(child.stdout!)).toString(), '1 \n/etc\n');
    assert.equal((await child.exited).code, 0);
  });

  it('fails like child_process for a missing program', () => {
    assert.throws(() => spawnChild('/nonexistent/runc', ['--version']), {
      message: 'spawn /nonexistent/runc ENOENT', code: 'ENOENT', errno: -2, syscall: 'spawn /nonexistent/runc', path: '/nonexistent/runc',
    });
  });

  it('lets a detached child outlive the parent without holding its event loop', () => {
    // The parent starts `sleep 5` detached and must exit at once; the sleeper is in its own session.
    const script = `import('${new URL('./spawn.js', import.meta.url).href}').then(({ spawnChild }) => {
      const c = spawnChild('/bin/sleep', ['5'], { detached: true });
      console.log(c.pid);
    })`;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Date.now() - t0 < 4000, 'the parent waited for the detached child');
    const pid = Number(r.stdout.trim());
    const sid = spawnSync('ps', ['-o', 'sid=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
    assert.equal(Number(sid), pid);
    process.kill(pid, 'SIGKILL');
  });
});
