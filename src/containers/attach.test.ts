import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { AttachSession } from './attach.js';

/**
 * conmon's side of an attach socket, as far as this test needs it: accepts one client, waits
 * until the client's input is queued (without reading it), sends output tagged as stdout and
 * then stderr, and closes with the input still unread.
 */
const FAKE_CONMON = String.raw`
import os, socket, sys
path = os.path.join(sys.argv[1], "attach")
srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
srv.bind(path)
srv.listen(1)
print("ready", flush=True)
conn, _ = srv.accept()
conn.recv(1, socket.MSG_PEEK)
conn.send(b"\x02out\n")
conn.send(b"\x03err\n")
conn.close()
srv.close()
`;

describe('AttachSession', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-attach-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('relays the output queued when conmon closes with input of ours unread (ECONNRESET first)', async () => {
    const server = spawn('python3', ['-c', FAKE_CONMON, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => server.on('exit', resolve));
    // python3 comes with the set-up (node-gyp needs it): missing, it is a failure, not a skip.
    const started = await new Promise<boolean>((resolve) => {
      server.on('error', () => resolve(false));
      server.stdout.once('data', () => resolve(true));
    });
    assert.ok(started && existsSync(join(dir, 'attach')), 'the fake conmon (python3) did not start');
    const session = AttachSession.connect(dir);
    // Input the server never reads, written before the relay starts, so that the server has
    // closed (and the kernel queued the reset ahead of the output) by the relay's first read.
    writeSync(Reflect.get(session, 'fd') as number, Buffer.from('typed'));
    await exited;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (b: Buffer) => out.push(b));
    stderr.on('data', (b: Buffer) => err.push(b));
    await session.pump({ stdout, stderr });
    assert.equal(Buffer.concat(out).toString(), 'out\n');
    assert.equal(Buffer.concat(err).toString(), 'err\n');
  });
});
