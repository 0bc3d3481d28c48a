import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isGantryError } from '../../core/errors.js';
import { type AccountStore, openAccountStore } from './account-store.js';

const FAST = { ln: 10, r: 8, p: 1 };
const sorted = (s: Set<string>) => [...s].sort();

describe('account store', () => {
  let dir: string;
  let store: AccountStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-accounts-'));
    store = openAccountStore(dir, { scrypt: FAST });
    await store.createUser('alice', 'alice-pw');
    await store.createUser('bob', 'bob-pw');
    await store.createUser('carol', 'carol-pw');
    await store.createUser('root', 'root-pw', { admin: true });
  });
  after(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps users with hashed passwords only', async () => {
    assert.deepEqual(store.users().map((u) => [u.name, u.admin]), [['alice', false], ['bob', false], ['carol', false], ['root', true]]);
    assert.equal(await store.verifyCredentials('alice', 'alice-pw'), true);
    assert.equal(await store.verifyCredentials('alice', 'bob-pw'), false);
    assert.equal(await store.verifyCredentials('nobody', 'alice-pw'), false);
    const db = await readFile(join(dir, 'accounts.db'));
    const wal = await readFile(join(dir, 'accounts.db-wal')).catch(() => Buffer.alloc(0));
    assert.ok(!Buffer.concat([db, wal]).includes('alice-pw'), 'no plain password on disk');
  });

  it('validates names and refuses taken ones, users and organisations alike', async () => {
    for (const bad of ['Alice', 'a/b', '../x', '-a', 'a--', 'a_b', 'a.b', '', 'x'.repeat(65)]) {
      await assert.rejects(store.createUser(bad, 'pw'), (e) => isGantryError(e, 'INVALID_ARGUMENT'), bad);
    }
    await assert.rejects(store.createUser('alice', 'pw'), (e) => isGantryError(e, 'CONFLICT'));
    store.createOrganization('acme', 'alice');
    assert.throws(() => store.createOrganization('bob', 'alice'), (e) => isGantryError(e, 'CONFLICT'));
    await assert.rejects(store.createUser('acme', 'pw'), (e) => isGantryError(e, 'CONFLICT'));
    assert.throws(() => store.createOrganization('ghost-org', 'ghost'), (e) => isGantryError(e, 'NOT_FOUND'));
    assert.equal(store.organization('ghost-org'), undefined, 'nothing half-made');
    assert.equal(await store.verifyCredentials('acme', ''), false, 'an organisation cannot log in');
  });

  it('grants by namespace, role and visibility', () => {
    store.addMember('acme', 'bob'); // member with push
    store.addMember('acme', 'carol', { push: false });
    // Own namespace.
    assert.deepEqual(sorted(store.permissions('alice', 'alice/web')), ['delete', 'pull', 'push']);
    assert.deepEqual(sorted(store.permissions('alice', 'alice/deep/name')), ['delete', 'pull', 'push']);
    // Someone else's public repository; anonymous.
    assert.deepEqual(sorted(store.permissions('bob', 'alice/web')), ['pull']);
    assert.deepEqual(sorted(store.permissions(undefined, 'alice/web')), ['pull']);
    // Organisation roles.
    assert.deepEqual(sorted(store.permissions('alice', 'acme/app')), ['delete', 'pull', 'push']);
    assert.deepEqual(sorted(store.permissions('bob', 'acme/app')), ['pull', 'push']);
    assert.deepEqual(sorted(store.permissions('carol', 'acme/app')), ['pull']);
    // A top-level name and a namespace nobody owns: pull only, admins anything.
    assert.deepEqual(sorted(store.permissions('alice', 'busybox')), ['pull']);
    assert.deepEqual(sorted(store.permissions('alice', 'alicex/web')), ['pull']);
    assert.deepEqual(sorted(store.permissions('root', 'busybox')), ['delete', 'pull', 'push']);
    // An account that does not exist is anonymous.
    assert.deepEqual(sorted(store.permissions('ghost', 'ghost/x')), ['pull']);
  });

  it('hides private repositories from everyone but their namespace', () => {
    store.setVisibility('alice/secret', 'private');
    store.setVisibility('acme/internal', 'private');
    assert.equal(store.visibility('alice/secret'), 'private');
    assert.equal(store.visibility('alice/web'), 'public');
    assert.deepEqual(sorted(store.permissions(undefined, 'alice/secret')), []);
    assert.deepEqual(sorted(store.permissions('bob', 'alice/secret')), []);
    assert.deepEqual(sorted(store.permissions('alice', 'alice/secret')), ['delete', 'pull', 'push']);
    assert.deepEqual(sorted(store.permissions('carol', 'acme/internal')), ['pull'], 'a pull-only member still sees it');
    assert.deepEqual(sorted(store.permissions(undefined, 'acme/internal')), []);
    assert.deepEqual(sorted(store.permissions('root', 'alice/secret')), ['delete', 'pull', 'push']);
    assert.throws(() => store.setVisibility('../x', 'public'), (e) => isGantryError(e, 'INVALID_ARGUMENT'));
    assert.throws(() => store.setVisibility('a/b', 'hidden' as 'public'), (e) => isGantryError(e, 'INVALID_ARGUMENT'));
    store.setVisibility('alice/secret', 'public');
    assert.deepEqual(sorted(store.permissions(undefined, 'alice/secret')), ['pull']);
    store.setVisibility('alice/secret', 'private');
  });

  it('lets only admins list the catalog', () => {
    assert.equal(store.canListCatalog('root'), true);
    assert.equal(store.canListCatalog('alice'), false);
    assert.equal(store.canListCatalog(undefined), false);
  });

  it('keeps an organisation owned: the last owner can be neither removed, demoted nor deleted', async () => {
    assert.throws(() => store.removeMember('acme', 'alice'), (e) => isGantryError(e, 'CONFLICT'));
    assert.throws(() => store.addMember('acme', 'alice', { role: 'member' }), (e) => isGantryError(e, 'CONFLICT'));
    assert.throws(() => store.deleteUser('alice'), (e) => isGantryError(e, 'CONFLICT'));
    assert.throws(() => store.addMember('acme', 'bob', { role: 'owner', push: false }), (e) => isGantryError(e, 'INVALID_ARGUMENT'));
    store.addMember('acme', 'bob', { role: 'owner' });
    assert.deepEqual(sorted(store.permissions('bob', 'acme/app')), ['delete', 'pull', 'push']);
    store.addMember('acme', 'bob', { role: 'member' });
    assert.deepEqual(store.organization('acme')?.members, [
      { user: 'alice', role: 'owner', push: true },
      { user: 'bob', role: 'member', push: true },
      { user: 'carol', role: 'member', push: false },
    ]);
    store.removeMember('acme', 'carol');
    assert.deepEqual(sorted(store.permissions('carol', 'acme/app')), ['pull']);
    assert.deepEqual(sorted(store.permissions('carol', 'acme/internal')), []);
    assert.throws(() => store.removeMember('acme', 'carol'), (e) => isGantryError(e, 'NOT_FOUND'));
    assert.throws(() => store.addMember('acme', 'acme'), (e) => isGantryError(e, 'NOT_FOUND'), 'an organisation is not a user');
    assert.throws(() => store.addMember('alice', 'bob'), (e) => isGantryError(e, 'NOT_FOUND'), 'a user is not an organisation');
  });

  it('issues refresh tokens it keeps only hashed, revoked by a new password and by deletion', async () => {
    const t = store.issueRefreshToken('bob', 'hub', 'docker', 3600);
    assert.deepEqual(store.redeemRefreshToken(t), { user: 'bob', service: 'hub' });
    assert.equal(store.redeemRefreshToken(`${t}x`), undefined);
    const db = await readFile(join(dir, 'accounts.db'));
    const wal = await readFile(join(dir, 'accounts.db-wal')).catch(() => Buffer.alloc(0));
    assert.ok(!Buffer.concat([db, wal]).includes(t), 'the token itself is not stored');
    await store.setPassword('bob', 'bob-new');
    assert.equal(store.redeemRefreshToken(t), undefined, 'a new password revokes');
    assert.equal(await store.verifyCredentials('bob', 'bob-pw'), false);
    assert.equal(await store.verifyCredentials('bob', 'bob-new'), true);
    const t2 = store.issueRefreshToken('bob', 'hub', 'docker', 3600);
    assert.equal(store.revokeRefreshTokens('bob'), 1);
    assert.equal(store.redeemRefreshToken(t2), undefined);
    const t3 = store.issueRefreshToken('carol', 'hub', 'docker', 3600);
    store.deleteUser('carol');
    assert.equal(store.redeemRefreshToken(t3), undefined, 'deleting the user revokes');
    assert.equal(store.user('carol'), undefined);
    assert.throws(() => store.issueRefreshToken('carol', 'hub', 'docker', 3600), (e) => isGantryError(e, 'NOT_FOUND'));
  });

  it('is shared by two handles on the same file (the hub and the CLI)', async () => {
    const other = openAccountStore(dir, { scrypt: FAST });
    try {
      await other.createUser('dave', 'dave-pw');
      assert.equal(await store.verifyCredentials('dave', 'dave-pw'), true);
      other.setVisibility('dave/x', 'private');
      assert.deepEqual(sorted(store.permissions(undefined, 'dave/x')), []);
    } finally {
      other.close();
    }
  });

  it('rehashes a password made with a lower cost at the next successful login', async () => {
    const stronger = openAccountStore(dir, { scrypt: { ln: 11, r: 8, p: 1 } });
    const raw = new Database(join(dir, 'accounts.db'), { readonly: true });
    const hashOf = (name: string) => raw.prepare('SELECT password_hash FROM accounts WHERE name = ?').pluck().get(name) as string;
    try {
      const before = hashOf('alice');
      assert.match(before, /^\$scrypt\$ln=10,/);
      assert.equal(await stronger.verifyCredentials('alice', 'wrong'), false);
      assert.equal(hashOf('alice'), before, 'not on a failure');
      assert.equal(await stronger.verifyCredentials('alice', 'alice-pw'), true);
      assert.match(hashOf('alice'), /^\$scrypt\$ln=11,/);
      assert.equal(await store.verifyCredentials('alice', 'alice-pw'), true, 'still the same password');
    } finally {
      raw.close();
      stronger.close();
    }
  });

  it('gives repositories never set the configured default visibility', async () => {
    const priv = openAccountStore(dir, { defaultVisibility: 'private' });
    try {
      assert.equal(priv.visibility('alice/web'), 'private');
      assert.deepEqual(sorted(priv.permissions('bob', 'alice/web')), []);
      assert.equal(priv.visibility('alice/secret'), 'private');
    } finally {
      priv.close();
    }
  });
});
