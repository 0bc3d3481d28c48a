import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type ExitStatus, markTopdir, pipe, spawn, watchExit } from './native.js';

describe('markTopdir', () => {
  it('sets the top-directory flag that lsattr shows as T, and refuses what is not a directory', async () => {
    const dir = await mkdtemp('/var/tmp/gantry-topdir-');
    try {
      const set = markTopdir(dir);
      const lsattr = spawnSync('lsattr', ['-d', dir], { encoding: 'utf8' });
      // On a file system without inode flags (tmpfs, overlay) the call reports false instead.
      if (set) assert.match(lsattr.stdout.split(' ')[0] ?? '', /T/);
      else assert.notEqual(lsattr.status, 0);
      assert.equal(markTopdir(dir), set, 'setting it again is harmless');
      await writeFile(join(dir, 'f'), '');
      assert.throws(() => markTopdir(join(dir, 'f')), { code: 'ENOTDIR' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Runs `script` with /bin/sh through native.spawn, stdout and stderr piped: what it wrote and how it ended. */
async function sh(script: string, o: { env?: string[]; cwd?: string; extra?: number[] } = {}) {
  const [outR, outW] = pipe();
  const [errR, errW] = pipe();
  let pid: number;
  try {
    pid = spawn('/bin/sh', { argv: ['sh', '-c', script], env: o.env ?? null, cwd: o.cwd ?? null, fds: [-1, outW, errW, ...(o.extra ?? [])], setsid: false });
  } finally {
    closeSync(outW);
    closeSync(errW);
  }
  const status = new Promise<ExitStatus>((resolve) => watchExit(pid, resolve));
  const drain = (fd: number) => new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    new Socket({ fd, readable: true, writable: false })
      .on('data', (b: Buffer) => chunks.push(b))
      .on('error', reject)
      .on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
  const [exit, stdout, stderr] = await Promise.all([status, drain(outR), drain(errR)]);
  return { ...exit, stdout, stderr, pid };
}

describe('spawn and watchExit', () => {
  it('pipes stdout and stderr and reports exit codes', async () => {
    const ok = await sh('echo out; echo err >&2');
    assert.deepEqual([ok.code, ok.signal, ok.stdout, ok.stderr], [0, null, 'out\n', 'err\n']);
    const three = await sh('exit 3');
    assert.deepEqual([three.code, three.signal], [3, null]);
  });

  it('reports a death by signal with its name', async () => {
    const r = await sh('kill -9 $$');
    assert.deepEqual([r.code, r.signal], [null, 'SIGKILL']);
  });

  it('throws ENOENT for a missing program, and for a missing working directory', () => {
    const fds = [-1, -1, -1];
    assert.throws(() => spawn('/nonexistent/program', { argv: ['x'], env: null, cwd: null, fds, setsid: false }), {
      code: 'ENOENT', syscall: 'posix_spawn', path: '/nonexistent/program',
    });
    assert.throws(() => spawn('/bin/true', { argv: ['true'], env: null, cwd: '/nonexistent', fds, setsid: false }), { code: 'ENOENT' });
  });

  it('honours cwd and env (and only the given env)', async () => {
    const r = await sh('pwd; echo "$FOO"; echo "${HOME-unset}"', { cwd: '/usr/lib', env: ['FOO=bar baz'] });
    assert.equal(r.stdout, '/usr/lib\nbar baz\nunset\n');
  });

  it('inherits this process environment when env is null', async () => {
    process.env.GANTRY_SPAWN_TEST = 'inherited';
    try {
      assert.equal((await sh('echo "$GANTRY_SPAWN_TEST"')).stdout, 'inherited\n');
    } finally {
      delete process.env.GANTRY_SPAWN_TEST;
    }
  });

  it('closes every descriptor beyond the mapped ones, and maps extra ones (also inheritable ones)', async () => {
    const [r, w] = pipe();
    const leaky = openSync('/dev/null', 'r'); // no O_CLOEXEC: child_process would leak it
    try {
      // fds 0-2 and the extra fd 3; the shell's own ls opens one more for the directory.
      const res = await sh('ls /proc/self/fd; echo hi >&3', { extra: [w] });
      closeSync(w);
      const listed = res.stdout.trim().split('\n').map(Number);
      assert.deepEqual(listed.filter((fd) => fd !== Math.max(...listed)), [0, 1, 2, 3], `child saw fds ${listed.join(' ')}`);
      assert.ok(!listed.includes(leaky) || leaky <= 3);
      const buf = Buffer.alloc(16);
      assert.equal(buf.subarray(0, readSync(r, buf)).toString(), 'hi\n');
    } finally {
      closeSync(r);
      closeSync(leaky);
    }
  });

  it('maps descriptors onto each other (a swap) without one clobbering the other', async () => {
    const [aR, aW] = pipe();
    const [bR, bW] = pipe();
    try {
      // Child fd aW is our bW and child fd bW is our aW: done in place, the first dup2 would
      // overwrite the source of the second.
      const fds = new Array<number>(Math.max(aW, bW) + 1).fill(-1);
      fds[aW] = bW;
      fds[bW] = aW;
      const pid = spawn('/bin/bash', { argv: ['bash', '-c', `echo to-b >&${aW}; echo to-a >&${bW}`], env: null, cwd: null, fds, setsid: false });
      closeSync(aW);
      closeSync(bW);
      const status = await new Promise<ExitStatus>((resolve) => watchExit(pid, resolve));
      assert.equal(status.code, 0);
      const buf = Buffer.alloc(64);
      assert.equal(buf.subarray(0, readSync(aR, buf)).toString(), 'to-a\n');
      assert.equal(buf.subarray(0, readSync(bR, buf)).toString(), 'to-b\n');
    } finally {
      closeSync(aR);
      closeSync(bR);
    }
  });

  it('starts the child with SIGPIPE at its default action and an empty signal mask', async () => {
    const r = await sh('grep -E "^(SigIgn|SigBlk)" /proc/self/status');
    const mask = (name: string) => BigInt(`0x${new RegExp(`${name}:\\s*([0-9a-f]+)`).exec(r.stdout)?.[1] ?? 'ff'}`);
    assert.equal(mask('SigBlk'), 0n);
    // No standard signal (1-31) is ignored. glibc's posix_spawn leaves its own two internal
    // real-time signals (32, 33) ignored; the new program's libc handles them itself.
    assert.equal(mask('SigIgn') & 0x7fffffffn, 0n, r.stdout);
    // In a pipeline whose reader went away the writer dies of SIGPIPE (exit 141 in bash).
    const p = await sh('exec bash -c \'yes | head -c 1 >/dev/null; echo "${PIPESTATUS[0]}"\'');
    assert.equal(p.stdout, '141\n');
  });

  it('starts a new session with setsid', async () => {
    const [outR, outW] = pipe();
    const pid = spawn('/bin/sh', { argv: ['sh', '-c', 'ps -o sid= -p $$'], env: null, cwd: null, fds: [-1, outW, -1], setsid: true });
    closeSync(outW);
    await new Promise<ExitStatus>((resolve) => watchExit(pid, resolve));
    const buf = Buffer.alloc(64);
    assert.equal(Number(buf.subarray(0, readSync(outR, buf)).toString().trim()), pid);
    closeSync(outR);
  });

  it('leaves no zombie', async () => {
    const r = await sh('true');
    assert.throws(() => readFileSync(`/proc/${r.pid}/stat`), { code: 'ENOENT' });
  });
});
