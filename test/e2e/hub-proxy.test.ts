/**
 * The hub as a pull-through cache of Debian's docker-registry (distribution 2.8): pulls of
 * missing manifests and blobs are fetched from upstream, served byte for byte and kept, so
 * they are still served once upstream is gone; pushes are refused.
 */
import assert from 'node:assert/strict';
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '../support/harness.js';
import { TestRegistry } from '../support/registry.js';
import { errorCode, HubProcess, makeImage, OCI_INDEX, OCI_MANIFEST, pushImage, raw, sha } from '../support/hub.js';

describe('gantry hub serve as a pull-through cache', () => {
  let upstream: TestRegistry;
  let cache: HubProcess;
  let tmp: string;
  const img = makeImage();
  const other = makeImage();
  let index: Buffer;
  before(async () => {
    [upstream, tmp] = await Promise.all([TestRegistry.start(), mkdtemp('/var/tmp/gantry-hub-proxy-')]);
    assert.equal((await pushImage(upstream.host, 'lib/app', 'v1', img)).status, 201);
    assert.equal((await pushImage(upstream.host, 'lib/app', other.digest, other)).status, 201);
    index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: other.digest, size: other.manifest.length }] }));
    assert.equal((await raw(upstream.host, 'PUT', '/v2/lib/app/manifests/multi', { 'Content-Type': OCI_INDEX }, index)).status, 201);
    cache = await HubProcess.start({ config: { proxy: { remoteurl: `http://${upstream.host}` } } });
  });
  after(async () => {
    await Promise.all([cache?.destroy(), upstream?.stop(), tmp && rm(tmp, { recursive: true, force: true })]);
  });

  it('fetches manifests and blobs from upstream on a miss and serves them byte for byte', async () => {
    const h = cache.host;
    const m = await raw(h, 'GET', '/v2/lib/app/manifests/v1', { Accept: OCI_MANIFEST });
    assert.equal(m.status, 200, m.body.toString());
    assert.deepEqual(m.body, img.manifest);
    assert.equal(m.headers['docker-content-digest'], img.digest);
    assert.equal(m.headers['content-type'], OCI_MANIFEST);
    const head = await raw(h, 'HEAD', `/v2/lib/app/blobs/${sha(img.layer)}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(img.layer.length));
    const layer = await raw(h, 'GET', `/v2/lib/app/blobs/${sha(img.layer)}`);
    assert.deepEqual(layer.body, img.layer);
    // The index and, through it, its child.
    const idx = await raw(h, 'GET', '/v2/lib/app/manifests/multi', { Accept: OCI_INDEX });
    assert.deepEqual(idx.body, index);
    assert.deepEqual((await raw(h, 'GET', `/v2/lib/app/manifests/${other.digest}`)).body, other.manifest);

    // skopeo pulls through the cache too.
    const out = join(tmp, 'out');
    const r = await runCommand('skopeo', ['copy', '--src-tls-verify=false', `docker://${h}/lib/app:v1`, `dir:${out}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readFile(join(out, 'manifest.json')), img.manifest);

    for (let i = 0; i < 50 && !(await cache.blobFiles()).includes(sha(img.config)); i++) await new Promise((res) => setTimeout(res, 20));
    const cached = await cache.blobFiles();
    for (const d of [img.digest, sha(img.layer), sha(img.config), other.digest]) assert.ok(cached.includes(d), `${d} is cached`);
  });

  it('refuses pushes and reports what upstream lacks', async () => {
    const h = cache.host;
    const push = await raw(h, 'POST', '/v2/lib/app/blobs/uploads/');
    assert.equal(push.status, 405);
    assert.equal(errorCode(push), 'UNSUPPORTED');
    const put = await raw(h, 'PUT', '/v2/lib/app/manifests/v2', { 'Content-Type': OCI_MANIFEST }, img.manifest);
    assert.equal(errorCode(put), 'UNSUPPORTED');
    const missing = await raw(h, 'GET', '/v2/lib/app/manifests/nope');
    assert.equal(missing.status, 404);
    assert.equal(errorCode(missing), 'MANIFEST_UNKNOWN');
    assert.equal(errorCode(await raw(h, 'GET', `/v2/lib/app/blobs/${sha('nope')}`)), 'BLOB_UNKNOWN');
  });

  it('keeps serving what it cached once upstream is gone', async () => {
    await upstream.stop();
    const h = cache.host;
    assert.deepEqual((await raw(h, 'GET', `/v2/lib/app/manifests/${img.digest}`)).body, img.manifest);
    assert.deepEqual((await raw(h, 'GET', '/v2/lib/app/manifests/v1')).body, img.manifest, 'a tag falls back to the cached copy');
    assert.deepEqual((await raw(h, 'GET', `/v2/lib/app/blobs/${sha(img.layer)}`)).body, img.layer);
    const lost = await raw(h, 'GET', '/v2/lib/app/manifests/never-pulled');
    assert.equal(lost.status, 502, 'upstream unreachable and nothing cached');
  });
});
