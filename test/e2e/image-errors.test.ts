/**
 * Bad input to the image commands: each failure gives one clear error line and Docker's exit
 * code, and leaves the store exactly as it was (no blob, snapshot, tag or temporary file).
 * Also: concurrent writers, and a gantry killed with SIGKILL in the middle of a load.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GANTRY, needsRoot, Sandbox } from '../support/harness.js';
import { sha256, tarball } from '../support/tarball.js';

describe('image commands with bad input', { skip: needsRoot }, () => {
  let sb: Sandbox;
  let saved: Buffer;
  before(async () => {
    sb = await Sandbox.create();
    await sb.ok(['image', 'bootstrap', 'busybox']);
    saved = (await sb.ok(['save', 'busybox'])).stdoutBytes;
  });
  after(() => sb.destroy());

  /** Runs a failing command and asserts the store did not change. */
  async function failsCleanly(args: string[], input?: Buffer): Promise<{ code: number; stderr: string }> {
    const before = await sb.storeFiles();
    const images = (await sb.ok(['images', '-a', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}'])).stdout;
    const r = await sb.run(args, { input });
    assert.notEqual(r.code, 0, `expected failure: ${r.stdout}`);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one error line: ${r.stderr}`);
    assert.deepEqual(await sb.storeFiles(), before, 'store files unchanged');
    assert.equal((await sb.ok(['images', '-a', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}'])).stdout, images);
    return r;
  }

  it('usage errors exit 125 with Docker\'s wording', async () => {
    const r = await sb.run(['images', '--bogus']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, "unknown flag: --bogus\nSee 'gantry images --help'.\n");
  });

  it('malformed references are refused', async () => {
    const r = await failsCleanly(['tag', 'busybox', 'Bad/Name']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: .*invalid reference format: repository name \(Bad\/Name\) must be lowercase|^Error: .*not a valid repository\/tag/);
    const bad = await failsCleanly(['image', 'inspect', 'busy box']);
    assert.match(bad.stderr, /^Error: invalid reference format/);
  });

  it('a truncated archive is refused and stores nothing', async () => {
    const r = await failsCleanly(['load'], saved.subarray(0, Math.floor(saved.length / 2)));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: invalid archive/);
  });

  it('an archive whose blob does not match its digest is refused', async () => {
    const layer = await tarball([{ name: 'x', body: 'x' }]);
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
    });
    const tampered = Buffer.from(layer);
    tampered[600] = 0x41; // content of file "x" changed
    const archive = await tarball([
      { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
      { name: 'index.json', body: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length, annotations: { 'io.containerd.image.name': 'docker.io/library/tampered:1' } }] }) },
      { name: `blobs/sha256/${sha256(manifest).slice(7)}`, body: manifest },
      { name: `blobs/sha256/${sha256(config).slice(7)}`, body: config },
      { name: `blobs/sha256/${sha256(layer).slice(7)}`, body: tampered },
    ]);
    const r = await failsCleanly(['load'], archive);
    assert.match(r.stderr, new RegExp(`^Error: digest mismatch.*expected ${sha256(layer)}`));
  });

  it('a hostile rootfs tarball is refused and nothing is written outside', async () => {
    const outside = join(sb.root, '..', `gantry-e2e-outside-${process.pid}`);
    await mkdir(outside, { recursive: true });
    for (const members of [
      [{ name: '../evil', body: 'x' }],
      [{ name: 'link', type: 'symlink' as const, linkname: outside }, { name: 'link/evil', body: 'x' }],
      [{ name: 'hard', type: 'link' as const, linkname: '/etc/passwd' }],
    ]) {
      const r = await failsCleanly(['import', '-', 'hostile:1'], await tarball(members));
      assert.match(r.stderr, /^Error: refusing to unpack layer/);
    }
    assert.deepEqual(await readdir(outside), []);
    assert.equal(existsSync(join(sb.root, '..', 'evil')), false);
  });

  it('garbage that is not a tar archive is refused by import and load', async () => {
    const garbage = Buffer.alloc(4096, 'garbage ');
    await failsCleanly(['import', '-', 'garbage:1'], garbage);
    await failsCleanly(['load'], garbage);
    await failsCleanly(['load'], Buffer.alloc(0));
  });

  it('save of a missing image fails before creating the output file', async () => {
    const out = join(sb.root, 'never.tar');
    const r = await failsCleanly(['save', '-o', out, 'busybox', 'missing:tag']);
    assert.equal(r.stderr, 'Error: No such image: missing:tag\n');
    assert.equal(existsSync(out), false);
  });

  it('rmi of a missing image and bad --filter values exit 1', async () => {
    const r = await failsCleanly(['rmi', 'nothing-here']);
    assert.equal(r.stderr, 'Error: No such image: nothing-here:latest\n');
    const f = await failsCleanly(['images', '--filter', 'colour=blue']);
    assert.equal(f.stderr, "Error: invalid filter 'colour'\n");
  });

  it('concurrent loads of one archive both succeed and agree', async () => {
    const other = await Sandbox.create();
    try {
      const [a, b, c] = await Promise.all([
        other.run(['load'], { input: saved }),
        other.run(['load'], { input: saved }),
        other.run(['image', 'bootstrap', 'busybox', 'busybox:boot']),
      ]);
      for (const r of [a, b, c]) assert.equal(r.code, 0, r.stderr);
      const ids = (await other.ok(['images', '--no-trunc', '--format', '{{.ID}}'])).stdout.trim().split('\n');
      assert.equal(new Set(ids).size, 1);
      assert.equal((await readdir(join(other.root, 'snapshots'))).filter((n) => /^[a-f0-9]{64}$/.test(n)).length, 1);
    } finally {
      await other.destroy();
    }
  });

  it('kill -9 in the middle of a load leaves a working store, cleaned by the next collection', async () => {
    const other = await Sandbox.create();
    try {
      const big = await tarball([
        { name: 'big/', type: 'directory' },
        ...Array.from({ length: 40 }, (_, i) => ({ name: `big/f${i}`, body: Buffer.alloc(1 << 20, i) })),
      ]);
      const file = join(other.root, 'big.tar');
      await writeFile(file, big);
      for (const delay of [30, 120, 300]) {
        const child = spawn(GANTRY, ['--root', other.root, 'import', file, `big:${delay}`], { stdio: 'ignore' });
        // Listened for from the start: a fast import may be done before the kill.
        const closed = new Promise((r) => child.once('close', r));
        await new Promise((r) => setTimeout(r, delay));
        child.kill('SIGKILL');
        await closed;
      }
      // The store still works and lists truthfully.
      await other.ok(['image', 'bootstrap', 'busybox']);
      const names = (await other.ok(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n').filter(Boolean);
      assert.ok(names.includes('busybox:latest'));
      for (const n of names) await other.ok(['image', 'inspect', n]);
      // Whatever the killed processes left is garbage: removing every image leaves an empty store.
      await other.ok(['image', 'prune', '-a', '-f']);
      assert.deepEqual(await readdir(join(other.root, 'content/blobs/sha256')), []);
      assert.deepEqual(await readdir(join(other.root, 'content/ingest')), []);
      const snaps = (await readdir(join(other.root, 'snapshots'))).filter((n) => n !== 'tmp');
      assert.deepEqual(snaps, []);
      assert.deepEqual(await readdir(join(other.root, 'snapshots/tmp')).catch(() => []), []);
    } finally {
      await other.destroy();
    }
  });
});
