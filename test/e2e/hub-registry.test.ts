/**
 * `gantry hub serve` speaks the OCI distribution API: the real binary on a free loopback
 * port, driven with raw HTTP. Pushes (monolithic, single POST, chunked), pulls (with Range),
 * uploads' status, cancel and resume after a restart, manifests of every media type, tags and
 * catalog pages, referrers, mounts, deletes, concurrent pushes — and every bad input answered
 * with the spec's code and status, leaving nothing stored.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorCode, HubProcess, makeImage, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST, pushBlob, pushImage, raw, sha } from '../support/hub.js';

describe('gantry hub serve: the distribution API', () => {
  let hub: HubProcess;
  let h: string;
  before(async () => {
    hub = await HubProcess.start();
    h = hub.host;
  });
  after(async () => {
    await hub?.destroy();
  });

  it('answers /v2/ with the API version header, and the spec errors for unknown paths and methods', async () => {
    const base = await raw(h, 'GET', '/v2/');
    assert.equal(base.status, 200);
    assert.equal(base.headers['docker-distribution-api-version'], 'registry/2.0');
    assert.equal((await raw(h, 'HEAD', '/v2/')).status, 200);
    assert.equal((await raw(h, 'GET', '/v2/x/nothing/here')).status, 404);
    const wrong = await raw(h, 'POST', '/v2/x/manifests/latest');
    assert.equal(wrong.status, 405);
    assert.equal(errorCode(wrong), 'UNSUPPORTED');
  });

  it('takes a monolithic push and serves the blob whole and by range', async () => {
    const data = randomBytes(5000);
    const digest = sha(data);
    const start = await raw(h, 'POST', '/v2/mono/blobs/uploads/');
    assert.equal(start.status, 202);
    assert.match(start.headers.location as string, /^\/v2\/mono\/blobs\/uploads\/[0-9a-f-]{36}$/);
    assert.equal(start.headers['docker-upload-uuid'], (start.headers.location as string).split('/').pop());
    assert.equal(start.headers.range, '0-0');
    const put = await raw(h, 'PUT', `${start.headers.location}?digest=${digest}`, {}, data);
    assert.equal(put.status, 201);
    assert.equal(put.headers.location, `/v2/mono/blobs/${digest}`);
    assert.equal(put.headers['docker-content-digest'], digest);

    const head = await raw(h, 'HEAD', `/v2/mono/blobs/${digest}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '5000');
    assert.equal(head.headers['docker-content-digest'], digest);
    const get = await raw(h, 'GET', `/v2/mono/blobs/${digest}`);
    assert.deepEqual(get.body, data);
    const part = await raw(h, 'GET', `/v2/mono/blobs/${digest}`, { Range: 'bytes=100-199' });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], 'bytes 100-199/5000');
    assert.deepEqual(part.body, data.subarray(100, 200));
    const tail = await raw(h, 'GET', `/v2/mono/blobs/${digest}`, { Range: 'bytes=4990-' });
    assert.deepEqual(tail.body, data.subarray(4990));
    const beyond = await raw(h, 'GET', `/v2/mono/blobs/${digest}`, { Range: 'bytes=6000-' });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers['content-range'], 'bytes */5000');

    const unknown = await raw(h, 'GET', `/v2/mono/blobs/${sha('nothing')}`);
    assert.equal(unknown.status, 404);
    assert.equal(errorCode(unknown), 'BLOB_UNKNOWN');
  });

  it('sends big blobs with sendfile: whole, by range, and to clients that go away half-way', async () => {
    const data = randomBytes(3 << 20);
    const digest = await pushBlob(hub.host, 'big/blob', data);
    const whole = await raw(hub.host, 'GET', `/v2/big/blob/blobs/${digest}`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers['content-length'], String(data.length));
    assert.ok(Buffer.compare(whole.body, data) === 0, 'the bytes sent are the blob');
    const part = await raw(hub.host, 'GET', `/v2/big/blob/blobs/${digest}`, { Range: 'bytes=1000-1500999' });
    assert.equal(part.status, 206);
    assert.ok(Buffer.compare(part.body, data.subarray(1000, 1501000)) === 0);
    // Clients that read a little and hang up: the hub goes on serving everyone else.
    const [h, p] = hub.host.split(':') as [string, string];
    await Promise.all(
      Array.from({ length: 8 }, () =>
        new Promise<void>((resolve) => {
          const s = connect(Number(p), h, () => s.write(`GET /v2/big/blob/blobs/${digest} HTTP/1.1\r\nHost: ${hub.host}\r\n\r\n`));
          s.once('data', () => s.destroy());
          s.once('close', () => resolve());
        }),
      ),
    );
    const again = await raw(hub.host, 'GET', `/v2/big/blob/blobs/${digest}`);
    assert.ok(Buffer.compare(again.body, data) === 0);
  });

  it('takes a blob in a single POST ?digest=', async () => {
    const data = Buffer.from('single post body');
    const r = await raw(h, 'POST', `/v2/single/blobs/uploads/?digest=${sha(data)}`, { 'Content-Type': 'application/octet-stream' }, data);
    assert.equal(r.status, 201);
    assert.equal(r.headers['docker-content-digest'], sha(data));
    assert.deepEqual((await raw(h, 'GET', `/v2/single/blobs/${sha(data)}`)).body, data);
  });

  it('takes chunks in order, reports progress, refuses an out-of-order chunk with 416', async () => {
    const data = randomBytes(30);
    const start = await raw(h, 'POST', '/v2/chunked/blobs/uploads/');
    const loc = start.headers.location as string;
    const c1 = await raw(h, 'PATCH', loc, { 'Content-Range': '0-9', 'Content-Type': 'application/octet-stream' }, data.subarray(0, 10));
    assert.equal(c1.status, 202);
    assert.equal(c1.headers.range, '0-9');
    assert.equal(c1.headers.location, loc);
    const status = await raw(h, 'GET', loc);
    assert.equal(status.status, 204);
    assert.equal(status.headers.range, '0-9');
    assert.equal(status.headers['docker-upload-uuid'], loc.split('/').pop());

    const skip = await raw(h, 'PATCH', loc, { 'Content-Range': '20-29' }, data.subarray(20));
    assert.equal(skip.status, 416);
    assert.equal(errorCode(skip), 'BLOB_UPLOAD_INVALID');
    assert.equal(skip.headers.range, '0-9', 'a refused chunk says where the upload stands');
    assert.equal(skip.headers.location, loc);
    const again = await raw(h, 'PATCH', loc, { 'Content-Range': '0-9' }, data.subarray(0, 10));
    assert.equal(again.status, 416);
    assert.equal((await raw(h, 'GET', loc)).headers.range, '0-9', 'refused chunks change nothing');

    const c2 = await raw(h, 'PATCH', loc, { 'Content-Range': '10-19' }, data.subarray(10, 20));
    assert.equal(c2.headers.range, '0-19');
    // A streamed chunk without Content-Range (Docker's way) is appended too.
    const put = await raw(h, 'PUT', `${loc}?digest=${sha(data)}`, { 'Content-Range': '20-29', 'Content-Length': 10 }, data.subarray(20));
    assert.equal(put.status, 201);
    assert.deepEqual((await raw(h, 'GET', `/v2/chunked/blobs/${sha(data)}`)).body, data);
    assert.equal((await raw(h, 'GET', loc)).status, 404, 'a completed upload is gone');
  });

  it('cancels an upload, and answers BLOB_UPLOAD_UNKNOWN for unknown, foreign or malformed upload IDs', async () => {
    const start = await raw(h, 'POST', '/v2/cancel/blobs/uploads/');
    const loc = start.headers.location as string;
    await raw(h, 'PATCH', loc, {}, 'some bytes');
    const del = await raw(h, 'DELETE', loc);
    assert.equal(del.status, 204);
    for (const [method, path] of [
      ['GET', loc],
      ['PATCH', loc],
      ['PUT', `${loc}?digest=${sha('x')}`],
      ['DELETE', loc],
      ['GET', '/v2/cancel/blobs/uploads/00000000-0000-4000-8000-000000000000'],
      ['GET', '/v2/cancel/blobs/uploads/not-a-uuid'],
    ] as const) {
      const r = await raw(h, method, path, {}, method === 'PATCH' ? 'x' : undefined);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(errorCode(r), 'BLOB_UPLOAD_UNKNOWN', `${method} ${path}`);
    }
    // An upload of one repository cannot be continued through another.
    const other = await raw(h, 'POST', '/v2/cancel/blobs/uploads/');
    const id = (other.headers.location as string).split('/').pop();
    const foreign = await raw(h, 'PATCH', `/v2/elsewhere/blobs/uploads/${id}`, {}, 'x');
    assert.equal(foreign.status, 404);
    assert.equal(errorCode(foreign), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('refuses a wrong digest with DIGEST_INVALID and stores nothing', async () => {
    const before = await hub.blobFiles();
    const data = randomBytes(100);
    const start = await raw(h, 'POST', '/v2/wrong/blobs/uploads/');
    const loc = start.headers.location as string;
    const wrong = sha('something else');
    const r = await raw(h, 'PUT', `${loc}?digest=${wrong}`, {}, data);
    assert.equal(r.status, 400);
    assert.equal(errorCode(r), 'DIGEST_INVALID');
    assert.equal((await raw(h, 'HEAD', `/v2/wrong/blobs/${wrong}`)).status, 404);
    assert.equal((await raw(h, 'HEAD', `/v2/wrong/blobs/${sha(data)}`)).status, 404);
    const malformed = await raw(h, 'POST', '/v2/wrong/blobs/uploads/?digest=sha256:abc', {}, data);
    assert.equal(malformed.status, 400);
    assert.equal(errorCode(malformed), 'DIGEST_INVALID');
    const single = await raw(h, 'POST', `/v2/wrong/blobs/uploads/?digest=${wrong}`, {}, data);
    assert.equal(errorCode(single), 'DIGEST_INVALID');
    assert.deepEqual(await hub.blobFiles(), before);
  });

  it('drops a truncated upload chunk and keeps the upload where it was', async () => {
    const start = await raw(h, 'POST', '/v2/truncated/blobs/uploads/');
    const loc = start.headers.location as string;
    await raw(h, 'PATCH', loc, {}, Buffer.alloc(100, 1));
    const before = await hub.blobFiles();
    // Announce 100000 bytes, send 5000, hang up.
    await new Promise<void>((resolve, reject) => {
      const [host, port] = h.split(':') as [string, string];
      const s = connect(Number(port), host, () => {
        s.write(`PUT ${loc}?digest=${sha('x')} HTTP/1.1\r\nHost: ${h}\r\nContent-Length: 100000\r\n\r\n`);
        s.write(Buffer.alloc(5000, 2), () => setTimeout(() => s.destroy(), 100));
      });
      s.on('close', () => resolve());
      s.on('error', reject);
    });
    let range: unknown;
    for (let i = 0; i < 50 && range !== '0-99'; i++) {
      await sleep(20);
      range = (await raw(h, 'GET', loc)).headers.range;
    }
    assert.equal(range, '0-99', 'the upload is back at its last complete chunk');
    assert.deepEqual(await hub.blobFiles(), before);
    const short = await raw(h, 'PATCH', loc, { 'Content-Range': '100-199', 'Content-Length': 100 }, Buffer.alloc(100, 3));
    assert.equal(short.status, 202, 'the same chunk can be sent again');
  });

  it('stores and serves manifests by tag and digest, with their media type and digest', async () => {
    const img = makeImage();
    const put = await pushImage(h, 'lib/app', 'v1', img);
    assert.equal(put.status, 201, put.body.toString());
    assert.equal(put.headers['docker-content-digest'], img.digest);
    assert.equal(put.headers.location, `/v2/lib/app/manifests/${img.digest}`);
    for (const ref of ['v1', img.digest]) {
      const get = await raw(h, 'GET', `/v2/lib/app/manifests/${ref}`, { Accept: OCI_MANIFEST });
      assert.equal(get.status, 200);
      assert.deepEqual(get.body, img.manifest);
      assert.equal(get.headers['content-type'], OCI_MANIFEST);
      assert.equal(get.headers['docker-content-digest'], img.digest);
      const head = await raw(h, 'HEAD', `/v2/lib/app/manifests/${ref}`);
      assert.equal(head.headers['content-length'], String(img.manifest.length));
    }
    // Docker schema 2 manifest and manifest list, an OCI index, an artifact with an empty config.
    const docker = Buffer.from(
      JSON.parse(img.manifest.toString()).layers &&
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha(img.config), size: img.config.length },
          layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha(img.layer), size: img.layer.length }],
        }),
    );
    const d = await raw(h, 'PUT', '/v2/lib/app/manifests/docker', { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' }, docker);
    assert.equal(d.status, 201, d.body.toString());
    const list = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
        manifests: [{ mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: sha(docker), size: docker.length, platform: { architecture: 'amd64', os: 'linux' } }],
      }),
    );
    const l = await raw(h, 'PUT', '/v2/lib/app/manifests/list', { 'Content-Type': 'application/vnd.docker.distribution.manifest.list.v2+json' }, list);
    assert.equal(l.status, 201, l.body.toString());
    assert.equal((await raw(h, 'GET', '/v2/lib/app/manifests/list')).headers['content-type'], 'application/vnd.docker.distribution.manifest.list.v2+json');
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: img.digest, size: img.manifest.length }] }));
    assert.equal((await raw(h, 'PUT', '/v2/lib/app/manifests/index', { 'Content-Type': OCI_INDEX }, index)).status, 201);
    const empty = await pushBlob(h, 'lib/app', '{}');
    const artifact = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example+type', config: { mediaType: OCI_EMPTY, digest: empty, size: 2 }, layers: [] }),
    );
    assert.equal((await raw(h, 'PUT', '/v2/lib/app/manifests/artifact', { 'Content-Type': OCI_MANIFEST }, artifact)).status, 201);
  });

  it('refuses bad manifests with the spec error and stores nothing', async () => {
    const img = makeImage();
    await pushBlob(h, 'bad/m', img.config);
    await pushBlob(h, 'bad/m', img.layer);
    const cases: [string, Record<string, string>, Buffer | string, number, string][] = [
      ['not json', { 'Content-Type': OCI_MANIFEST }, '{"schemaVersion": 2,', 400, 'MANIFEST_INVALID'],
      ['a JSON array', { 'Content-Type': OCI_MANIFEST }, '[]', 400, 'MANIFEST_INVALID'],
      ['schema 1', { 'Content-Type': OCI_MANIFEST }, '{"schemaVersion":1}', 400, 'MANIFEST_INVALID'],
      ['Content-Type disagrees', { 'Content-Type': OCI_INDEX }, img.manifest, 400, 'MANIFEST_INVALID'],
      ['a bad descriptor digest', { 'Content-Type': OCI_MANIFEST }, img.manifest.toString().replace(sha(img.layer), 'sha256:1234'), 400, 'MANIFEST_INVALID'],
      ['a layer the repository lacks', { 'Content-Type': OCI_MANIFEST }, img.manifest.toString().replace(sha(img.layer), sha('absent')), 400, 'MANIFEST_BLOB_UNKNOWN'],
      ['more than 4 MiB', { 'Content-Type': OCI_MANIFEST }, Buffer.alloc(4 * 1024 * 1024 + 1, 0x20), 413, 'SIZE_INVALID'],
    ];
    for (const [what, headers, body, status, code] of cases) {
      const r = await raw(h, 'PUT', '/v2/bad/m/manifests/t', headers, body);
      assert.equal(r.status, status, what);
      assert.equal(errorCode(r), code, what);
    }
    const byWrongDigest = await raw(h, 'PUT', `/v2/bad/m/manifests/${sha('other')}`, { 'Content-Type': OCI_MANIFEST }, img.manifest);
    assert.equal(errorCode(byWrongDigest), 'DIGEST_INVALID');
    const badTag = await raw(h, 'PUT', '/v2/bad/m/manifests/-tag', { 'Content-Type': OCI_MANIFEST }, img.manifest);
    assert.equal(errorCode(badTag), 'MANIFEST_INVALID');
    const childless = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha('no such'), size: 3 }] }));
    const idx = await raw(h, 'PUT', '/v2/bad/m/manifests/t', { 'Content-Type': OCI_INDEX }, childless);
    assert.equal(idx.status, 400);
    assert.equal(errorCode(idx), 'MANIFEST_BLOB_UNKNOWN');
    // A blob of another repository is not this one's.
    const elsewhere = makeImage();
    await pushBlob(h, 'bad/other', elsewhere.layer);
    await pushBlob(h, 'bad/m', elsewhere.config);
    assert.equal(errorCode(await raw(h, 'PUT', '/v2/bad/m/manifests/t', { 'Content-Type': OCI_MANIFEST }, elsewhere.manifest)), 'MANIFEST_BLOB_UNKNOWN');

    const tags = await raw(h, 'GET', '/v2/bad/m/tags/list');
    assert.equal(tags.status, 404, 'no manifest was stored, so the repository does not exist');
    assert.equal(errorCode(tags), 'NAME_UNKNOWN');
    const manifest = await raw(h, 'GET', '/v2/bad/m/manifests/t');
    assert.equal(manifest.status, 404);
    assert.equal(errorCode(manifest), 'MANIFEST_UNKNOWN');
  });

  it('refuses path-like and invalid repository names before touching the disk', async () => {
    const before = await readdir(hub.data, { recursive: true });
    for (const path of [
      '/v2/../x/tags/list',
      '/v2/a/../b/manifests/latest',
      '/v2/a/./b/blobs/uploads/',
      '/v2/%2e%2e/x/blobs/uploads/',
      '/v2/a%2fb/tags/list',
      '/v2/Upper/tags/list',
      '/v2/a//b/tags/list',
      '/v2/-a/tags/list',
      `/v2/${'a'.repeat(256)}/tags/list`,
    ]) {
      const r = await raw(h, path.includes('uploads') ? 'POST' : 'GET', path);
      assert.equal(r.status, 400, path);
      assert.equal(errorCode(r), 'NAME_INVALID', path);
    }
    assert.deepEqual(await readdir(hub.data, { recursive: true }), before);
    assert.equal((await raw(h, 'GET', `/v2/${'a'.repeat(255)}/tags/list`)).status, 404, 'a 255-character name is valid');
  });

  it('pages tags and the catalog with n, last and Link', async () => {
    const img = makeImage();
    for (const t of ['e', 'a', 'c', 'b', 'd']) assert.equal((await pushImage(h, 'paged', t, img)).status, 201);
    const seen: string[] = [];
    let next: string | undefined = '/v2/paged/tags/list?n=2';
    let pages = 0;
    while (next) {
      const r = await raw(h, 'GET', next);
      assert.equal(r.status, 200);
      assert.equal(r.json().name, 'paged');
      seen.push(...(r.json().tags as string[]));
      pages++;
      next = /^<([^>]+)>; rel="next"$/.exec((r.headers.link as string | undefined) ?? '')?.[1];
    }
    assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e']);
    assert.equal(pages, 3);
    assert.deepEqual((await raw(h, 'GET', '/v2/paged/tags/list?last=c')).json().tags, ['d', 'e']);
    assert.deepEqual((await raw(h, 'GET', '/v2/paged/tags/list')).json().tags, ['a', 'b', 'c', 'd', 'e']);
    const badN = await raw(h, 'GET', '/v2/paged/tags/list?n=-1');
    assert.equal(badN.status, 400);

    const cat = await raw(h, 'GET', '/v2/_catalog?n=1');
    assert.equal(cat.json().repositories.length, 1);
    assert.match(cat.headers.link as string, /^<\/v2\/_catalog\?n=1&last=[^>]+>; rel="next"$/);
    const all = (await raw(h, 'GET', '/v2/_catalog')).json().repositories as string[];
    assert.ok(all.includes('paged') && all.includes('lib/app'), all.join(' '));
    assert.deepEqual(all, [...all].sort());
  });

  it('lists referrers, filtered by artifactType, and answers OCI-Subject', async () => {
    const subject = makeImage();
    await pushImage(h, 'refs', 'v1', subject);
    const empty = await pushBlob(h, 'refs', '{}');
    const artifact = (type: string, note: string) =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType: type,
          config: { mediaType: OCI_EMPTY, digest: empty, size: 2 },
          layers: [],
          subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.manifest.length },
          annotations: { note },
        }),
      );
    const sig = artifact('application/vnd.example.sig', 'signature');
    const sbom = artifact('application/vnd.example.sbom', 'sbom');
    for (const a of [sig, sbom]) {
      const r = await raw(h, 'PUT', `/v2/refs/manifests/${sha(a)}`, { 'Content-Type': OCI_MANIFEST }, a);
      assert.equal(r.status, 201);
      assert.equal(r.headers['oci-subject'], subject.digest);
    }
    const all = await raw(h, 'GET', `/v2/refs/referrers/${subject.digest}`);
    assert.equal(all.status, 200);
    assert.equal(all.headers['content-type'], OCI_INDEX);
    const body = all.json();
    assert.equal(body.mediaType, OCI_INDEX);
    assert.deepEqual(
      (body.manifests as { digest: string; artifactType: string; annotations: Record<string, string> }[]).map((m) => [m.digest, m.artifactType, m.annotations.note]).sort(),
      [
        [sha(sig), 'application/vnd.example.sig', 'signature'],
        [sha(sbom), 'application/vnd.example.sbom', 'sbom'],
      ].sort(),
    );
    const filtered = await raw(h, 'GET', `/v2/refs/referrers/${subject.digest}?artifactType=application/vnd.example.sbom`);
    assert.equal(filtered.headers['oci-filters-applied'], 'artifactType');
    assert.deepEqual(filtered.json().manifests.map((m: { digest: string }) => m.digest), [sha(sbom)]);
    const none = await raw(h, 'GET', `/v2/refs/referrers/${sha('unknown subject')}`);
    assert.equal(none.status, 200);
    assert.deepEqual(none.json().manifests, []);
    assert.equal(errorCode(await raw(h, 'GET', '/v2/refs/referrers/sha256:zz')), 'DIGEST_INVALID');
  });

  it('mounts a blob across repositories, and falls back to an upload when the source lacks it', async () => {
    const data = randomBytes(300);
    const digest = await pushBlob(h, 'mount/src', data);
    assert.equal((await raw(h, 'HEAD', `/v2/mount/dst/blobs/${digest}`)).status, 404, 'not visible before the mount');
    const m = await raw(h, 'POST', `/v2/mount/dst/blobs/uploads/?mount=${digest}&from=mount/src`);
    assert.equal(m.status, 201);
    assert.equal(m.headers.location, `/v2/mount/dst/blobs/${digest}`);
    assert.equal(m.headers['docker-content-digest'], digest);
    assert.deepEqual((await raw(h, 'GET', `/v2/mount/dst/blobs/${digest}`)).body, data);
    const missing = await raw(h, 'POST', `/v2/mount/dst/blobs/uploads/?mount=${sha('missing')}&from=mount/src`);
    assert.equal(missing.status, 202);
    assert.match(missing.headers.location as string, /^\/v2\/mount\/dst\/blobs\/uploads\//);
    assert.equal(errorCode(await raw(h, 'POST', `/v2/mount/dst/blobs/uploads/?mount=${digest}&from=../src`)), 'NAME_INVALID');
  });

  it('keeps every blob and one whole manifest when the same blob and tag are pushed concurrently', async () => {
    const data = randomBytes(200_000);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => pushBlob(h, i % 2 ? 'race/a' : 'race/b', data)));
    assert.ok(results.every((d) => d === sha(data)));
    for (const repo of ['race/a', 'race/b']) assert.equal(sha((await raw(h, 'GET', `/v2/${repo}/blobs/${sha(data)}`)).body), sha(data));
    const images = Array.from({ length: 6 }, () => makeImage());
    const puts = await Promise.all(images.map((img) => pushImage(h, 'race/a', 'latest', img)));
    assert.ok(puts.every((p) => p.status === 201), puts.map((p) => p.status).join());
    const got = await raw(h, 'GET', '/v2/race/a/manifests/latest');
    const winner = images.find((img) => img.digest === got.headers['docker-content-digest']);
    assert.ok(winner, 'the tag points at one of the pushed manifests');
    assert.deepEqual(got.body, winner.manifest);
    for (const img of images) assert.equal((await raw(h, 'GET', `/v2/race/a/manifests/${img.digest}`)).status, 200);
    assert.equal((await raw(h, 'GET', '/v2/_catalog')).status, 200);
    assert.deepEqual(
      (await readdir(`${hub.data}/tmp`)).filter((f) => !f.startsWith('.')),
      [],
      'no temporary file is left',
    );
  });

  it('deletes tags, manifests and blobs', async () => {
    const img = makeImage();
    await pushImage(h, 'del', 'one', img);
    await raw(h, 'PUT', '/v2/del/manifests/two', { 'Content-Type': OCI_MANIFEST }, img.manifest);
    assert.equal((await raw(h, 'DELETE', '/v2/del/manifests/one')).status, 202);
    assert.equal((await raw(h, 'GET', '/v2/del/manifests/one')).status, 404);
    assert.equal((await raw(h, 'GET', '/v2/del/manifests/two')).status, 200, 'the other tag stays');
    assert.equal((await raw(h, 'DELETE', `/v2/del/manifests/${img.digest}`)).status, 202);
    const gone = await raw(h, 'GET', '/v2/del/manifests/two');
    assert.equal(gone.status, 404);
    assert.equal(errorCode(gone), 'MANIFEST_UNKNOWN');
    assert.equal(errorCode(await raw(h, 'DELETE', `/v2/del/manifests/${img.digest}`)), 'MANIFEST_UNKNOWN');
    assert.equal((await raw(h, 'DELETE', `/v2/del/blobs/${sha(img.layer)}`)).status, 202);
    assert.equal((await raw(h, 'HEAD', `/v2/del/blobs/${sha(img.layer)}`)).status, 404);
    assert.equal(errorCode(await raw(h, 'DELETE', `/v2/del/blobs/${sha(img.layer)}`)), 'BLOB_UNKNOWN');
  });
});

