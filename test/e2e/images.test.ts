/**
 * The image commands end to end: bootstrap, images (formats, filters), tag, inspect, history,
 * rmi (untag vs delete), prune and system df, through the real gantry binary.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GANTRY, needsRoot, Sandbox } from '../support/harness.js';

describe('image commands', { skip: needsRoot }, () => {
  let sb: Sandbox;
  let id: string;
  before(async () => {
    sb = await Sandbox.create();
    id = (await sb.ok(['image', 'bootstrap', 'busybox'])).stdout.trim();
  });
  after(() => sb.destroy());

  it('bootstrap makes busybox:latest with the usual config, reproducibly', async () => {
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const again = (await sb.ok(['image', 'bootstrap', 'busybox', 'busybox:again'])).stdout.trim();
    assert.equal(again, id, 'same binary, same image ID');
    const [img] = JSON.parse((await sb.ok(['image', 'inspect', 'busybox'])).stdout);
    assert.equal(img.Id, id);
    assert.deepEqual(img.RepoTags.sort(), ['busybox:again', 'busybox:latest']);
    assert.deepEqual(img.Config.Cmd, ['sh']);
    assert.ok(img.Config.Env.some((e: string) => e.startsWith('PATH=')));
    assert.equal(img.Os, 'linux');
    assert.equal(img.RootFS.Type, 'layers');
    assert.equal(img.RootFS.Layers.length, 1);
    assert.ok(img.Size > 1_000_000, `size ${img.Size}`);
    assert.equal(img.GraphDriver.Name, 'overlay2');
    // The unpacked snapshot has the binary and hard-linked applets.
    const fs = img.GraphDriver.Data.UpperDir as string;
    assert.ok((await readdir(join(fs, 'bin'))).includes('busybox'));
    assert.ok((await readdir(join(fs, 'bin'))).includes('sh'));
    await sb.ok(['rmi', 'busybox:again']);
  });

  it('images lists one row per tag in Docker\'s table shape', async () => {
    await sb.ok(['tag', 'busybox', 'localhost:5000/team/bb:v1']);
    const r = await sb.ok(['images']);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0] as string, /^REPOSITORY\s{3,}TAG\s{3,}IMAGE ID\s{3,}CREATED\s{3,}SIZE$/);
    assert.equal(lines.length, 3);
    const short = id.slice(7, 19);
    assert.ok(lines.some((l) => /^busybox\s+latest\s+/.test(l) && l.includes(short)), r.stdout);
    assert.ok(lines.some((l) => /^localhost:5000\/team\/bb\s+v1\s+/.test(l)), r.stdout);
    assert.match(r.stdout, /\d+(\.\d+)?MB\n/);
  });

  it('images -q, --no-trunc, --digests, --format and filters', async () => {
    const q = await sb.ok(['images', '-q']);
    assert.deepEqual(q.stdout.trim().split('\n'), [id.slice(7, 19), id.slice(7, 19)]);
    const full = await sb.ok(['images', '--no-trunc', '--format', '{{.ID}}']);
    assert.equal(full.stdout.trim().split('\n')[0], id);
    const digests = await sb.ok(['images', '--digests']);
    assert.match(digests.stdout.split('\n')[0] as string, /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID/);
    const tmpl = await sb.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.deepEqual(tmpl.stdout.trim().split('\n').sort(), ['busybox:latest', 'localhost:5000/team/bb:v1']);
    const table = await sb.ok(['images', '--format', 'table {{.Repository}}\t{{.Tag}}']);
    assert.match(table.stdout, /^REPOSITORY\s+TAG\n/);
    const json = await sb.ok(['images', '--format', 'json']);
    const rows = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 2);
    assert.ok(rows.every((x) => x.ID === id.slice(7, 19) && typeof x.Size === 'string'));
    const byRef = await sb.ok(['images', '--filter', 'reference=busy*', '--format', '{{.Repository}}']);
    assert.equal(byRef.stdout, 'busybox\n');
    const positional = await sb.ok(['images', 'localhost:5000/team/bb', '-q']);
    assert.equal(positional.stdout, `${id.slice(7, 19)}\n`);
    const dangling = await sb.ok(['images', '-f', 'dangling=true', '-q']);
    assert.equal(dangling.stdout, '');
  });

  it('history shows the layer with its size and comment', async () => {
    const r = await sb.ok(['history', 'busybox']);
    const [head, row] = r.stdout.split('\n');
    assert.match(head as string, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.ok(row?.startsWith(id.slice(7, 19)), r.stdout);
    assert.match(row as string, /gantry image bootstrap busybox\s+\d.*MB\s+BusyBox v/);
    const q = await sb.ok(['history', '-q', '--no-trunc', 'busybox']);
    assert.equal(q.stdout.trim(), id);
  });

  it('inspect with a Go template, and errors for missing images', async () => {
    const r = await sb.ok(['image', 'inspect', '-f', '{{.Os}}/{{.Architecture}} {{join .Config.Cmd ","}}', 'busybox']);
    assert.match(r.stdout, /^linux\/\w+ sh\n$/);
    const missing = await sb.run(['image', 'inspect', 'busybox', 'nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error: No such image: nope:latest\n');
    assert.equal(JSON.parse(missing.stdout).length, 1);
  });

  it('rmi untags a name and deletes the image with its last name', async () => {
    await sb.ok(['tag', 'busybox', 'extra:1']);
    // By ID with names in several repositories: refused without -f.
    const conflict = await sb.run(['rmi', id.slice(7, 19)]);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /^Error: conflict: unable to delete [a-f0-9]{12} \(must be forced\) - image is referenced in multiple repositories/);
    const untag = await sb.ok(['rmi', 'extra:1']);
    assert.equal(untag.stdout, 'Untagged: extra:1\n');
    await sb.ok(['rmi', 'localhost:5000/team/bb:v1']);
    const snapshotsBefore = await readdir(join(sb.root, 'snapshots'));
    assert.ok(snapshotsBefore.some((n) => /^[a-f0-9]{64}$/.test(n)));
    const del = await sb.ok(['rmi', 'busybox']);
    const lines = del.stdout.trim().split('\n');
    assert.equal(lines[0], 'Untagged: busybox:latest');
    assert.equal(lines[1], `Deleted: ${id}`);
    assert.match(lines[2] as string, /^Deleted: sha256:[a-f0-9]{64}$/);
    // Nothing is left: no blobs, no snapshots.
    assert.deepEqual(await readdir(join(sb.root, 'content/blobs/sha256')), []);
    assert.deepEqual((await readdir(join(sb.root, 'snapshots'))).filter((n) => n !== 'tmp'), []);
    const none = await sb.run(['rmi', 'busybox']);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'Error: No such image: busybox:latest\n');
  });

  it('image prune removes dangling images; -a removes unused ones; system df counts them', async () => {
    const bb = (await sb.ok(['image', 'bootstrap', 'busybox'])).stdout.trim();
    const df = await sb.ok(['system', 'df']);
    assert.match(df.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+1\s+0\s+\S+MB\s+\S+MB \(100%\)\n/);
    // Nothing dangling yet.
    const none = await sb.ok(['image', 'prune', '-f']);
    assert.equal(none.stdout, 'Total reclaimed space: 0B\n');
    const all = await sb.ok(['image', 'prune', '-a', '-f']);
    assert.match(all.stdout, new RegExp(`^Deleted Images:\nuntagged: busybox:latest\ndeleted: ${bb}\n`));
    assert.match(all.stdout, /Total reclaimed space: [\d.]+MB\n$/);
    assert.equal((await sb.ok(['images', '-q'])).stdout, '');
  });

  it('a reader that goes away ends gantry quietly with SIGPIPE\'s status (141), as `| head` does', async () => {
    const child = spawn(GANTRY, ['--root', sb.root, 'images', '--no-trunc'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader's end is closed before gantry writes
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 141, stderr);
    assert.equal(stderr, '');
  });
});
