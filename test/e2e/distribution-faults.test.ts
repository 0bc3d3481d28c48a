/**
 * `gantry pull` when the registry or the network misbehaves, end to end: the real binary pulls
 * through a {@link FaultProxy} in front of Debian's docker-registry, which drops a layer
 * download halfway (the pull resumes with a Range request), answers 403/404/429 with
 * distribution error bodies (one Docker-worded error, exit 1 — 125 from `run` — and nothing
 * stored), rate-limits with Retry-After (honoured), closes a connection after the headers or
 * answers 503 (retried; one network error when that persists), and redirects blob downloads to
 * storage under another host name (which must not receive the registry's credentials).
 *
 * Why: these paths of the transport and of the resumable download are invisible when the
 * registry behaves, and each one is a failure users meet on real networks and registries.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { destroyWithContainers } from '../support/containers.js';
import { BlobStorage, type FaultAction, FaultProxy } from '../support/fault-proxy.js';
import { needsRoot, type RunOptions, Sandbox } from '../support/harness.js';
import { TestRegistry } from '../support/registry.js';
import { tarOf } from '../support/tarball.js';

/** The digests of an image's config and first layer, as the registry's manifest names them. */
async function blobsOf(reg: TestRegistry, repo: string, tag: string, auth?: string): Promise<{ config: string; layer: string; size: number }> {
  const headers: Record<string, string> = { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' };
  if (auth) headers.authorization = auth;
  const res = await reg.fetch(`/v2/${repo}/manifests/${tag}`, { headers });
  assert.equal(res.status, 200);
  const manifest = (await res.json()) as { config: { digest: string }; layers: { digest: string; size: number }[] };
  const layer = manifest.layers[0];
  assert.ok(layer);
  return { config: manifest.config.digest, layer: layer.digest, size: layer.size };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('gantry pull through a faulty network', { skip: needsRoot }, () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  let src: Sandbox;
  let configDir: string;
  let image: { config: string; layer: string; size: number };
  let sourceId: string;
  const env = (): RunOptions => ({ env: { DOCKER_CONFIG: configDir, GANTRY_DAEMON_CONFIG: '/nonexistent' } });
  const ref = () => `${proxy.host}/faults/img:1`;
  const manifestPath = /^\/v2\/faults\/img\/manifests\/1$/;
  const idOf = async (sb: Sandbox, name: string) => (await sb.ok(['image', 'inspect', '-f', '{{.Id}}', name], env())).stdout.trim();

  /** Runs `fn` with a fresh sandbox, removed afterwards. */
  async function withSandbox(prefix: string, fn: (sb: Sandbox) => Promise<void>): Promise<void> {
    const sb = await Sandbox.create(prefix);
    try {
      await fn(sb);
    } finally {
      await destroyWithContainers(sb);
    }
  }

  before(async () => {
    [reg, src, configDir] = await Promise.all([TestRegistry.start(), Sandbox.create('gantry-e2e-faults-src-'), mkdtemp('/var/tmp/gantry-docker-config-')]);
    proxy = await FaultProxy.start(reg);
    // One layer of 1.5 MiB of incompressible bytes: large enough to be cut halfway.
    const layer = await tarOf([{ name: 'noise', data: randomBytes(1536 << 10) }]);
    const name = `${reg.host}/faults/img:1`;
    await src.ok(['import', '-', name], { ...env(), input: layer });
    await src.ok(['push', name], env());
    image = await blobsOf(reg, 'faults/img', '1');
    sourceId = await idOf(src, name);
  });
  after(async () => {
    await Promise.all([proxy?.stop(), reg?.stop(), destroyWithContainers(src), configDir && rm(configDir, { recursive: true, force: true })]);
  });

  it('resumes a layer download cut halfway with a Range request', async () => {
    proxy.reset();
    const layerPath = new RegExp(`/blobs/${image.layer}$`);
    proxy.inject({ method: 'GET', path: layerPath, times: 1, action: { kind: 'cut-body', fraction: 0.5 } });
    await withSandbox('gantry-e2e-faults-cut-', async (sb) => {
      const pull = await sb.ok(['pull', ref()], env());
      assert.match(pull.stdout, /^Status: Downloaded newer image for /m);
      assert.equal(await idOf(sb, ref()), sourceId);
    });
    const gets = proxy.requests('GET', layerPath);
    assert.equal(gets[0]?.fault, 'cut-body');
    assert.equal(gets[0]?.headers.range, undefined, 'the first download starts at byte 0');
    const ranges = gets.slice(1).map((r) => /^bytes=(\d+)-$/.exec(String(r.headers.range))?.[1]);
    assert.ok(ranges.length > 0 && ranges.every((n) => n !== undefined), `resumed with a Range: ${JSON.stringify(gets.map((r) => r.headers.range))}`);
    const from = Number(ranges[0]);
    assert.ok(from > 0 && from <= image.size / 2, `resumed from byte ${from} of ${image.size}`);
  });

  const refusals: { status: number; code: string; message: string; error: (repo: string) => string }[] = [
    {
      status: 403,
      code: 'DENIED',
      message: 'requested access to the resource is denied',
      error: (repo) => `pull access denied for ${repo}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`,
    },
    {
      status: 404,
      code: 'NAME_UNKNOWN',
      message: 'repository name not known to registry',
      error: (repo) => `pull access denied for ${repo}, repository does not exist or may require 'docker login': name unknown: repository name not known to registry`,
    },
    {
      status: 429,
      code: 'TOOMANYREQUESTS',
      message: 'You have reached your pull rate limit.',
      error: () => 'toomanyrequests: You have reached your pull rate limit.',
    },
  ];
  for (const { status, code, message, error } of refusals) {
    it(`maps a persistent ${status} ${code} to one Docker-worded error and stores nothing`, async () => {
      proxy.reset();
      proxy.inject({ method: 'GET', path: manifestPath, action: { kind: 'status', status, errors: [{ code, message }] } });
      await withSandbox('gantry-e2e-faults-status-', async (sb) => {
        const line = new RegExp(`^Error: ${escape(error(`${proxy.host}/faults/img`))}( \\(hint: .*\\))?\\n$`);
        const pull = await sb.run(['pull', ref()], env());
        assert.equal(pull.code, 1, pull.stderr);
        assert.match(pull.stderr, line);
        const run = await sb.run(['run', '--rm', ref(), 'true'], env());
        assert.equal(run.code, 125, run.stderr);
        assert.match(run.stderr.split('\n').filter((l) => l.startsWith('Error')).join('\n') + '\n', line);
        assert.deepEqual(await sb.storeLeftovers(), [], 'no blob, snapshot or image left');
        assert.equal((await sb.ok(['images', '-q'], env())).stdout, '');
      });
      assert.ok(proxy.requests('GET', manifestPath).length >= 2, 'both commands asked for the manifest');
      assert.equal(proxy.requests('GET', /\/blobs\//).length, 0, 'no blob was asked for');
    });
  }

  it('waits as Retry-After says when rate-limited, then pulls', async () => {
    proxy.reset();
    proxy.inject({
      method: 'GET',
      path: manifestPath,
      times: 2,
      action: { kind: 'status', status: 429, headers: { 'retry-after': '1' }, errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] },
    });
    await withSandbox('gantry-e2e-faults-429-', async (sb) => {
      await sb.ok(['pull', ref()], env());
      assert.equal(await idOf(sb, ref()), sourceId);
    });
    const gets = proxy.requests('GET', manifestPath);
    assert.deepEqual(
      gets.map((r) => r.fault),
      ['status', 'status', undefined],
    );
    for (let i = 1; i < gets.length; i++) {
      const gap = (gets[i]?.at ?? 0) - (gets[i - 1]?.at ?? 0);
      assert.ok(gap >= 900, `retry ${i} came ${gap} ms after the 429 with Retry-After: 1`);
    }
  });

  const transient: { what: string; action: FaultAction }[] = [
    { what: 'a connection closed after the response headers', action: { kind: 'close-after-headers' } },
    { what: 'a 503', action: { kind: 'status', status: 503 } },
  ];
  for (const { what, action } of transient) {
    it(`retries the manifest after ${what}`, async () => {
      proxy.reset();
      proxy.inject({ method: 'GET', path: manifestPath, times: 1, action });
      await withSandbox('gantry-e2e-faults-retry-', async (sb) => {
        await sb.ok(['pull', ref()], env());
        assert.equal(await idOf(sb, ref()), sourceId);
      });
      assert.deepEqual(
        proxy.requests('GET', manifestPath).map((r) => r.fault),
        [action.kind, undefined],
      );
    });
  }

  it('gives up on a manifest whose body always breaks off, with one network error', async () => {
    proxy.reset();
    proxy.inject({ method: 'GET', path: manifestPath, action: { kind: 'close-after-headers' } });
    await withSandbox('gantry-e2e-faults-eof-', async (sb) => {
      const pull = await sb.run(['pull', ref()], env());
      assert.equal(pull.code, 1, pull.stderr);
      assert.equal(pull.stderr, `Error: Get "http://${proxy.host}/v2/faults/img/manifests/1": unexpected EOF\n`);
      assert.deepEqual(await sb.storeLeftovers(), []);
    });
    assert.equal(proxy.requests('GET', manifestPath).length, 4, 'the transport tried four times');
  });
});

describe('gantry pull with blobs redirected to another host', { skip: needsRoot }, () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  let storage: BlobStorage;
  let src: Sandbox;
  let dst: Sandbox;
  let configDir: string;
  const env = (): RunOptions => ({ env: { DOCKER_CONFIG: configDir, GANTRY_DAEMON_CONFIG: '/nonexistent' } });
  const credentials = { user: 'alice', password: 's3cret' };

  before(async () => {
    [reg, src, dst, configDir] = await Promise.all([
      TestRegistry.start({ htpasswd: credentials }),
      Sandbox.create('gantry-e2e-redirect-src-'),
      Sandbox.create('gantry-e2e-redirect-dst-'),
      mkdtemp('/var/tmp/gantry-docker-config-'),
    ]);
    [proxy, storage] = await Promise.all([FaultProxy.start(reg), BlobStorage.start(reg)]);
  });
  after(async () => {
    await Promise.all([
      proxy?.stop(),
      storage?.stop(),
      reg?.stop(),
      destroyWithContainers(src),
      destroyWithContainers(dst),
      configDir && rm(configDir, { recursive: true, force: true }),
    ]);
  });

  it('follows a 307 to blob storage without sending the Authorization header there', async () => {
    const name = `${proxy.host}/private/img:1`;
    await src.ok(['login', '-u', credentials.user, '--password-stdin', proxy.host], { ...env(), input: `${credentials.password}\n` });
    await src.ok(['import', '-', name], { ...env(), input: await tarOf([{ name: 'data', data: randomBytes(64 << 10) }]) });
    await src.ok(['push', name], env());
    const auth = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
    const { config, layer } = await blobsOf(reg, 'private/img', '1', auth);

    proxy.reset();
    proxy.inject({ method: 'GET', path: /^\/v2\/private\/img\/blobs\/sha256:[0-9a-f]{64}$/, action: { kind: 'redirect', location: (path) => storage.url(path.split('/').pop() ?? '') } });
    await dst.ok(['pull', name], env());
    const id = async (sb: Sandbox) => (await sb.ok(['image', 'inspect', '-f', '{{.Id}}', name], env())).stdout;
    assert.equal(await id(dst), await id(src));

    // The registry got the credentials; the storage, under another host name, did not.
    const redirected = proxy.requests('GET', /\/blobs\//);
    assert.ok(redirected.length >= 2 && redirected.every((r) => r.fault === 'redirect' && r.headers.authorization === auth));
    assert.deepEqual(storage.log.map((r) => r.path).sort(), [`/${config}`, `/${layer}`].sort());
    assert.deepEqual(
      storage.log.map((r) => r.headers.authorization),
      [undefined, undefined],
    );
  });
});
