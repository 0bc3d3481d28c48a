/**
 * The shared test suite of {@link MetadataStore}: every driver runs it
 * (sqlite-metadata-store.test.ts; a PostgreSQL driver would too). `make` gives an empty store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Digest, sha256 } from '../../core/digest.js';
import { MediaType } from '../../core/media-types.js';
import { isHubError } from '../errors.js';
import type { ManifestInput, MetadataStore } from './metadata-store.js';

const manifest = (repository: string, seed: string, extra: Partial<ManifestInput> = {}): ManifestInput => ({
  repository,
  digest: sha256(seed),
  mediaType: MediaType.OciManifest,
  size: 100,
  blobs: [sha256(`${seed}-config`), sha256(`${seed}-layer`)],
  manifests: [],
  ...extra,
});

/** Runs the suite for one driver. */
export function metadataStoreSuite(name: string, make: () => Promise<MetadataStore>): void {
  describe(`MetadataStore: ${name}`, () => {
    it('stores manifests with tags and resolves them; a tag moves with the last push', async () => {
      const store = await make();
      await store.putManifest({ ...manifest('r', 'a'), tag: 'latest' });
      assert.equal(await store.resolveTag('r', 'latest'), sha256('a'));
      await store.putManifest({ ...manifest('r', 'b'), tag: 'latest' });
      assert.equal(await store.resolveTag('r', 'latest'), sha256('b'));
      const rec = await store.manifest('r', sha256('a'));
      assert.equal(rec?.mediaType, MediaType.OciManifest);
      assert.equal(rec?.size, 100);
      assert.equal(await store.manifest('other', sha256('a')), undefined);
      assert.deepEqual(await store.tags('r', {}), ['latest']);
      assert.equal(await store.tags('nope', {}), undefined);
      await store.putManifest({ ...manifest('r', 'a'), tag: 'again' });
      assert.deepEqual(await store.tags('r', {}), ['again', 'latest'], 'storing the same manifest again is allowed');
    });

    it('pages tags and repositories in order', async () => {
      const store = await make();
      for (const t of ['d', 'b', 'a', 'c']) await store.putManifest({ ...manifest('p', 'x'), tag: t });
      for (const r of ['z', 'm', 'a/b']) await store.putManifest(manifest(r, 'x'));
      assert.deepEqual(await store.tags('p', { n: 2 }), ['a', 'b']);
      assert.deepEqual(await store.tags('p', { n: 2, last: 'b' }), ['c', 'd']);
      assert.deepEqual(await store.tags('p', { last: 'd' }), []);
      assert.deepEqual(await store.repositories({}), ['a/b', 'm', 'p', 'z']);
      assert.deepEqual(await store.repositories({ n: 1, last: 'm' }), ['p']);
    });

    it('refuses an index whose child is not in the repository', async () => {
      const store = await make();
      await store.putManifest(manifest('r', 'child'));
      const index = { ...manifest('r', 'index'), mediaType: MediaType.OciIndex, blobs: [], manifests: [sha256('child'), sha256('missing')] };
      await assert.rejects(store.putManifest(index), (e) => isHubError(e, 'MANIFEST_BLOB_UNKNOWN'));
      assert.equal(await store.manifest('r', sha256('index')), undefined);
      await store.putManifest({ ...index, manifests: [sha256('child')] });
      assert.ok(await store.manifest('r', sha256('index')));
    });

    it('links blobs to repositories; manifests are their repository\'s blobs too', async () => {
      const store = await make();
      const d = sha256('blob');
      await store.linkBlob('r', d);
      await store.linkBlob('r', d);
      assert.equal(await store.isBlobLinked('r', d), true);
      assert.equal(await store.isBlobLinked('s', d), false);
      assert.deepEqual(await store.unlinkedBlobs('r', [d, sha256('other')]), [sha256('other')]);
      await store.putManifest(manifest('s', 'm'));
      assert.equal(await store.isBlobLinked('s', sha256('m')), true);
      assert.equal(await store.unlinkBlob('r', d), true);
      assert.equal(await store.unlinkBlob('r', d), false);
    });

    it('deletes tags and manifests (with their tags)', async () => {
      const store = await make();
      await store.putManifest({ ...manifest('r', 'a'), tag: 't1' });
      await store.putManifest({ ...manifest('r', 'a'), tag: 't2' });
      assert.equal(await store.deleteTag('r', 't1'), true);
      assert.equal(await store.deleteTag('r', 't1'), false);
      assert.ok(await store.manifest('r', sha256('a')));
      assert.equal(await store.deleteManifest('r', sha256('a')), true);
      assert.equal(await store.resolveTag('r', 't2'), undefined);
      assert.equal(await store.deleteManifest('r', sha256('a')), false);
    });

    it('lists referrers of a subject, by artifact type', async () => {
      const store = await make();
      const subject: Digest = sha256('subject');
      await store.putManifest({ ...manifest('r', 'sig'), subject, artifactType: 'sig', annotations: { k: 'v' } });
      await store.putManifest({ ...manifest('r', 'sbom'), subject, artifactType: 'sbom' });
      await store.putManifest({ ...manifest('other', 'x'), subject, artifactType: 'sig' });
      assert.deepEqual((await store.referrers('r', subject)).map((m) => m.digest).sort(), [sha256('sig'), sha256('sbom')].sort());
      const sigs = await store.referrers('r', subject, 'sig');
      assert.deepEqual(sigs.map((m) => [m.digest, m.annotations]), [[sha256('sig'), { k: 'v' }]]);
      assert.deepEqual(await store.referrers('r', sha256('nothing')), []);
    });

    it('gives garbage collection its roots and edges, and sweeps only what is still unused', async () => {
      const store = await make();
      await store.putManifest({ ...manifest('r', 'tagged'), tag: 'v1' });
      await store.putManifest(manifest('r', 'loose'));
      await store.linkBlob('r', sha256('orphan'));
      const all = await store.allManifests();
      assert.deepEqual(all.map((m) => [m.digest, m.tagged]).sort(), [[sha256('loose'), false], [sha256('tagged'), true]].sort());
      const edges = await store.allEdges();
      assert.ok(edges.some((e) => e.manifest === sha256('tagged') && e.digest === sha256('tagged-layer')));
      const removed = await store.sweep(
        [
          { repository: 'r', digest: sha256('loose') },
          { repository: 'r', digest: sha256('tagged') },
        ],
        [sha256('orphan')],
      );
      assert.deepEqual(removed, [{ repository: 'r', digest: sha256('loose') }], 'a tagged manifest stays');
      assert.equal(await store.isBlobLinked('r', sha256('orphan')), false);
      assert.equal((await store.allEdges()).some((e) => e.manifest === sha256('loose')), false);
    });
  });
}
