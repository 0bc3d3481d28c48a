import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { openAccountStore } from '../../registry/auth/account-store.js';
import type { CliContext } from '../context.js';
import { exitCodeOf, renderError } from '../errors.js';
import { hubDataDir, registerHubAccountCommands } from './hub-accounts.js';

/** Runs `gantry hub ...args` in process with `input` on stdin; returns what it printed. */
async function run(args: string[], input = ''): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const stdin = Readable.from([Buffer.from(input)]) as unknown as NodeJS.ReadStream;
  const ctx = {
    stdout: { write: (s: string) => ((out += s), true) },
    stderr: { write: (s: string) => ((err += s), true) },
    stdin,
    out: (l: string) => void (out += `${l}\n`),
    err: (l: string) => void (err += `${l}\n`),
    fail: (c = 1) => void (ctx.exitCode = c),
    exitCode: 0,
  } as unknown as CliContext;
  const program = new Command('gantry').option('--root <dir>').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerHubAccountCommands(program.command('hub'), () => ctx);
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out, err, code: ctx.exitCode };
  } catch (e) {
    return { out, err: err + renderError(e), code: exitCodeOf(e) };
  }
}

describe('gantry hub user/org/repo', () => {
  let dir: string;
  const data = () => ['--data', dir];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-hub-accounts-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates users with a password from stdin, never from argv', async () => {
    assert.deepEqual(await run(['hub', 'user', 'create', 'alice', '--password-stdin', ...data()], 'alice-pw\n'), { out: 'alice\n', err: '', code: 0 });
    await run(['hub', 'user', 'create', 'bob', '--password-stdin', ...data()], 'bob-pw');
    await run(['hub', 'user', 'create', 'root', '--password-stdin', '--admin', ...data()], 'root-pw\n');
    const store = openAccountStore(dir);
    try {
      assert.equal(await store.verifyCredentials('alice', 'alice-pw'), true, 'the newline is not part of the password');
      assert.equal(await store.verifyCredentials('bob', 'bob-pw'), true);
      assert.equal(store.user('root')?.admin, true);
    } finally {
      store.close();
    }
    const noTty = await run(['hub', 'user', 'create', 'carol', ...data()]);
    assert.deepEqual([noTty.code, noTty.err], [1, 'Error: Cannot read a password from a non TTY device (hint: pipe it in with --password-stdin)']);
    const empty = await run(['hub', 'user', 'create', 'carol', '--password-stdin', ...data()], '\n');
    assert.deepEqual([empty.code, empty.err], [1, 'Error: Password is required']);
    const argv = await run(['hub', 'user', 'create', 'carol', '--password', 'x', ...data()]);
    assert.equal(argv.code, 1, 'no --password flag');
    const taken = await run(['hub', 'user', 'create', 'alice', '--password-stdin', ...data()], 'x\n');
    assert.deepEqual([taken.code, taken.err], [1, 'Error: the name "alice" is already taken by a user']);
    const bad = await run(['hub', 'user', 'create', 'Bad_Name', '--password-stdin', ...data()], 'x\n');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^Error: invalid user name "Bad_Name" \(hint: /);
  });

  it('lists users', async () => {
    const ls = await run(['hub', 'user', 'ls', ...data()]);
    assert.match(ls.out, /^NAME\s+ADMIN\s+CREATED AT\nalice\s+false\s+\d{4}-.*\nbob\s+false\s+.*\nroot\s+true\s+.*\n$/);
    assert.equal((await run(['hub', 'user', 'ls', '-q', ...data()])).out, 'alice\nbob\nroot\n');
  });

  it('changes passwords', async () => {
    assert.equal((await run(['hub', 'user', 'passwd', 'bob', '--password-stdin', ...data()], 'bob-new\n')).code, 0);
    const store = openAccountStore(dir);
    try {
      assert.equal(await store.verifyCredentials('bob', 'bob-new'), true);
    } finally {
      store.close();
    }
    const missing = await run(['hub', 'user', 'passwd', 'nobody', '--password-stdin', ...data()], 'x\n');
    assert.deepEqual([missing.code, missing.err], [1, 'Error: no such user: nobody']);
  });

  it('makes organisations and manages members', async () => {
    assert.equal((await run(['hub', 'org', 'create', 'acme', '--owner', 'alice', ...data()])).out, 'acme\n');
    assert.equal((await run(['hub', 'org', 'add-member', 'acme', 'bob', '--pull-only', ...data()])).code, 0);
    assert.equal((await run(['hub', 'org', 'add-member', 'acme', 'root', '--role', 'owner', ...data()])).code, 0);
    assert.equal((await run(['hub', 'org', 'ls', ...data()])).out.replace(/ +/g, ' '), 'NAME MEMBERS\nacme alice(owner),bob(pull),root(owner)\n');
    const role = await run(['hub', 'org', 'add-member', 'acme', 'bob', '--role', 'boss', ...data()]);
    assert.deepEqual([role.code, role.err], [125, 'Error: invalid argument "boss" for "--role" flag: must be "member" or "owner"']);
    const noOwner = await run(['hub', 'org', 'create', 'other', ...data()]);
    assert.equal(noOwner.code, 1);
    const ghost = await run(['hub', 'org', 'create', 'other', '--owner', 'ghost', ...data()]);
    assert.deepEqual([ghost.code, ghost.err], [1, 'Error: no such user: ghost']);
    assert.equal((await run(['hub', 'org', 'remove-member', 'acme', 'root', ...data()])).code, 0);
    const last = await run(['hub', 'org', 'remove-member', 'acme', 'alice', ...data()]);
    assert.equal(last.code, 1);
    assert.match(last.err, /^Error: user "alice" is the last owner of organization "acme" \(hint: /);
    const store = openAccountStore(dir);
    try {
      assert.deepEqual([...store.permissions('bob', 'acme/app')], ['pull']);
    } finally {
      store.close();
    }
  });

  it('sets repository visibility', async () => {
    assert.equal((await run(['hub', 'repo', 'visibility', 'alice/secret', 'private', ...data()])).code, 0);
    const store = openAccountStore(dir);
    try {
      assert.equal(store.visibility('alice/secret'), 'private');
    } finally {
      store.close();
    }
    const bad = await run(['hub', 'repo', 'visibility', 'alice/secret', 'hidden', ...data()]);
    assert.deepEqual([bad.code, bad.err], [1, 'Error: invalid visibility "hidden": must be "public" or "private"']);
    const name = await run(['hub', 'repo', 'visibility', '../etc', 'public', ...data()]);
    assert.equal(name.code, 1);
    assert.match(name.err, /^Error: invalid repository name "..\/etc"/);
  });

  it('removes users and organisations, each name reported', async () => {
    const r = await run(['hub', 'user', 'rm', 'bob', 'nobody', 'alice', ...data()]);
    assert.equal(r.out, 'bob\n');
    assert.equal(r.code, 1);
    assert.match(r.err, /^Error: no such user: nobody\nError: user "alice" is the last owner of organization "acme"\n$/);
    assert.deepEqual(await run(['hub', 'org', 'rm', 'acme', ...data()]), { out: 'acme\n', err: '', code: 0 });
    assert.equal((await run(['hub', 'user', 'rm', 'alice', ...data()])).out, 'alice\n');
  });

  it('defaults the data directory to hub/ under the state root', () => {
    const program = new Command('gantry').option('--root <dir>');
    const leaf = program.command('hub').command('user').command('ls');
    program.setOptionValue('root', '/srv/gantry');
    assert.equal(hubDataDir(leaf, undefined), '/srv/gantry/hub');
    assert.equal(hubDataDir(leaf, '/data'), '/data');
  });
});
