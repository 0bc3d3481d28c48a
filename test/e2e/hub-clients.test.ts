/**
 * Real clients against `gantry hub serve`: gantry push and pull (same image ID and digest),
 * skopeo copy in and out (manifest bytes kept), inspect, list-tags and delete; and the hub
 * over HTTPS with a certificate skopeo verifies.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxSandbox, destroyWithContainers } from '../support/containers.js';
import { needsRoot, runCommand, type RunOptions, Sandbox } from '../support/harness.js';
import { HubProcess, makeImage, sha } from '../support/hub.js';

const env: RunOptions = { env: { GANTRY_DAEMON_CONFIG: '/nonexistent', DOCKER_CONFIG: '/nonexistent' } };

async function skopeo(args: string[]): Promise<string> {
  const r = await runCommand('skopeo', args);
  if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe('gantry hub serve with real clients', { skip: needsRoot }, () => {
  let hub: HubProcess;
  let src: Sandbox;
  let dst: Sandbox;
  let tmp: string;
  before(async () => {
    [hub, src, dst, tmp] = await Promise.all([HubProcess.start(), busyboxSandbox('gantry-e2e-hubsrc-'), Sandbox.create('gantry-e2e-hubdst-'), mkdtemp('/var/tmp/gantry-hub-clients-')]);
  });
  after(async () => {
    await Promise.all([hub?.destroy(), destroyWithContainers(src), destroyWithContainers(dst), tmp && rm(tmp, { recursive: true, force: true })]);
  });

  it('takes a gantry push and gives it back to gantry pull with the same ID and digest', async () => {
    const name = `${hub.host}/library/busybox:1`;
    await src.ok(['tag', 'busybox', name], env);
    const push = await src.ok(['push', name], env);
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)?.[1];
    assert.ok(digest, push.stdout);
    const head = await hub.fetch('/v2/library/busybox/manifests/1', { method: 'HEAD' });
    assert.equal(head.headers.get('docker-content-digest'), digest);
    const again = await src.ok(['push', name], env);
    assert.match(again.stdout, /Layer already exists/);

    const pull = await dst.ok(['pull', name], env);
    assert.match(pull.stdout, new RegExp(`Digest: ${digest}`));
    const id = async (sb: Sandbox, ref: string) => (await sb.ok(['image', 'inspect', '-f', '{{.Id}}', ref], env)).stdout.trim();
    assert.equal(await id(dst, name), await id(src, 'busybox'));
  });

  it('takes skopeo copy in, and gives the same manifest bytes to skopeo copy out, inspect and list-tags', async () => {
    const archive = join(tmp, 'busybox.tar');
    await src.ok(['save', '-o', archive, 'busybox'], env);
    await skopeo(['copy', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${hub.host}/sk/busybox:2`]);
    await skopeo(['copy', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${hub.host}/sk/busybox:3`]);
    const inspect = JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${hub.host}/sk/busybox:2`]));
    assert.equal(inspect.Os, 'linux');
    assert.equal(inspect.Layers.length, 1);
    const tags = JSON.parse(await skopeo(['list-tags', '--tls-verify=false', `docker://${hub.host}/sk/busybox`]));
    assert.deepEqual(tags.Tags, ['2', '3']);

    const out = join(tmp, 'out');
    await skopeo(['copy', '--src-tls-verify=false', `docker://${hub.host}/sk/busybox:2`, `dir:${out}`]);
    const manifest = await readFile(join(out, 'manifest.json'));
    assert.equal(sha(manifest), inspect.Digest, 'the manifest comes back byte for byte');
    const layer = await readFile(join(out, (inspect.Layers[0] as string).replace('sha256:', '')));
    assert.equal(sha(layer), inspect.Layers[0]);
  });

  it('deletes with skopeo delete', async () => {
    await skopeo(['delete', '--tls-verify=false', `docker://${hub.host}/sk/busybox:3`]);
    const r = await runCommand('skopeo', ['inspect', '--tls-verify=false', `docker://${hub.host}/sk/busybox:3`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /manifest unknown/);
    // The delete was by digest: the other tag of the same manifest went with it, as in distribution.
    const tags = JSON.parse(await skopeo(['list-tags', '--tls-verify=false', `docker://${hub.host}/sk/busybox`]));
    assert.deepEqual(tags.Tags, []);
  });
});

describe('gantry hub serve over HTTPS', () => {
  let hub: HubProcess;
  let dir: string;
  before(async () => {
    dir = await mkdtemp('/var/tmp/gantry-hub-tls-');
    const r = await runCommand('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    await mkdir(join(dir, 'certs'));
    await copyFile(join(dir, 'cert.pem'), join(dir, 'certs', 'ca.crt'));
    hub = await HubProcess.start({ config: { http: { tls: { certificate: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } } } });
  });
  after(async () => {
    await hub?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the API on https with the configured certificate, verified by skopeo', async () => {
    assert.match(hub.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const layout = join(dir, 'oci');
    // A small OCI layout made here goes in over HTTPS.
    const img = makeImage();
    await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
    for (const b of [img.config, img.layer, img.manifest]) await writeFile(join(layout, 'blobs', 'sha256', sha(b).slice(7)), b);
    await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(
      join(layout, 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.digest, size: img.manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }),
    );
    await skopeo(['copy', '--dest-cert-dir', join(dir, 'certs'), `oci:${layout}:v1`, `docker://${hub.host}/tls/app:v1`]);
    const inspect = JSON.parse(await skopeo(['inspect', '--cert-dir', join(dir, 'certs'), '--raw', `docker://${hub.host}/tls/app:v1`]));
    // skopeo recompresses the (random, not really gzip) layer on the way, so only its shape is known.
    assert.equal(inspect.schemaVersion, 2);
    assert.equal(inspect.layers.length, 1);
    const tags = JSON.parse(await skopeo(['list-tags', '--cert-dir', join(dir, 'certs'), `docker://${hub.host}/tls/app`]));
    assert.deepEqual(tags.Tags, ['v1']);
    // Without the CA, verification fails: it really is TLS with that certificate.
    const r = await runCommand('skopeo', ['inspect', '--raw', `docker://${hub.host}/tls/app:v1`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /certificate/);
  });
});
