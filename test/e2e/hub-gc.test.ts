/**
 * `gantry hub gc` while the hub serves: a dry run lists and removes nothing; a run removes
 * blobs no manifest references and keeps every referenced one (pulls still work); blobs
 * younger than the grace period survive (a push under way); `--delete-untagged` removes
 * manifests no tag reaches, but keeps children of tagged indexes and referrers of kept ones.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { GANTRY, runCommand } from '../support/harness.js';
import { HubProcess, makeImage, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST, pushBlob, pushImage, raw, sha } from '../support/hub.js';

describe('gantry hub gc', () => {
  let hub: HubProcess;
  let h: string;
  const gc = async (...args: string[]) => {
    const r = await runCommand(GANTRY, ['hub', 'gc', '--data', hub.data, ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  before(async () => {
    hub = await HubProcess.start();
    h = hub.host;
  });
  after(async () => {
    await hub?.destroy();
  });

  it('lists in a dry run, then removes only unreferenced blobs while the hub serves', async () => {
    const img = makeImage();
    assert.equal((await pushImage(h, 'gc/app', 'v1', img)).status, 201);
    const orphan = await pushBlob(h, 'gc/app', randomBytes(1000));
    const before = await hub.blobFiles();

    const dry = await gc('--dry-run', '--grace-period', '0s');
    assert.match(dry, new RegExp(`^would delete blob ${orphan} `, 'm'));
    for (const kept of [img.digest, sha(img.config), sha(img.layer)]) assert.doesNotMatch(dry, new RegExp(kept));
    assert.deepEqual(await hub.blobFiles(), before, 'a dry run removes nothing');

    // Young blobs are kept by the default grace period: this one might belong to a push under way.
    const young = await gc();
    assert.doesNotMatch(young, /deleted blob/);
    assert.ok((await hub.blobFiles()).includes(orphan));

    const real = await gc('--grace-period', '0s');
    assert.match(real, new RegExp(`^deleted blob ${orphan} `, 'm'));
    assert.match(real, /deleted 0 manifest\(s\), 1 blob\(s\)/);
    assert.ok(!(await hub.blobFiles()).includes(orphan));
    assert.equal((await raw(h, 'HEAD', `/v2/gc/app/blobs/${orphan}`)).status, 404);
    // Everything referenced is still served.
    const m = await raw(h, 'GET', '/v2/gc/app/manifests/v1');
    assert.deepEqual(m.body, img.manifest);
    assert.deepEqual((await raw(h, 'GET', `/v2/gc/app/blobs/${sha(img.layer)}`)).body, img.layer);
    // The same bytes pushed again after the sweep are stored anew.
    const data = randomBytes(1000);
    const again = await pushBlob(h, 'gc/app', data);
    assert.deepEqual((await raw(h, 'GET', `/v2/gc/app/blobs/${again}`)).body, data);
  });

  it('keeps blobs uploaded while it runs', async () => {
    const uploads = Array.from({ length: 20 }, () => randomBytes(20_000));
    const [digests] = await Promise.all([Promise.all(uploads.map((u) => pushBlob(h, 'gc/busy', u))), gc('--grace-period', '30s')]);
    for (const d of digests) assert.equal((await raw(h, 'HEAD', `/v2/gc/busy/blobs/${d}`)).status, 200);
  });

  it('removes untagged manifests when asked, keeping what tagged ones reach', async () => {
    const tagged = makeImage();
    const child = makeImage();
    const untagged = makeImage();
    await pushImage(h, 'gc/u', 'v1', tagged);
    await pushImage(h, 'gc/u', child.digest, child);
    await pushImage(h, 'gc/u', untagged.digest, untagged);
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: child.digest, size: child.manifest.length }] }));
    assert.equal((await raw(h, 'PUT', '/v2/gc/u/manifests/multi', { 'Content-Type': OCI_INDEX }, index)).status, 201);
    const empty = await pushBlob(h, 'gc/u', '{}');
    const sig = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: 'application/vnd.example.sig',
        config: { mediaType: OCI_EMPTY, digest: empty, size: 2 },
        layers: [],
        subject: { mediaType: OCI_MANIFEST, digest: tagged.digest, size: tagged.manifest.length },
      }),
    );
    assert.equal((await raw(h, 'PUT', `/v2/gc/u/manifests/${sha(sig)}`, { 'Content-Type': OCI_MANIFEST }, sig)).status, 201);

    const out = await gc('--delete-untagged', '--grace-period', '0s');
    assert.match(out, new RegExp(`^deleted manifest gc/u@${untagged.digest}$`, 'm'));
    assert.match(out, new RegExp(`^deleted blob ${sha(untagged.layer)} `, 'm'));
    assert.equal((await raw(h, 'GET', `/v2/gc/u/manifests/${untagged.digest}`)).status, 404);
    for (const kept of [tagged.digest, child.digest, sha(sig)]) assert.equal((await raw(h, 'GET', `/v2/gc/u/manifests/${kept}`)).status, 200, kept);
    assert.equal((await raw(h, 'GET', `/v2/gc/u/blobs/${sha(child.layer)}`)).status, 200);
    assert.equal((await raw(h, 'GET', `/v2/gc/u/referrers/${tagged.digest}`)).json().manifests.length, 1);
  });

  it('says so when the data directory has no hub', async () => {
    const r = await runCommand(GANTRY, ['hub', 'gc', '--data', '/var/tmp/gantry-no-such-hub']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no hub data in \/var\/tmp\/gantry-no-such-hub/);
  });
});
