/**
 * The volume commands end to end: volume create, ls (filters, formats), inspect, rm, prune
 * and the Local Volumes row of system df, through the real gantry binary. Volumes need no
 * root, so these run everywhere.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Sandbox } from '../support/harness.js';

describe('volume commands', () => {
  let sb: Sandbox;
  const names = async (...args: string[]) => (await sb.ok(['volume', 'ls', '-q', ...args])).stdout.split('\n').filter(Boolean);
  before(async () => {
    sb = await Sandbox.create('gantry-e2e-volumes-');
  });
  after(() => sb.destroy());

  it('volume create prints the name; creating it again is a no-op, as in Docker', async () => {
    assert.equal((await sb.ok(['volume', 'create', 'data'])).stdout, 'data\n');
    assert.equal((await sb.ok(['volume', 'create', '--label', 'tier=db', '--label', 'backup', 'vol2'])).stdout, 'vol2\n');
    assert.equal((await sb.ok(['volume', 'create', 'data'])).stdout, 'data\n');
    assert.equal((await sb.ok(['volume', 'create', '--name', 'vol10'])).stdout, 'vol10\n');
    const anon = (await sb.ok(['volume', 'create'])).stdout.trim();
    assert.match(anon, /^[a-f0-9]{64}$/);
    assert.ok(existsSync(join(sb.root, 'volumes', 'data', '_data')));
    // Natural order of names: the random anonymous name goes before or after 'data'.
    assert.deepEqual(await names(), anon < 'data' ? [anon, 'data', 'vol2', 'vol10'] : ['data', anon, 'vol2', 'vol10']);
    await sb.ok(['volume', 'rm', anon]);
  });

  it('volume ls prints Docker\'s table, -q, --format templates and json', async () => {
    const table = await sb.ok(['volume', 'ls']);
    assert.equal(table.stdout, 'DRIVER    VOLUME NAME\nlocal     data\nlocal     vol2\nlocal     vol10\n');
    const list = await sb.ok(['volume', 'list', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}} {{.Label "tier"}}']);
    assert.equal(list.stdout, 'data local local  \nvol2 local local backup=,tier=db db\nvol10 local local  \n');
    const custom = await sb.ok(['volume', 'ls', '--format', 'table {{.Name}}\t{{.Mountpoint}}']);
    const lines = custom.stdout.trimEnd().split('\n');
    assert.match(lines[0] as string, /^VOLUME NAME\s+MOUNTPOINT$/);
    assert.equal(lines[1], `data          ${join(sb.root, 'volumes', 'data', '_data')}`);
    const json = (await sb.ok(['volume', 'ls', '--format', 'json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(json[0], {
      Availability: 'N/A',
      Driver: 'local',
      Group: 'N/A',
      Labels: '',
      Links: 'N/A',
      Mountpoint: join(sb.root, 'volumes', 'data', '_data'),
      Name: 'data',
      Scope: 'local',
      Size: 'N/A',
      Status: 'N/A',
    });
  });

  it('volume ls filters by name, label, driver and dangling; bad filters fail as in Docker', async () => {
    assert.deepEqual(await names('--filter', 'name=vol'), ['vol2', 'vol10']);
    assert.deepEqual(await names('-f', 'name=^vol1'), ['vol10']);
    assert.deepEqual(await names('-f', 'label=tier=db'), ['vol2']);
    assert.deepEqual(await names('-f', 'label=tier', '-f', 'label=backup'), ['vol2']);
    assert.deepEqual(await names('-f', 'driver=local', '-f', 'name=data'), ['data']);
    assert.deepEqual(await names('-f', 'dangling=true'), ['data', 'vol2', 'vol10']);
    assert.deepEqual(await names('-f', 'dangling=false'), []);
    const format = await sb.run(['volume', 'ls', '-f', 'dangling']);
    assert.equal(format.code, 125);
    assert.equal(
      format.stderr,
      `invalid argument "dangling" for "-f, --filter" flag: bad format of filter (expected name=value)\nSee 'gantry volume ls --help'.\n`,
    );
    const key = await sb.run(['volume', 'ls', '-f', 'until=1h']);
    assert.equal(key.code, 1);
    assert.equal(key.stderr, "Error: invalid filter 'until'\n");
    const value = await sb.run(['volume', 'ls', '-f', 'dangling=maybe']);
    assert.equal(value.code, 1);
    assert.equal(value.stderr, "Error: invalid filter 'dangling=[maybe]'\n");
  });

  it('volume inspect prints Docker\'s JSON, templates, and an error line per missing volume', async () => {
    const r = await sb.ok(['volume', 'inspect', 'data']);
    const [v] = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(v), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.equal(v.Name, 'data');
    assert.equal(v.Labels, null);
    assert.equal(v.Options, null);
    assert.equal(v.Mountpoint, join(sb.root, 'volumes', 'data', '_data'));
    assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(r.stdout, /^\[\n {4}\{\n {8}"CreatedAt": /, 'indented as Docker (4 spaces)');
    const tmpl = await sb.ok(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Labels}} {{index .Labels "tier"}}', 'vol2']);
    assert.equal(tmpl.stdout, 'vol2 local map[backup: tier:db] db\n');
    const missing = await sb.run(['volume', 'inspect', 'nope', 'vol2']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error: get nope: no such volume\n');
    assert.deepEqual(JSON.parse(missing.stdout).map((x: { Name: string }) => x.Name), ['vol2']);
    const none = await sb.run(['volume', 'inspect', 'nope']);
    assert.deepEqual([none.code, none.stdout], [1, '[]\n']);
  });

  it('volume create rejects invalid names, drivers and options with Docker\'s messages, creating nothing', async () => {
    const cases: [string[], string][] = [
      [['a'], 'Error: create a: volume name is too short, names should be at least two alphanumeric characters\n'],
      [
        ['my vol'],
        'Error: create my vol: "my vol" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path\n',
      ],
      [['-d', 'nfs', 'nfsvol'], 'Error: create nfsvol: error looking up volume plugin nfs: plugin "nfs" not found\n'],
      [['-o', 'foo=bar', 'optvol'], 'Error: create optvol: invalid option: "foo"\n'],
      [['-o', 'type=nfs', 'optvol'], 'Error: create optvol: missing required option: "device"\n'],
    ];
    const before = await readdir(join(sb.root, 'volumes'));
    for (const [args, stderr] of cases) {
      const r = await sb.run(['volume', 'create', ...args]);
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', stderr], args.join(' '));
    }
    const unsupported = await sb.run(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'optvol']);
    assert.equal(unsupported.code, 1);
    assert.match(unsupported.stderr, /^Error: create optvol: local volume options \(type, device\) are not supported by gantry \(hint: /);
    const both = await sb.run(['volume', 'create', '--name', 'x1', 'x2']);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /conflicting options: cannot specify a volume-name through both --name and as a positional arg/);
    assert.deepEqual(await readdir(join(sb.root, 'volumes')), before);
    assert.deepEqual(await names(), ['data', 'vol2', 'vol10']);
  });

  it('volume rm removes each name, reports each failure and exits 1; -f forgives missing ones', async () => {
    await sb.ok(['volume', 'create', 'gone1']);
    await sb.ok(['volume', 'create', 'gone2']);
    const r = await sb.run(['volume', 'rm', 'gone1', 'nope', 'gone2', 'nope2']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'gone1\ngone2\n');
    assert.equal(r.stderr, 'Error: get nope: no such volume\nError: get nope2: no such volume\n');
    assert.equal(existsSync(join(sb.root, 'volumes', 'gone1')), false);
    const forced = await sb.ok(['volume', 'remove', '-f', 'nope']);
    assert.equal(forced.stdout, 'nope\n');
    assert.deepEqual(await names(), ['data', 'vol2', 'vol10']);
  });

  it('volume prune asks first, removes only anonymous volumes unless -a, and honours --filter', async () => {
    const anon = (await sb.ok(['volume', 'create'])).stdout.trim();
    await writeFile(join(sb.root, 'volumes', anon, '_data', 'blob'), Buffer.alloc(2000));
    const prompt = 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ';
    const no = await sb.ok(['volume', 'prune'], { input: 'n\n' });
    assert.equal(no.stdout, `${prompt}\n`);
    assert.ok((await names()).includes(anon));
    const yes = await sb.ok(['volume', 'prune'], { input: 'y\n' });
    assert.equal(yes.stdout, `${prompt}\nDeleted Volumes:\n${anon}\n\nTotal reclaimed space: 2kB\n`);
    assert.deepEqual(await names(), ['data', 'vol2', 'vol10']);
    assert.equal((await sb.ok(['volume', 'prune', '-f'])).stdout, 'Total reclaimed space: 0B\n');
    const filtered = await sb.ok(['volume', 'prune', '-a', '-f', '--filter', 'label=tier']);
    assert.equal(filtered.stdout, 'Deleted Volumes:\nvol2\n\nTotal reclaimed space: 0B\n');
    const conflict = await sb.run(['volume', 'prune', '-a', '-f', '--filter', 'all=1']);
    assert.equal(conflict.code, 1);
    assert.equal(conflict.stderr, 'Error: conflicting options: cannot specify both --all and --filter all=1\n');
    const until = await sb.run(['volume', 'prune', '-f', '--filter', 'until=24h']);
    assert.deepEqual([until.code, until.stderr], [1, "Error: invalid filter 'until'\n"]);
    const all = await sb.ok(['volume', 'prune', '--all'], { input: 'y\n' });
    assert.match(all.stdout, /^WARNING! This will remove all local volumes not used by at least one container\.\n/);
    assert.match(all.stdout, /Deleted Volumes:\ndata\nvol10\n\nTotal reclaimed space: 0B\n$/);
    assert.deepEqual(await names(), []);
  });

  it('system df counts local volumes and their sizes', async () => {
    await sb.ok(['volume', 'create', 'sized']);
    await writeFile(join(sb.root, 'volumes', 'sized', '_data', 'f'), Buffer.alloc(3000));
    const df = await sb.ok(['system', 'df']);
    assert.match(df.stdout, /\nLocal Volumes\s+1\s+0\s+3kB\s+3kB \(100%\)\n/);
    await sb.ok(['volume', 'rm', 'sized']);
  });
});
