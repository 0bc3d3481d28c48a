import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { isGantryError } from '../core/errors.js';
import { parsePsOutput, top } from './top.js';

/** Runs `fn` with the pid of a `sleep 30` child, killed afterwards. */
async function withChild(fn: (pid: number) => Promise<void>): Promise<void> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  try {
    await once(child, 'spawn');
    await fn(child.pid as number);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

const isInvalid = (message: string) => (err: unknown) => isGantryError(err, 'INVALID_ARGUMENT') && err.message === message;

describe('top', () => {
  it('lists only the given processes, the command keeping its spaces (ps -ef)', async () => {
    await withChild(async (pid) => {
      const res = await top([process.pid, pid], []);
      assert.deepEqual(res.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
      assert.equal(res.Processes.length, 2);
      const child = res.Processes.find((p) => p[1] === String(pid));
      assert.ok(child, JSON.stringify(res.Processes));
      assert.equal(child.length, 8);
      assert.equal(child[2], String(process.pid), 'PPID');
      assert.equal(child[7], 'sleep 30');
      assert.ok(res.Processes.some((p) => p[1] === String(process.pid)));
    });
  });

  it('takes other ps formats, joined and split at spaces as Docker does', async () => {
    await withChild(async (pid) => {
      const res = await top([pid], ['-o pid,comm']);
      assert.deepEqual(res, { Titles: ['PID', 'COMMAND'], Processes: [[String(pid), 'sleep']] });
      const aux = await top([pid], ['aux']);
      assert.equal(aux.Titles[1], 'PID');
      assert.equal(aux.Titles.at(-1), 'COMMAND');
      assert.equal(aux.Processes.length, 1);
      assert.equal(aux.Processes[0]?.at(-1), 'sleep 30');
    });
  });

  it('falls back to filtering all processes when ps refuses -q with the options', async () => {
    await withChild(async (pid) => {
      const res = await top([pid], ['-ef', 'f']);
      assert.equal(res.Processes.length, 1);
      assert.equal(res.Processes[0]?.[1], String(pid));
      assert.match(res.Processes[0]?.at(-1) ?? '', /sleep 30$/);
    });
  });

  it('keeps the thread rows of a kept process', async () => {
    const res = await top([process.pid], ['-m', '-o', 'pid,tid,comm']);
    assert.deepEqual(res.Titles, ['PID', 'TID', 'COMMAND']);
    assert.deepEqual(res.Processes[0]?.slice(0, 2), [String(process.pid), '-']);
    const threads = res.Processes.slice(1);
    assert.ok(threads.length >= 2, 'node runs several threads');
    assert.ok(threads.every((t) => t[0] === '-'));
    assert.ok(threads.some((t) => t[1] === String(process.pid)), 'the main thread has the pid as its TID');
  });

  it("rejects formats as Docker does, with Docker's messages", async () => {
    await assert.rejects(top([process.pid], ['-o', 'comm']), isInvalid("Couldn't find PID field in ps output"));
    await assert.rejects(top([process.pid], ['-o', 'user=PID']), isInvalid('specifying "user=PID" is not allowed'));
    await assert.rejects(top([process.pid], ['--no-such-option']), isInvalid('ps: error: unknown gnu long option'));
    const ok = await top([process.pid], ['-o', 'pid=PID,comm']);
    assert.deepEqual(ok.Titles, ['PID', 'COMMAND']);
  });

  it('lists nothing for no processes', async () => {
    const res = await top([], ['-ef']);
    assert.equal(res.Titles[1], 'PID');
    assert.deepEqual(res.Processes, []);
  });
});

describe('parsePsOutput', () => {
  it('splits rows into the titles, merging the overhanging command', () => {
    const out = 'UID PID CMD\nroot 7 /bin/sh -c  echo hi\nroot 8 other\n\n';
    assert.deepEqual(parsePsOutput(out, new Set([7])), { Titles: ['UID', 'PID', 'CMD'], Processes: [['root', '7', '/bin/sh -c echo hi']] });
    assert.throws(() => parsePsOutput('UID PID\nroot x\n', new Set([1])), (err: unknown) => isGantryError(err, 'INTERNAL'));
  });
});