describe('gantry hub serve: restarts, limits and configuration', () => {
  it('resumes an upload after the hub restarts', async () => {
    const first = await HubProcess.start();
    try {
      const data = randomBytes(64 * 1024);
      const start = await raw(first.host, 'POST', '/v2/resume/blobs/uploads/');
      const loc = start.headers.location as string;
      await raw(first.host, 'PATCH', loc, { 'Content-Range': '0-32767' }, data.subarray(0, 32768));
      assert.equal(await first.stop(), 0, 'the hub stops cleanly on SIGTERM');
      const second = await HubProcess.start({ data: first.data });
      try {
        const status = await raw(second.host, 'GET', loc);
        assert.equal(status.status, 204);
        assert.equal(status.headers.range, '0-32767');
        const put = await raw(second.host, 'PUT', `${loc}?digest=${sha(data)}`, { 'Content-Range': '32768-65535' }, data.subarray(32768));
        assert.equal(put.status, 201, put.body.toString());
        assert.deepEqual((await raw(second.host, 'GET', `/v2/resume/blobs/${sha(data)}`)).body, data);
      } finally {
        await second.destroy(); // its own directory; the data is the first's
      }
    } finally {
      await first.destroy();
    }
  });

  it('enforces body limits and the per-client rate limit', async () => {
    const hub = await HubProcess.start({
      config: { http: { limits: { maxblobsize: '1KiB', maxmanifestsize: 512 } }, ratelimit: { requestspersecond: 2, burst: 6 } },
    });
    try {
      const h = hub.host;
      const big = await raw(h, 'POST', `/v2/lim/blobs/uploads/?digest=${sha(Buffer.alloc(2000))}`, {}, Buffer.alloc(2000));
      assert.equal(big.status, 413);
      assert.equal(errorCode(big), 'SIZE_INVALID');
      const manifest = await raw(h, 'PUT', '/v2/lim/manifests/t', { 'Content-Type': OCI_MANIFEST }, Buffer.alloc(600, 0x20));
      assert.equal(manifest.status, 413);
      assert.deepEqual(await hub.blobFiles(), []);
      let limited;
      for (let i = 0; i < 10 && !limited; i++) {
        const r = await raw(h, 'GET', '/v2/');
        if (r.status === 429) limited = r;
      }
      assert.ok(limited, 'a burst beyond the limit is refused');
      assert.equal(errorCode(limited), 'TOOMANYREQUESTS');
      assert.match(limited.headers['retry-after'] as string, /^\d+$/);
    } finally {
      await hub.destroy();
    }
  });

  it('turns on token authentication when the config has an auth section', async () => {
    const hub = await HubProcess.start({ config: { auth: { token: { realm: '/token' } } } });
    try {
      const r = await raw(hub.host, 'GET', '/v2/');
      assert.equal(r.status, 401);
      assert.equal(errorCode(r), 'UNAUTHORIZED');
      assert.match(r.headers['www-authenticate'] as string, /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token"/);
      assert.equal((await raw(hub.host, 'POST', '/v2/x/blobs/uploads/')).status, 401);
    } finally {
      await hub.destroy();
    }
  });

  it('refuses to start on a bad configuration, naming the key', async () => {
    await assert.rejects(HubProcess.start({ config: { http: { limitz: {} } } }), /unknown key http\.limitz/);
    await assert.rejects(HubProcess.start({ config: { http: { timeouts: { idle: 'soon' } } } }), /http\.timeouts\.idle/);
  });
});
