/**
 * The hub's web API (docs/dev/hub-api.md) end to end, against `gantry hub serve`: repositories
 * and their metadata, stars, pull counts after `gantry pull`, tags and layers of an image pushed
 * with `gantry push`, the three searches (ranking, filters, odd queries, `gantry search`),
 * outgoing webhooks (Docker Hub's payload, retries, delivery history) — on a hub without
 * accounts — and sessions, CSRF, visibility and organisations on a hub with accounts.
 *
 * Why: the UI is built against this contract, and `gantry search`/`docker search` against the
 * v1 search; only the real binary shows that counts move on real pulls, that a push fires its
 * webhooks without waiting for them, and that a missing CSRF token changes nothing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { busyboxSandbox, destroyWithContainers, pollUntil } from '../support/containers.js';
import { HubProcess, makeImage, pushImage } from '../support/hub.js';
import { GANTRY, needsRoot, runCommand, type RunOptions, Sandbox } from '../support/harness.js';

const env: RunOptions = { env: { GANTRY_DAEMON_CONFIG: '/nonexistent', DOCKER_CONFIG: '/nonexistent' } };

/** A webhook receiver on 127.0.0.1 that fails the first `failures` requests with 500. */
async function receiver(failures = 0): Promise<{ url: string; bodies: unknown[]; hits: () => number; close: () => Promise<void> }> {
  const bodies: unknown[] = [];
  let hits = 0;
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      hits++;
      if (hits <= failures) {
        res.writeHead(500).end('not yet');
        return;
      }
      bodies.push(JSON.parse(data));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    hits: () => hits,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('the hub web API without accounts', { skip: needsRoot }, () => {
  let hub: HubProcess;
  let src: Sandbox;
  let dst: Sandbox;
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json }> => {
    const res = await hub.fetch(path, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const ok = async (method: string, path: string, body?: unknown): Promise<Json> => {
    const r = await api(method, path, body);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  before(async () => {
    hub = await HubProcess.start({ config: { webhooks: { retrybase: '100ms' } } });
    [src, dst] = await Promise.all([busyboxSandbox('gantry-e2e-hub-api-src-'), Sandbox.create('gantry-e2e-hub-api-dst-')]);
  });
  after(async () => {
    await hub?.destroy();
    await Promise.all([destroyWithContainers(src), destroyWithContainers(dst)]);
  });

  it('fires a webhook with Docker Hub payload on gantry push, then shows tags, layers and pull counts', async () => {
    const rx = await receiver();
    try {
      const created = await ok('POST', '/api/repositories', { namespace: 'library', name: 'busybox', description: 'the box' });
      assert.equal(created.name, 'busybox');
      assert.equal((await api('POST', '/api/repositories', { namespace: 'library', name: 'busybox' })).status, 409);
      const hook = await ok('POST', '/api/repositories/library/busybox/webhooks', { name: 'ci', url: rx.url });
      const ref = `${hub.host}/library/busybox:1`;
      await src.ok(['tag', 'busybox', ref], env);
      const push = await src.ok(['push', ref], env);
      const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)?.[1];
      assert.ok(digest, push.stdout);

      await pollUntil('the webhook delivery', async () => rx.bodies.length > 0, 10_000);
      const payload = rx.bodies[0] as Json;
      assert.equal(payload.push_data.tag, '1');
      assert.equal(typeof payload.push_data.pushed_at, 'number');
      assert.equal(payload.repository.repo_name, 'library/busybox');
      assert.equal(payload.repository.namespace, 'library');
      assert.equal(payload.repository.name, 'busybox');
      assert.equal(payload.repository.status, 'Active');
      assert.equal(payload.repository.description, 'the box');
      assert.equal(payload.repository.is_private, false);
      assert.match(payload.callback_url, /^http:\/\/127\.0\.0\.1:\d+\//);
      const deliveries = await ok('GET', `/api/repositories/library/busybox/webhooks/${hook.id}/deliveries`);
      assert.equal(deliveries[0].status, 'delivered');
      assert.equal(deliveries[0].attempts, 1);

      const tags = await ok('GET', '/api/repositories/library/busybox/tags');
      assert.equal(tags.length, 1);
      assert.equal(tags[0].name, '1');
      assert.equal(tags[0].digest, digest);
      assert.deepEqual(tags[0].platforms, [`linux/${process.arch === 'arm64' ? 'arm64' : 'amd64'}`]);
      assert.ok(tags[0].size > 100_000, `size ${tags[0].size}`);
      assert.ok(Date.now() - Date.parse(tags[0].pushed_at) < 120_000);

      const layers = await ok('GET', '/api/repositories/library/busybox/tags/1/layers');
      assert.ok(layers.layers.length >= 1);
      assert.ok(layers.history.length >= 1);
      const made = layers.history.filter((h: Json) => !h.empty_layer);
      assert.equal(made.length, layers.layers.length);
      assert.deepEqual(
        made.map((h: Json) => h.size),
        layers.layers.map((l: Json) => l.size),
      );

      // Two pulls are two manifest GETs.
      assert.equal((await ok('GET', '/api/repositories/library/busybox')).pull_count, 0);
      await dst.ok(['pull', ref], env);
      await dst.ok(['rmi', ref], env);
      await dst.ok(['pull', ref], env);
      const repo = await ok('GET', '/api/repositories/library/busybox');
      assert.equal(repo.pull_count, 2);
      assert.ok(repo.last_pushed);
      assert.equal(repo.can_edit, true);
      assert.equal(repo.pull_command, `gantry pull ${hub.host}/library/busybox`);
    } finally {
      await rx.close();
    }
  });

  it('retries a failing webhook receiver and records each attempt', async () => {
    const rx = await receiver(2);
    try {
      await ok('POST', '/api/repositories', { namespace: 'hooks', name: 'retry' });
      const hook = await ok('POST', '/api/repositories/hooks/retry/webhooks', { name: 'flaky', url: rx.url });
      assert.equal((await pushImage(hub.host, 'hooks/retry', 'v1', makeImage())).status, 201);
      const done = await pollUntil(
        'three attempts',
        async () => {
          const d = await ok('GET', `/api/repositories/hooks/retry/webhooks/${hook.id}/deliveries`);
          return d[0]?.status === 'delivered' ? d : undefined;
        },
        15_000,
      );
      assert.equal(done[0].attempts, 3);
      assert.equal(done[0].response_status, 200);
      assert.equal(rx.hits(), 3);
      assert.equal(rx.bodies.length, 1);
      assert.equal((rx.bodies[0] as Json).push_data.tag, 'v1');
      assert.equal((await api('POST', '/api/repositories/hooks/retry/webhooks', { url: 'ftp://x/' })).status, 400);
    } finally {
      await rx.close();
    }
  });

  it('ranks search results by name match, then stars, then pulls; filters; v1 and v2 shapes; gantry search', async () => {
    await ok('POST', '/api/repositories', { namespace: 'n1', name: 'zeta' });
    await ok('POST', '/api/repositories', { namespace: 'n2', name: 'zetabox' });
    await ok('POST', '/api/repositories', { namespace: 'n3', name: 'big-zeta-pulled' });
    await ok('POST', '/api/repositories', { namespace: 'n4', name: 'big-zeta-starred' });
    await ok('POST', '/api/repositories', { namespace: 'n5', name: 'other', description: 'all about Zeta' });
    await ok('POST', '/api/repositories', { namespace: 'n6', name: 'unrelated', description: 'nothing' });
    await ok('PUT', '/api/repositories/n4/big-zeta-starred/star');
    const img = makeImage();
    await pushImage(hub.host, 'n3/big-zeta-pulled', 'latest', img);
    assert.equal((await hub.fetch('/v2/n3/big-zeta-pulled/manifests/latest', { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status, 200);
    // A HEAD is no pull.
    await hub.fetch('/v2/n3/big-zeta-pulled/manifests/latest', { method: 'HEAD' });

    const r = await ok('GET', '/api/search?q=zeta');
    assert.deepEqual(
      r.results.map((x: Json) => `${x.namespace}/${x.name}`),
      ['n1/zeta', 'n2/zetabox', 'n4/big-zeta-starred', 'n3/big-zeta-pulled', 'n5/other'],
    );
    assert.equal(r.count, 5);
    assert.equal(r.results[3].pull_count, 1);
    assert.equal(r.results[2].star_count, 1);
    assert.deepEqual((await ok('GET', '/api/search?q=zeta&stars=1')).results.map((x: Json) => x.name), ['big-zeta-starred']);
    assert.deepEqual((await ok('GET', '/api/search?q=box&is_official=true')).results.map((x: Json) => `${x.namespace}/${x.name}`), ['library/busybox']);
    const paged = await ok('GET', '/api/search?q=zeta&page=2&page_size=2');
    assert.deepEqual(paged.results.map((x: Json) => x.name), ['big-zeta-starred', 'big-zeta-pulled']);

    const v2 = await ok('GET', '/v2/search/repositories?query=zeta&page_size=2');
    assert.equal(v2.count, 5);
    assert.deepEqual(v2.results.map((x: Json) => x.repo_name), ['n1/zeta', 'n2/zetabox']);
    assert.match(v2.next, /page=2/);
    assert.equal(v2.previous, null);
    const v1 = await ok('GET', '/v1/search?q=zeta&n=3');
    assert.equal(v1.num_results, 5);
    assert.equal(v1.results.length, 3);
    assert.equal(v1.results[0].name, 'n1/zeta');

    const cli = await src.ok(['search', `${hub.host}/zeta`, '--format', '{{.Name}} {{.StarCount}}'], env);
    assert.deepEqual(cli.stdout.trim().split('\n'), ['n1/zeta 0', 'n2/zetabox 0', 'n4/big-zeta-starred 1', 'n3/big-zeta-pulled 0', 'n5/other 0']);
  });

  it('answers odd search queries with 200 and sane results', async () => {
    for (const q of ['%', '_', "'", '"', '"><script>alert(1)</script>', '\\', 'ü日本', 'x'.repeat(2048), "' OR 1=1 --", '%25']) {
      const r = await api('GET', `/api/search?q=${encodeURIComponent(q)}`);
      assert.equal(r.status, 200, q);
      assert.equal(r.body.count, 0, `q=${q.slice(0, 20)}: ${JSON.stringify(r.body.results)}`);
      assert.equal((await api('GET', `/v1/search?q=${encodeURIComponent(q)}`)).status, 200);
      assert.equal((await api('GET', `/v2/search/repositories?query=${encodeURIComponent(q)}`)).status, 200);
    }
    // `_` is no wildcard: it matches only names with an underscore (none) — and `-` literally.
    assert.equal((await ok('GET', '/api/search?q=big-zeta')).count, 2);
    assert.equal((await api('GET', '/api/search?q=zeta&page=abc')).status, 400);
  });

  it('returns HTML in descriptions verbatim, edits, stars, deletes a tag and a repository', async () => {
    const html = '<img src=x onerror=alert(1)>"><script>alert(2)</script>';
    const patched = await ok('PATCH', '/api/repositories/n1/zeta', { description: html, full_description: `# Title\n\n${html}` });
    assert.equal(patched.description, html);
    const got = await ok('GET', '/api/repositories/n1/zeta');
    assert.equal(got.description, html);
    assert.equal(got.full_description, `# Title\n\n${html}`);
    assert.equal((await api('PATCH', '/api/repositories/n1/zeta', { is_private: true })).status, 400); // no accounts: no private repositories

    assert.deepEqual(await ok('PUT', '/api/repositories/n1/zeta/star'), { star_count: 1, starred: true });
    assert.deepEqual(await ok('PUT', '/api/repositories/n1/zeta/star'), { star_count: 1, starred: true });
    assert.equal((await ok('GET', '/api/repositories/n1/zeta')).starred, true);
    assert.deepEqual(await ok('DELETE', '/api/repositories/n1/zeta/star'), { star_count: 0, starred: false });

    assert.equal((await api('DELETE', '/api/repositories/n3/big-zeta-pulled/tags/latest')).status, 204);
    assert.deepEqual(await ok('GET', '/api/repositories/n3/big-zeta-pulled/tags'), []);
    assert.equal((await hub.fetch('/v2/n3/big-zeta-pulled/manifests/latest')).status, 404);
    assert.equal((await api('DELETE', '/api/repositories/n3/big-zeta-pulled/tags/latest')).status, 404);

    assert.equal((await api('DELETE', '/api/repositories/n3/big-zeta-pulled')).status, 204);
    assert.equal((await api('GET', '/api/repositories/n3/big-zeta-pulled')).status, 404);
    assert.equal((await ok('GET', '/api/search?q=big-zeta')).count, 1);
    assert.equal((await api('GET', '/api/repositories/n1/..%2f..')).status, 400);
    assert.equal((await api('GET', '/api/nothing')).status, 404);
    // A page of another site cannot change a loopback hub.
    assert.equal((await api('PUT', '/api/repositories/n1/zeta/star', undefined, { origin: 'http://evil.example' })).status, 403);
    assert.equal((await ok('GET', '/api/repositories/n1/zeta')).star_count, 0);
  });
});

describe('the hub web API with accounts', { skip: needsRoot }, () => {
  let hub: HubProcess;
  let data: string;
  const PW = { alice: 'alice-pw-123', bob: 'bob-pw-1234' };
  const basic = (who: keyof typeof PW) => `Basic ${Buffer.from(`${who}:${PW[who]}`).toString('base64')}`;
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; headers: Headers }> => {
    const res = await hub.fetch(path, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };

  before(async () => {
    data = `${await mkdtemp('/var/tmp/gantry-e2e-hub-api-acc-')}/data`;
    for (const who of ['alice', 'bob'] as const) {
      const r = await runCommand(GANTRY, ['hub', 'user', 'create', who, '--password-stdin', '--data', data], { input: `${PW[who]}\n` });
      assert.equal(r.code, 0, r.stderr);
    }
    hub = await HubProcess.start({ data, config: { auth: {} } });
  });
  after(async () => {
    await hub?.destroy();
    if (data) await rm(data.replace(/\/data$/, ''), { recursive: true, force: true });
  });

  it('signs in with a session cookie and checks the CSRF token of every change', async () => {
    assert.deepEqual((await api('GET', '/api/session')).body, { username: null, csrfToken: null, accounts: true });
    assert.equal((await api('POST', '/api/session', { username: 'alice', password: 'wrong' })).status, 401);
    const signin = await api('POST', '/api/session', { username: 'alice', password: PW.alice });
    assert.equal(signin.status, 200);
    const setCookie = signin.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^hub_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/);
    const cookie = setCookie.split(';')[0] as string;
    const csrf = signin.body.csrfToken as string;
    assert.equal((await api('GET', '/api/session', undefined, { cookie })).body.username, 'alice');

    const create = { namespace: 'alice', name: 'secret', is_private: true, description: 'mine' };
    assert.equal((await api('POST', '/api/repositories', create, { cookie })).status, 403);
    const wrong = await api('POST', '/api/repositories', create, { cookie, 'x-csrf-token': 'nope' });
    assert.equal(wrong.status, 403);
    assert.deepEqual(wrong.body, { code: 'DENIED', message: 'CSRF token missing or wrong' });
    assert.equal((await api('GET', '/api/repositories/alice/secret', undefined, { cookie })).status, 404); // nothing changed
    const made = await api('POST', '/api/repositories', create, { cookie, 'x-csrf-token': csrf });
    assert.equal(made.status, 201);
    assert.equal(made.body.is_private, true);

    // Private: invisible to anonymous and to bob, in lookups and in search.
    assert.equal((await api('GET', '/api/repositories/alice/secret')).status, 404);
    assert.equal((await api('GET', '/api/repositories/alice/secret', undefined, { authorization: basic('bob') })).status, 404);
    assert.equal((await api('GET', '/api/search?q=secret')).body.count, 0);
    assert.equal((await api('GET', '/api/search?q=secret', undefined, { cookie })).body.count, 1);
    assert.equal((await api('GET', '/api/repositories?namespace=me', undefined, { cookie })).body.length, 1);

    // Public: bob may read and star, not edit; a wrong password is a 401.
    assert.equal((await api('PATCH', '/api/repositories/alice/secret', { is_private: false }, { cookie, 'x-csrf-token': csrf })).status, 200);
    assert.equal((await api('GET', '/api/repositories/alice/secret')).body.is_private, false);
    assert.equal((await api('PATCH', '/api/repositories/alice/secret', { description: 'bob was here' }, { authorization: basic('bob') })).status, 403);
    assert.equal((await api('GET', '/api/repositories/alice/secret', undefined, { authorization: 'Basic Ym9iOm5vcGU=' })).status, 401);
    assert.equal((await api('PUT', '/api/repositories/alice/secret/star', undefined, { authorization: basic('bob') })).body.star_count, 1);
    assert.equal((await api('PUT', '/api/repositories/alice/secret/star', undefined, { cookie, 'x-csrf-token': csrf })).body.star_count, 2);
    assert.equal((await api('PUT', '/api/repositories/alice/secret/star')).status, 401);
    assert.equal((await api('POST', '/api/repositories', { namespace: 'alice', name: 'bobs' }, { authorization: basic('bob') })).status, 403);
    const got = await api('GET', '/api/repositories/alice/secret', undefined, { cookie });
    assert.equal(got.body.description, 'mine');
    assert.equal(got.body.starred, true);
    assert.equal(got.body.can_edit, true);

    // Organisations.
    assert.equal((await api('POST', '/api/orgs', { name: 'acme' }, { cookie, 'x-csrf-token': csrf })).status, 201);
    assert.equal((await api('POST', '/api/orgs/acme/members', { username: 'bob', role: 'member', pull_only: true }, { cookie, 'x-csrf-token': csrf })).status, 201);
    assert.deepEqual((await api('GET', '/api/orgs/acme/members', undefined, { authorization: basic('bob') })).body, [
      { username: 'alice', role: 'owner', pull_only: false },
      { username: 'bob', role: 'member', pull_only: true },
    ]);
    assert.deepEqual((await api('GET', '/api/orgs', undefined, { authorization: basic('bob') })).body, [{ name: 'acme', role: 'member' }]);
    assert.equal((await api('POST', '/api/orgs/acme/members', { username: 'bob', role: 'owner' }, { authorization: basic('bob') })).status, 403);
    assert.equal((await api('DELETE', '/api/orgs/acme/members/alice', undefined, { cookie, 'x-csrf-token': csrf })).status, 409); // the last owner stays

    // Sign out ends the session.
    assert.equal((await api('DELETE', '/api/session', undefined, { cookie, 'x-csrf-token': csrf })).status, 204);
    assert.equal((await api('GET', '/api/session', undefined, { cookie })).body.username, null);
  });
});
