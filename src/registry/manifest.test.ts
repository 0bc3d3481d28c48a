import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256 } from '../core/digest.js';
import { MediaType } from '../core/media-types.js';
import { isHubError } from './errors.js';
import { inspectManifest } from './manifest.js';

const desc = (mediaType: string, data: string, extra: object = {}) => ({ mediaType, digest: sha256(data), size: data.length, ...extra });
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('inspectManifest', () => {
  it('learns the blobs, subject and artifact type of an image manifest', () => {
    const facts = inspectManifest(
      json({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: desc(MediaType.OciConfig, 'c'),
        layers: [desc(MediaType.OciLayerGzip, 'l'), desc(MediaType.OciLayerGzip, 'l'), desc(MediaType.OciLayerNondistributableGzip, 'f', { urls: ['https://x'] })],
        subject: desc(MediaType.OciManifest, 's'),
        annotations: { a: 'b' },
      }),
      MediaType.OciManifest,
    );
    assert.deepEqual(facts.blobs, [sha256('c'), sha256('l')], 'duplicates once, foreign layers with URLs not required');
    assert.equal(facts.subject, sha256('s'));
    assert.equal(facts.artifactType, MediaType.OciConfig);
    assert.deepEqual(facts.annotations, { a: 'b' });
  });

  it('learns the children of an index and a Docker manifest list', () => {
    for (const type of [MediaType.OciIndex, MediaType.DockerManifestList]) {
      const facts = inspectManifest(json({ schemaVersion: 2, mediaType: type, manifests: [desc(MediaType.OciManifest, 'm')] }), type);
      assert.deepEqual(facts.manifests, [sha256('m')]);
      assert.equal(facts.mediaType, type);
    }
  });

  it('takes the media type from Content-Type when the body has none', () => {
    const facts = inspectManifest(json({ schemaVersion: 2, config: desc(MediaType.DockerConfig, 'c'), layers: [] }), `${MediaType.DockerManifest}; charset=utf-8`);
    assert.equal(facts.mediaType, MediaType.DockerManifest);
  });

  it('refuses what is not a manifest it can store', () => {
    const bad: [unknown, string][] = [
      ['{', MediaType.OciManifest],
      [{ schemaVersion: 1 }, MediaType.OciManifest],
      [{ schemaVersion: 2, mediaType: MediaType.OciManifest, layers: [] }, MediaType.OciManifest],
      [{ schemaVersion: 2, mediaType: MediaType.OciManifest, config: desc(MediaType.OciConfig, 'c'), layers: [] }, MediaType.OciIndex],
      [{ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: 'x', digest: 'sha256:1', size: 1 }, layers: [] }, MediaType.OciManifest],
      [{ schemaVersion: 2, mediaType: MediaType.OciManifest, config: desc(MediaType.OciConfig, 'c', { size: -1 }), layers: [] }, MediaType.OciManifest],
      [{ schemaVersion: 2, mediaType: MediaType.OciManifest, config: desc(MediaType.OciEmpty, '{}'), layers: [] }, MediaType.OciManifest],
      [{ schemaVersion: 2, mediaType: 'application/vnd.example', config: desc(MediaType.OciConfig, 'c'), layers: [] }, ''],
      [{ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: {} }, MediaType.OciIndex],
      [{ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [], annotations: { a: 1 } }, MediaType.OciIndex],
    ];
    for (const [doc, type] of bad) {
      assert.throws(() => inspectManifest(typeof doc === 'string' ? Buffer.from(doc) : json(doc), type), (e) => isHubError(e, 'MANIFEST_INVALID'), JSON.stringify(doc));
    }
  });
});
