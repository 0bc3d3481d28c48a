import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isGantryError } from '../core/errors.js';
import { type Db, openDatabase, writeTx } from '../metadata/database.js';
import { naturalCompare } from './volume-filters.js';
import { VolumeService } from './volume-service.js';

const AS_ROOT = process.getuid?.() === 0;

/** Asserts that `fn` throws a GantryError with `code` and exactly `message`. */
function throwsGantry(fn: () => unknown, code: string, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isGantryError(err), `not a GantryError: ${String(err)}`);
    assert.equal(err.code, code);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('VolumeService', () => {
  let dir: string;
  let db: Db;
  let volumes: VolumeService;
  const container = (id: string) =>
    db
      .prepare("INSERT INTO containers (id, name, image_id, created, spec, status) VALUES (?, ?, 'sha256:x', '', '{}', 'created')")
      .run(id, `c-${id.slice(0, 8)}`);
  const names = () => volumes.list().map((v) => v.Name);
  const volumeDirs = () => readdirSync(join(dir, 'volumes')).filter((n) => n !== '.trash');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-volumes-'));
    db = openDatabase(join(dir, 'gantry.db'));
    volumes = new VolumeService({ db, root: dir });
  });
  after(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a named volume with its directory, and returns it again for the same name', () => {
    const v = volumes.create('data', { labels: { team: 'infra' } });
    assert.deepEqual(Object.keys(v), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.equal(v.Name, 'data');
    assert.equal(v.Driver, 'local');
    assert.equal(v.Scope, 'local');
    assert.deepEqual(v.Labels, { team: 'infra' });
    assert.deepEqual(v.Options, {});
    assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(v.Mountpoint, join(dir, 'volumes', 'data', '_data'));
    assert.equal(statSync(v.Mountpoint).mode & 0o7777, 0o755);
    assert.deepEqual(readdirSync(v.Mountpoint), []);
    // Idempotent, as Docker: the other options are ignored for an existing name.
    const again = volumes.create('data', { labels: { other: 'x' }, options: { bogus: '1' } });
    assert.deepEqual(again, v);
    assert.deepEqual(volumes.inspect('data'), v);
    assert.equal(volumes.mountpoint('data'), v.Mountpoint);
  });

  it('creates anonymous volumes with a random name and Docker\'s anonymous label', () => {
    const a = volumes.create();
    assert.match(a.Name, /^[a-f0-9]{64}$/);
    assert.deepEqual(a.Labels, { 'com.docker.volume.anonymous': '' });
    const b = volumes.create('named-anon', { anonymous: true });
    assert.deepEqual(b.Labels, { 'com.docker.volume.anonymous': '' });
    volumes.remove(a.Name);
    volumes.remove(b.Name);
  });

  it('rejects bad names, drivers and options with Docker\'s messages, creating nothing', () => {
    const before = { rows: names(), dirs: volumeDirs() };
    throwsGantry(
      () => volumes.create('a'),
      'INVALID_ARGUMENT',
      'create a: volume name is too short, names should be at least two alphanumeric characters',
    );
    throwsGantry(
      () => volumes.create('my vol'),
      'INVALID_ARGUMENT',
      'create my vol: "my vol" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path',
    );
    throwsGantry(() => volumes.create('/srv/data'), 'INVALID_ARGUMENT', /^create \/srv\/data: "\/srv\/data" includes invalid characters/);
    throwsGantry(() => volumes.create('_x'), 'INVALID_ARGUMENT', /includes invalid characters/);
    throwsGantry(() => volumes.create('.trash'), 'INVALID_ARGUMENT', /includes invalid characters/);
    throwsGantry(
      () => volumes.create('nfsvol', { driver: 'nfs' }),
      'NOT_FOUND',
      'create nfsvol: error looking up volume plugin nfs: plugin "nfs" not found',
    );
    throwsGantry(() => volumes.create('optvol', { options: { bogus: '1' } }), 'INVALID_ARGUMENT', 'create optvol: invalid option: "bogus"');
    throwsGantry(
      () => volumes.create('optvol', { options: { type: 'tmpfs' } }),
      'INVALID_ARGUMENT',
      'create optvol: missing required option: "device"',
    );
    throwsGantry(() => volumes.create('optvol', { options: { size: '10G' } }), 'INVALID_ARGUMENT', /quota size requested but no quota support/);
    throwsGantry(
      () => volumes.create('optvol', { options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } }),
      'NOT_IMPLEMENTED',
      /^create optvol: local volume options \(type, device, o\) are not supported/,
    );
    assert.deepEqual({ rows: names(), dirs: volumeDirs() }, before);
    assert.equal(names().includes('optvol'), false);
  });

  it('removes the directory it made when the row cannot be inserted', () => {
    db.exec("CREATE TEMP TRIGGER no_volumes BEFORE INSERT ON volumes BEGIN SELECT RAISE(ABORT, 'insert refused'); END");
    try {
      assert.throws(() => volumes.create('refused'), /insert refused/);
      assert.equal(existsSync(join(dir, 'volumes', 'refused')), false);
    } finally {
      db.exec('DROP TRIGGER no_volumes');
    }
  });

  it('creates inside a caller\'s transaction, which can roll it back', () => {
    assert.throws(() =>
      writeTx(db, () => {
        volumes.create('rolled-back');
        throw new Error('caller failed');
      }),
    );
    throwsGantry(() => volumes.inspect('rolled-back'), 'NOT_FOUND', 'get rolled-back: no such volume');
    writeTx(db, () => {
      container('c0'.padEnd(64, '0'));
      volumes.create('in-tx');
      volumes.attach('c0'.padEnd(64, '0'), 'in-tx');
    });
    assert.deepEqual(volumes.users('in-tx'), ['c0'.padEnd(64, '0')]);
    assert.deepEqual(volumes.detachAll('c0'.padEnd(64, '0')), ['in-tx']);
    volumes.remove('in-tx');
  });

  it('lists in natural name order with Docker\'s filters', () => {
    for (const n of ['vol10', 'vol2', 'vol1', 'other']) volumes.create(n, { labels: n === 'vol2' ? { tier: 'db', x: '' } : {} });
    const cid = 'c1'.padEnd(64, '0');
    container(cid);
    volumes.attach(cid, 'vol10');
    assert.deepEqual(names(), ['data', 'other', 'vol1', 'vol2', 'vol10']);
    const filtered = (f: Record<string, string[]>) => volumes.list(f).map((v) => v.Name);
    assert.deepEqual(filtered({ name: ['vol'] }), ['vol1', 'vol2', 'vol10']);
    assert.deepEqual(filtered({ name: ['^vol1$', 'oth'] }), ['other', 'vol1']);
    assert.deepEqual(filtered({ label: ['tier'] }), ['vol2']);
    assert.deepEqual(filtered({ label: ['tier=db', 'x'] }), ['vol2']);
    assert.deepEqual(filtered({ label: ['tier=web'] }), []);
    assert.deepEqual(filtered({ driver: ['local'], name: ['vol2'] }), ['vol2']);
    assert.deepEqual(filtered({ driver: ['nfs'] }), []);
    assert.deepEqual(filtered({ dangling: ['false'] }), ['vol10']);
    assert.deepEqual(filtered({ dangling: ['1'] }), ['data', 'other', 'vol1', 'vol2']);
    throwsGantry(() => volumes.list({ until: ['1h'] }), 'INVALID_ARGUMENT', "invalid filter 'until'");
    throwsGantry(() => volumes.list({ dangling: ['maybe'] }), 'INVALID_ARGUMENT', "invalid filter 'dangling=[maybe]'");
    throwsGantry(() => volumes.list({ dangling: ['true', 'false'] }), 'INVALID_ARGUMENT', "invalid filter 'dangling=[true false]'");
  });

  it('refuses to remove a volume in use, naming the containers; -f only forgives missing ones', () => {
    const cid = 'c1'.padEnd(64, '0');
    throwsGantry(() => volumes.remove('vol10'), 'CONFLICT', `remove vol10: volume is in use - [${cid}]`);
    throwsGantry(() => volumes.remove('vol10', true), 'CONFLICT', `remove vol10: volume is in use - [${cid}]`);
    throwsGantry(() => volumes.remove('nope'), 'NOT_FOUND', 'get nope: no such volume');
    volumes.remove('nope', true);
    throwsGantry(() => volumes.attach(cid, 'nope'), 'NOT_FOUND', 'get nope: no such volume');
    assert.deepEqual(volumes.detachAll(cid), ['vol10']);
    writeFileSync(join(volumes.mountpoint('vol10'), 'f'), 'x');
    volumes.remove('vol10');
    assert.equal(existsSync(join(dir, 'volumes', 'vol10')), false);
    assert.deepEqual(readdirSync(join(dir, 'volumes', '.trash')), []);
    throwsGantry(() => volumes.mountpoint('vol10'), 'NOT_FOUND', 'get vol10: no such volume');
  });

  it('prunes only anonymous unused volumes unless all, honouring label filters', () => {
    const anon = volumes.create();
    const used = volumes.create();
    const cid = 'c2'.padEnd(64, '0');
    container(cid);
    volumes.attach(cid, used.Name);
    writeFileSync(join(anon.Mountpoint, 'blob'), Buffer.alloc(1500));
    const r1 = volumes.prune();
    assert.deepEqual(r1, { VolumesDeleted: [anon.Name], SpaceReclaimed: 1500 });
    assert.ok(names().includes(used.Name));
    assert.ok(names().includes('vol1'));

    throwsGantry(() => volumes.prune({ filters: { until: ['1h'] } }), 'INVALID_ARGUMENT', "invalid filter 'until'");
    throwsGantry(
      () => volumes.prune({ filters: { all: ['maybe'] } }),
      'INVALID_ARGUMENT',
      `invalid filter 'all': strconv.ParseBool: parsing "maybe": invalid syntax`,
    );
    const r2 = volumes.prune({ all: true, filters: { 'label!': ['tier'] } });
    assert.deepEqual(r2.VolumesDeleted, ['data', 'other', 'vol1']);
    assert.deepEqual(names(), [used.Name, 'vol2'].sort(naturalCompare));
    const r3 = volumes.prune({ filters: { all: ['1'], label: ['tier=db'] } });
    assert.deepEqual(r3.VolumesDeleted, ['vol2']);
    assert.deepEqual(names(), [used.Name]);
    assert.deepEqual(volumes.prune({ all: true }), { VolumesDeleted: [], SpaceReclaimed: 0 });
    volumes.detachAll(cid);
    volumes.remove(used.Name);
  });

  it('reports usage: sizes (hard links once), references and what is reclaimable', () => {
    const a = volumes.create('usage-a');
    const b = volumes.create('usage-b');
    writeFileSync(join(a.Mountpoint, 'one'), Buffer.alloc(1000));
    linkSync(join(a.Mountpoint, 'one'), join(a.Mountpoint, 'one-again'));
    mkdirSync(join(a.Mountpoint, 'sub'));
    writeFileSync(join(a.Mountpoint, 'sub', 'two'), Buffer.alloc(24));
    writeFileSync(join(b.Mountpoint, 'three'), Buffer.alloc(500));
    const cid = 'c3'.padEnd(64, '0');
    container(cid);
    volumes.attach(cid, 'usage-b');
    const u = volumes.usage();
    assert.deepEqual(
      u.volumes.map((v) => [v.Name, v.UsageData]),
      [
        ['usage-a', { Size: 1024, RefCount: 0 }],
        ['usage-b', { Size: 500, RefCount: 1 }],
      ],
    );
    assert.deepEqual([u.active, u.totalSize, u.reclaimable], [1, 1524, 1024]);
    volumes.detachAll(cid);
    volumes.remove('usage-a');
    volumes.remove('usage-b');
  });

  it('populates an empty volume from a directory, keeping modes, links, times and owners', () => {
    const src = join(dir, 'image-dir');
    mkdirSync(join(src, 'etc', 'conf.d'), { recursive: true });
    writeFileSync(join(src, 'etc', 'app.conf'), 'key=value\n');
    chmodSync(join(src, 'etc', 'app.conf'), 0o640);
    linkSync(join(src, 'etc', 'app.conf'), join(src, 'etc', 'hard'));
    symlinkSync('app.conf', join(src, 'etc', 'soft'));
    writeFileSync(join(src, 'run.sh'), '#!/bin/sh\n');
    chmodSync(join(src, 'run.sh'), 0o4755);
    chmodSync(join(src, 'etc', 'conf.d'), 0o700);
    utimesSync(join(src, 'run.sh'), new Date('2020-01-01T00:00:00Z'), new Date('2020-01-02T00:00:00Z'));
    utimesSync(join(src, 'etc', 'conf.d'), new Date('2021-01-01T00:00:00Z'), new Date('2021-01-02T00:00:00Z'));
    chmodSync(src, 0o1777);
    if (AS_ROOT) {
      chownSync(join(src, 'etc', 'app.conf'), 1234, 4321);
      chownSync(src, 999, 999);
    }
    const v = volumes.create('populated');
    assert.equal(volumes.populate('populated', src), true);
    const d = v.Mountpoint;
    assert.deepEqual(readdirSync(d).sort(), ['etc', 'run.sh']);
    assert.equal(readFileSync(join(d, 'etc', 'app.conf'), 'utf8'), 'key=value\n');
    assert.equal(statSync(join(d, 'etc', 'app.conf')).mode & 0o7777, 0o640);
    assert.equal(statSync(join(d, 'etc', 'hard')).ino, statSync(join(d, 'etc', 'app.conf')).ino);
    assert.equal(readlinkSync(join(d, 'etc', 'soft')), 'app.conf');
    assert.equal(statSync(join(d, 'run.sh')).mode & 0o7777, 0o4755);
    assert.equal(statSync(join(d, 'run.sh')).mtime.toISOString(), '2020-01-02T00:00:00.000Z');
    assert.equal(lstatSync(join(d, 'etc', 'conf.d')).mode & 0o7777, 0o700);
    assert.equal(statSync(join(d, 'etc', 'conf.d')).mtime.toISOString(), '2021-01-02T00:00:00.000Z');
    // The volume root takes the source directory's mode (and owner), as Docker's copyOwnership.
    assert.equal(statSync(d).mode & 0o7777, 0o1777);
    if (AS_ROOT) {
      assert.deepEqual([statSync(join(d, 'etc', 'app.conf')).uid, statSync(join(d, 'etc', 'app.conf')).gid], [1234, 4321]);
      assert.deepEqual([statSync(d).uid, statSync(d).gid], [999, 999]);
    }
    // No temporary directory is left; a volume with content is not populated again.
    assert.deepEqual(readdirSync(join(dir, 'volumes', 'populated')), ['_data']);
    writeFileSync(join(src, 'new-file'), 'x');
    assert.equal(volumes.populate('populated', src), false);
    assert.equal(existsSync(join(d, 'new-file')), false);
    // A missing source directory is nothing to copy.
    const empty = volumes.create('populate-none');
    assert.equal(volumes.populate('populate-none', join(dir, 'missing')), false);
    assert.deepEqual(readdirSync(empty.Mountpoint), []);
    throwsGantry(() => volumes.populate('nope', src), 'NOT_FOUND', 'get nope: no such volume');
    volumes.remove('populated');
    volumes.remove('populate-none');
  });

  it('orders names as the Docker CLI does (natural order)', () => {
    const sorted = ['a', 'a1', 'a01', 'a2', 'a10', 'ab', 'b', 'v9x', 'v10'];
    assert.deepEqual([...sorted].reverse().sort(naturalCompare), sorted);
    assert.equal(naturalCompare('same', 'same'), 0);
    assert.ok(naturalCompare('1a', 'a1') < 0, 'digits sort before letters');
  });
});
