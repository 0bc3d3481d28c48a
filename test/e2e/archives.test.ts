/**
 * import, save and load end to end, and interoperability with a real peer: skopeo (from
 * Debian) reads what gantry saves, in both the Docker archive and the OCI layout view, and
 * writes archives that gantry loads, with the same image ID and diff IDs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { needsRoot, Sandbox } from '../support/harness.js';
import { sha256, tarball } from '../support/tarball.js';

const exec = promisify(execFile);
const haveSkopeo = await exec('skopeo', ['--version']).then(
  () => false as const,
  () => 'skopeo is not installed (scripts/setup.sh installs it)',
);

describe('import, save and load', { skip: needsRoot }, () => {
  let sb: Sandbox;
  let id: string;
  let diffIds: string[];
  before(async () => {
    sb = await Sandbox.create();
    id = (await sb.ok(['image', 'bootstrap', 'busybox'])).stdout.trim();
    diffIds = JSON.parse((await sb.ok(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'busybox'])).stdout);
  });
  after(() => sb.destroy());

  it('import makes a one-layer image with --change applied, from a file and from stdin (gzip)', async () => {
    const rootfs = await tarball([
      { name: 'app/', type: 'directory' },
      { name: 'app/hello.txt', body: 'hello\n' },
      { name: 'app/run.sh', body: '#!/bin/sh\necho hi\n', mode: 0o755 },
    ]);
    const file = join(sb.root, 'rootfs.tar');
    await writeFile(file, rootfs);
    const r = await sb.ok([
      'import', '-c', 'CMD ["/app/run.sh"]', '-c', 'ENV GREETING="hi there"', '-c', 'WORKDIR /app',
      '-c', 'ENTRYPOINT /bin/sh', '-m', 'my import', file, 'imported:v1',
    ]);
    const newId = r.stdout.trim();
    assert.match(newId, /^sha256:[a-f0-9]{64}$/);
    const [img] = JSON.parse((await sb.ok(['image', 'inspect', 'imported:v1'])).stdout);
    assert.equal(img.Id, newId);
    assert.deepEqual(img.Config.Cmd, ['/app/run.sh']);
    assert.deepEqual(img.Config.Entrypoint, ['/bin/sh', '-c', '/bin/sh']);
    assert.deepEqual(img.Config.Env, ['GREETING=hi there']);
    assert.equal(img.Config.WorkingDir, '/app');
    assert.equal(img.Comment, 'my import');
    assert.deepEqual(img.RootFS.Layers, [sha256(rootfs)], 'the layer is stored uncompressed: digest = diff ID');
    const fromStdin = await sb.ok(['import', '-', 'imported:gz'], { input: gzipSync(rootfs) });
    const [gz] = JSON.parse((await sb.ok(['image', 'inspect', fromStdin.stdout.trim()])).stdout);
    assert.deepEqual(gz.RootFS.Layers, [sha256(rootfs)], 'gzip input is decompressed');
    const hist = await sb.ok(['history', '--format', '{{.Comment}}', 'imported:gz']);
    assert.equal(hist.stdout, 'Imported from -\n');
  });

  it('save then load round-trips with the same image ID and diff IDs', async () => {
    const file = join(sb.root, 'bb.tar');
    await sb.ok(['save', '-o', file, 'busybox']);
    await sb.ok(['rmi', 'busybox']);
    const r = await sb.ok(['load', '-i', file]);
    assert.equal(r.stdout, 'Loaded image: busybox:latest\n');
    const [img] = JSON.parse((await sb.ok(['image', 'inspect', 'busybox'])).stdout);
    assert.equal(img.Id, id);
    assert.deepEqual(img.RootFS.Layers, diffIds);
    // Loading again over an existing image is a no-op that reports the same name.
    assert.equal((await sb.ok(['load', '-i', file])).stdout, 'Loaded image: busybox:latest\n');
    // The archive holds both views: Docker's manifest.json and the OCI layout.
    const { stdout: listing } = await exec('tar', ['-tf', file]);
    for (const member of ['manifest.json', 'index.json', 'oci-layout', `blobs/sha256/${id.slice(7)}`]) {
      assert.ok(listing.split('\n').includes(member), `${member} in ${listing}`);
    }
  });

  it('save streams to stdout, and load reads stdin', async () => {
    const r = await sb.ok(['save', 'busybox:latest']);
    assert.ok(r.stdoutBytes.length > 1_000_000);
    const other = await Sandbox.create();
    try {
      assert.equal((await other.ok(['load'], { input: r.stdoutBytes })).stdout, 'Loaded image: busybox:latest\n');
      assert.equal((await other.ok(['images', '-q', '--no-trunc'])).stdout, `${id}\n`);
    } finally {
      await other.destroy();
    }
  });

  it('skopeo reads what gantry saves, as a Docker archive and as an OCI layout', { skip: haveSkopeo }, async () => {
    const file = join(sb.root, 'for-skopeo.tar');
    await sb.ok(['save', '-o', file, 'busybox:latest']);
    const docker = JSON.parse((await exec('skopeo', ['inspect', '--raw', '--config', `docker-archive:${file}`])).stdout);
    assert.deepEqual(docker.rootfs.diff_ids, diffIds);
    const ociDir = join(sb.root, 'oci-dir');
    await exec('mkdir', ['-p', ociDir]);
    await exec('tar', ['-xf', file, '-C', ociDir]);
    const configDigest = (await exec('skopeo', ['inspect', '--format', '{{.Digest}}', `oci:${ociDir}:latest`])).stdout.trim();
    assert.match(configDigest, /^sha256:/);
    const cfg = JSON.parse((await exec('skopeo', ['inspect', '--config', '--raw', `oci:${ociDir}:latest`])).stdout);
    assert.deepEqual(cfg.rootfs.diff_ids, diffIds);
  });

  it('gantry loads archives written by skopeo (docker-archive and oci-archive) with the same ID', { skip: haveSkopeo }, async () => {
    const src = join(sb.root, 'src.tar');
    await sb.ok(['save', '-o', src, 'busybox:latest']);
    const dockerArchive = join(sb.root, 'skopeo-docker.tar');
    const ociArchive = join(sb.root, 'skopeo-oci.tar');
    await exec('skopeo', ['copy', '-q', `docker-archive:${src}`, `docker-archive:${dockerArchive}:peer/busybox:docker`]);
    await exec('skopeo', ['copy', '-q', `docker-archive:${src}`, `oci-archive:${ociArchive}:docker.io/peer/busybox:oci`]);
    const a = await sb.ok(['load', '-i', dockerArchive]);
    assert.equal(a.stdout, 'Loaded image: peer/busybox:docker\n');
    const b = await sb.ok(['load', '-i', ociArchive]);
    assert.equal(b.stdout, 'Loaded image: peer/busybox:oci\n');
    // skopeo keeps the config bytes in a docker archive, and rewrites them when it converts
    // to OCI: the image ID gantry reports must be the digest of the config skopeo wrote.
    const ociConfig = (await exec('skopeo', ['inspect', '--config', '--raw', `oci-archive:${ociArchive}`], { encoding: 'buffer' })).stdout;
    for (const [ref, expected] of [['peer/busybox:docker', id], ['peer/busybox:oci', sha256(ociConfig)]] as const) {
      const [img] = JSON.parse((await sb.ok(['image', 'inspect', ref])).stdout);
      assert.equal(img.Id, expected, ref);
      assert.deepEqual(img.RootFS.Layers, diffIds, ref);
    }
  });

  it('loads a classic docker save archive (<id>/layer.tar, symlinked repeated layers)', async () => {
    const layerA = await tarball([{ name: 'a.txt', body: 'A\n' }]);
    const layerB = await tarball([{ name: 'b.txt', body: 'B\n' }]);
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['sh'] },
      created: '2024-01-01T00:00:00Z',
      rootfs: { type: 'layers', diff_ids: [sha256(layerA), sha256(layerB), sha256(layerA)] },
      history: [{ created_by: 'a' }, { created_by: 'b' }, { created_by: 'a again' }],
    });
    const v1 = ['1'.repeat(64), '2'.repeat(64), '3'.repeat(64)];
    const archive = await tarball([
      { name: `${v1[0]}/`, type: 'directory' },
      { name: `${v1[0]}/layer.tar`, body: layerA },
      { name: `${v1[0]}/VERSION`, body: '1.0' },
      { name: `${v1[1]}/`, type: 'directory' },
      { name: `${v1[1]}/layer.tar`, body: gzipSync(layerB) },
      { name: `${v1[2]}/`, type: 'directory' },
      { name: `${v1[2]}/layer.tar`, type: 'symlink', linkname: `../${v1[0]}/layer.tar` },
      { name: `${sha256(config).slice(7)}.json`, body: config },
      {
        name: 'manifest.json',
        body: JSON.stringify([
          { Config: `${sha256(config).slice(7)}.json`, RepoTags: ['classic:1'], Layers: v1.map((v) => `${v}/layer.tar`) },
        ]),
      },
      { name: 'repositories', body: JSON.stringify({ classic: { '1': v1[2] } }) },
    ]);
    const r = await sb.ok(['load'], { input: archive });
    assert.equal(r.stdout, 'Loaded image: classic:1\n');
    const [img] = JSON.parse((await sb.ok(['image', 'inspect', 'classic:1'])).stdout);
    assert.equal(img.Id, sha256(config));
    const hist = await sb.ok(['history', '--format', '{{.CreatedBy}}', 'classic:1']);
    assert.equal(hist.stdout, 'a again\nb\na\n');
    // Re-saving and loading elsewhere keeps the ID.
    const again = join(sb.root, 'classic-resaved.tar');
    await sb.ok(['save', '-o', again, 'classic:1']);
    const other = await Sandbox.create();
    try {
      await other.ok(['load', '-i', again]);
      assert.equal((await other.ok(['images', '--no-trunc', '-q'])).stdout.trim(), sha256(config));
    } finally {
      await other.destroy();
    }
  });

  it('load names a moved tag the way Docker does', async () => {
    const file = join(sb.root, 'imp.tar');
    await sb.ok(['save', '-o', file, 'busybox:latest']);
    await sb.ok(['tag', 'imported:v1', 'busybox:latest']);
    const oldId = JSON.parse((await sb.ok(['image', 'inspect', '-f', '{{json .Id}}', 'busybox'])).stdout);
    const r = await sb.ok(['load', '-i', file]);
    assert.equal(
      r.stdout,
      `The image busybox:latest already exists, renaming the old one with ID ${oldId} to empty string\nLoaded image: busybox:latest\n`,
    );
  });
});
