/**
 * The token authorizer and its endpoint over real HTTP: a minimal hub-shaped server on
 * 127.0.0.1 (this file's, standing in for the protocol server) that routes non-/v2/ paths to
 * `handle` and asks `authorize` for every /v2/ request, answering AccessDenied the way the hub
 * does (status, headers, the spec's error body).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AccessDenied, type AccessNeed, type RepositoryAction } from '../access.js';
import { openAccountStore } from './account-store.js';
import { type AuthConfig, parseAuthConfig } from './auth-config.js';
import { signToken } from './jwt.js';
import { createTokenAuthorizer, TokenAuthorizer } from './token-authorizer.js';

const SERVICE = 'hub-test';
const FAST = { ln: 10, r: 8, p: 1 };

interface TokenAnswer {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
  scope?: string;
}

/** What the protocol server would need for a request (a small subset of its routing). */
function needsOf(method: string, path: string): AccessNeed[] {
  if (path === '/v2/') return [{ type: 'base' }];
  if (path === '/v2/_catalog') return [{ type: 'catalog' }];
  const m = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(path);
  if (!m) return [{ type: 'base' }];
  const actions: RepositoryAction[] = method === 'GET' || method === 'HEAD' ? ['pull'] : method === 'DELETE' ? ['delete'] : ['pull', 'push'];
  return [{ type: 'repository', name: m[1] as string, actions }];
}

function hubShapedServer(auth: TokenAuthorizer): Server {
  return createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0] as string;
      if (!path.startsWith('/v2/')) {
        if (await auth.handle(req, res)) return;
        res.writeHead(404).end();
        return;
      }
      try {
        const principal = await auth.authorize(req, needsOf(req.method ?? 'GET', path));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(principal));
      } catch (err) {
        if (!(err instanceof AccessDenied)) throw err;
        const code = err.status === 401 ? 'UNAUTHORIZED' : 'DENIED';
        res.writeHead(err.status, { 'content-type': 'application/json', ...err.headers });
        res.end(JSON.stringify({ errors: [{ code, message: err.message, detail: err.detail }] }));
      }
    })();
  });
}

describe('token authorizer and endpoint', () => {
  let dir: string;
  let auth: TokenAuthorizer;
  let server: Server;
  let base: string;
  let config: AuthConfig;

  const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const tokenUrl = (scopes: string[], extra: Record<string, string> = {}) => {
    const u = new URL(`${base}/token`);
    u.searchParams.set('service', SERVICE);
    for (const s of scopes) u.searchParams.append('scope', s);
    for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v);
    return u;
  };
  /** A token from the GET form, 200 expected. */
  const getToken = async (scopes: string[], creds?: [string, string]) => {
    const res = await fetch(tokenUrl(scopes, creds ? { account: creds[0] } : {}), { headers: creds ? basic(...creds) : {} });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as TokenAnswer;
  };
  const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
  const v2 = (path: string, token?: string, method = 'GET') => fetch(`${base}/v2/${path}`, { method, headers: token ? bearer(token) : {} });
  const post = (form: Record<string, string>) =>
    fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-token-auth-'));
    const store = openAccountStore(dir, { scrypt: FAST });
    await store.createUser('alice', 'alice-pw');
    await store.createUser('bob', 'bob-pw');
    await store.createUser('root', 'root-pw', { admin: true });
    store.setVisibility('alice/secret', 'private');
    store.close();
    config = parseAuthConfig({ token: { service: SERVICE, issuer: 'hub-test-issuer' } }) as AuthConfig;
    auth = await createTokenAuthorizer({ dataDir: dir, config });
    server = hubShapedServer(auth);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    auth.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('challenges a request without a token, naming realm, service and the scope needed', async () => {
    const ping = await v2('');
    assert.equal(ping.status, 401);
    assert.equal(ping.headers.get('www-authenticate'), `Bearer realm="${base}/token",service="${SERVICE}"`);
    const pull = await v2('alice/web/manifests/latest');
    assert.equal(pull.headers.get('www-authenticate'), `Bearer realm="${base}/token",service="${SERVICE}",scope="repository:alice/web:pull"`);
    const body = (await pull.json()) as { errors: { code: string; message: string; detail: unknown }[] };
    assert.deepEqual(body.errors[0], { code: 'UNAUTHORIZED', message: 'authentication required', detail: [{ Type: 'repository', Class: '', Name: 'alice/web', Action: 'pull' }] });
    const push = await v2('alice/web/blobs/uploads/', undefined, 'POST');
    assert.match(push.headers.get('www-authenticate') ?? '', /scope="repository:alice\/web:pull,push"$/);
    const catalog = await v2('_catalog');
    assert.match(catalog.headers.get('www-authenticate') ?? '', /scope="registry:catalog:\*"$/);
    const basicOnV2 = await fetch(`${base}/v2/`, { headers: basic('alice', 'alice-pw') });
    assert.equal(basicOnV2.status, 401, 'Basic credentials go to the token endpoint, not /v2/');
  });

  it('gives anonymous clients pull on public repositories only', async () => {
    const t = await getToken(['repository:alice/web:pull,push', 'repository:alice/secret:pull']);
    assert.equal(t.token, t.access_token);
    assert.equal(t.expires_in, 300);
    assert.ok(Math.abs(Date.parse(t.issued_at) - Date.now()) < 5000);
    assert.equal(t.refresh_token, undefined);
    const c = claims(t.token);
    assert.equal(c.sub, '');
    assert.equal(c.aud, SERVICE);
    assert.equal(c.iss, 'hub-test-issuer');
    assert.deepEqual(c.access, [{ type: 'repository', name: 'alice/web', actions: ['pull'] }]);
    assert.equal((await v2('', t.token)).status, 200);
    assert.equal((await v2('alice/web/manifests/latest', t.token)).status, 200);
    const push = await v2('alice/web/blobs/uploads/', t.token, 'POST');
    assert.equal(push.status, 401, 'anonymous: logging in may help');
    assert.match(push.headers.get('www-authenticate') ?? '', /,error="insufficient_scope"$/);
    assert.equal((await v2('alice/secret/manifests/latest', t.token)).status, 401, 'a private repository is invisible');
  });

  it('logs a user in and grants its own namespace', async () => {
    const t = await getToken(['repository:alice/web:pull,push', 'repository:alice/secret:pull,delete'], ['alice', 'alice-pw']);
    const c = claims(t.token);
    assert.equal(c.sub, 'alice');
    assert.deepEqual(c.access, [
      { type: 'repository', name: 'alice/web', actions: ['pull', 'push'] },
      { type: 'repository', name: 'alice/secret', actions: ['pull', 'delete'] },
    ]);
    assert.deepEqual(await (await v2('alice/web/blobs/uploads/', t.token, 'POST')).json(), { account: 'alice' });
    assert.equal((await v2('alice/secret/manifests/x', t.token, 'DELETE')).status, 200);
    // A login check: a token without scope, then /v2/.
    const login = await getToken([], ['alice', 'alice-pw']);
    assert.deepEqual(claims(login.token).access, []);
    assert.equal((await v2('', login.token)).status, 200);
  });

  it('refuses a wrong password with a 401 Docker prints', async () => {
    for (const [user, pw] of [['alice', 'wrong'], ['nobody', 'alice-pw'], ['alice', '']]) {
      const res = await fetch(tokenUrl(['repository:alice/web:pull'], { account: user as string }), { headers: basic(user as string, pw as string) });
      assert.equal(res.status, 401, `${user}:${pw}`);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm=/);
      assert.deepEqual(await res.json(), { details: 'incorrect username or password', error: 'invalid_grant', error_description: 'incorrect username or password' });
    }
  });

  it('denies what a logged-in user may never do (403), and asks for a new token when it may (401)', async () => {
    const bob = await getToken(['repository:alice/web:pull,push', 'repository:alice/secret:pull', 'repository:bob/app:pull'], ['bob', 'bob-pw']);
    assert.deepEqual(claims(bob.token).access, [
      { type: 'repository', name: 'alice/web', actions: ['pull'] },
      { type: 'repository', name: 'bob/app', actions: ['pull'] },
    ]);
    const push = await v2('alice/web/blobs/uploads/', bob.token, 'POST');
    assert.equal(push.status, 403);
    assert.deepEqual(((await push.json()) as { errors: { code: string; message: string }[] }).errors.map((e) => [e.code, e.message]), [
      ['DENIED', 'requested access to the resource is denied'],
    ]);
    assert.equal((await v2('alice/secret/manifests/latest', bob.token)).status, 403);
    // Out of scope, but within bob's rights: a token for bob/app used on bob/other or to push.
    for (const [path, method] of [['bob/other/manifests/latest', 'GET'], ['bob/app/blobs/uploads/', 'POST']] as const) {
      const res = await v2(path, bob.token, method);
      assert.equal(res.status, 401, path);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    }
  });

  it('lists the catalog for admins only', async () => {
    const root = await getToken(['registry:catalog:*'], ['root', 'root-pw']);
    assert.deepEqual(claims(root.token).access, [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
    assert.deepEqual(await (await v2('_catalog', root.token)).json(), { account: 'root' });
    const alice = await getToken(['registry:catalog:*'], ['alice', 'alice-pw']);
    assert.deepEqual(claims(alice.token).access, []);
    assert.equal((await v2('_catalog', alice.token)).status, 403);
    const anon = await getToken(['registry:catalog:*']);
    assert.equal((await v2('_catalog', anon.token)).status, 401);
    const root2 = await getToken(['repository:anything/at-all:*'], ['root', 'root-pw']);
    assert.deepEqual(claims(root2.token).access, [{ type: 'repository', name: 'anything/at-all', actions: ['pull', 'push', 'delete'] }]);
  });

  it('refuses forged, expired, not-yet-valid, foreign and garbage tokens with invalid_token', async () => {
    const good = (await getToken(['repository:alice/web:pull'], ['alice', 'alice-pw'])).token;
    const [h, c, s] = good.split('.') as [string, string, string];
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const more = { ...claims(good), access: [{ type: 'repository', name: 'alice/web', actions: ['pull', 'push'] }] };
    const now = Math.floor(Date.now() / 1000);
    const key = auth.key;
    const cases: Record<string, string> = {
      forged: `${h}.${b64(more)}.${s}`,
      expired: signToken(key, { ...claims(good), exp: now - 3600, nbf: now - 7200, iat: now - 7200 }),
      'not yet valid': signToken(key, { ...claims(good), nbf: now + 3600, exp: now + 7200 }),
      'another audience': signToken(key, { ...claims(good), aud: 'other-service' }),
      'another issuer': signToken(key, { ...claims(good), iss: 'someone-else' }),
      'alg none': `${b64({ typ: 'JWT', alg: 'none' })}.${c}.`,
      garbage: 'not-a-token',
    };
    for (const [what, token] of Object.entries(cases)) {
      const res = await v2('alice/web/manifests/latest', token);
      assert.equal(res.status, 401, what);
      assert.match(res.headers.get('www-authenticate') ?? '', /,error="invalid_token"$/, what);
    }
    assert.equal((await v2('alice/web/manifests/latest', good)).status, 200, 'the original still works');
  });

  it('speaks OAuth2: password and refresh-token grants, refresh tokens only for offline access', async () => {
    const online = await post({ grant_type: 'password', username: 'alice', password: 'alice-pw', service: SERVICE, client_id: 'docker', scope: 'repository:alice/web:pull' });
    assert.equal(online.status, 200);
    const o = (await online.json()) as TokenAnswer;
    assert.equal(o.refresh_token, undefined);
    assert.equal(o.scope, 'repository:alice/web:pull');
    const offline = (await (
      await post({ grant_type: 'password', username: 'alice', password: 'alice-pw', service: SERVICE, client_id: 'docker', access_type: 'offline' })
    ).json()) as TokenAnswer;
    assert.match(offline.refresh_token ?? '', /^ght_[A-Za-z0-9_-]{43}$/);
    const refreshed = await post({ grant_type: 'refresh_token', refresh_token: offline.refresh_token!, service: SERVICE, client_id: 'docker', scope: 'repository:alice/web:pull,push repository:alice/x:pull' });
    assert.equal(refreshed.status, 200);
    const r = (await refreshed.json()) as TokenAnswer;
    assert.equal(r.refresh_token, offline.refresh_token, 'the same refresh token, not a new one');
    assert.equal(r.scope, 'repository:alice/web:pull,push repository:alice/x:pull');
    assert.equal(claims(r.token).sub, 'alice');
    assert.equal((await v2('alice/web/blobs/uploads/', r.token, 'POST')).status, 200);
    // GET with offline_token=true (docker login) also hands one out.
    const viaGet = (await (await fetch(tokenUrl([], { account: 'bob', offline_token: 'true', client_id: 'docker' }), { headers: basic('bob', 'bob-pw') })).json()) as TokenAnswer;
    assert.ok(viaGet.refresh_token);
    const anonOffline = (await (await fetch(tokenUrl([], { offline_token: 'true' }))).json()) as TokenAnswer;
    assert.equal(anonOffline.refresh_token, undefined, 'never for anonymous clients');
    // Wrong password, unknown or revoked refresh tokens.
    const wrong = await post({ grant_type: 'password', username: 'alice', password: 'nope', service: SERVICE, client_id: 'docker' });
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { details: string }).details, 'incorrect username or password');
    const unknown = await post({ grant_type: 'refresh_token', refresh_token: 'ght_nope', service: SERVICE, client_id: 'docker' });
    assert.equal(unknown.status, 401);
    assert.equal(auth.store.revokeRefreshTokens('alice'), 1);
    const revoked = await post({ grant_type: 'refresh_token', refresh_token: offline.refresh_token!, service: SERVICE, client_id: 'docker' });
    assert.equal(revoked.status, 401);
    assert.equal(((await revoked.json()) as { details: string }).details, 'invalid or expired refresh token');
  });

  it('answers malformed token requests with 400 and a reason', async () => {
    const cases: [string, Promise<Response>, number, RegExp][] = [
      ['no service', fetch(`${base}/token?scope=repository:a:pull`), 400, /service is required/],
      ['other service', fetch(`${base}/token?service=other`), 400, /unknown service "other"/],
      ['bad scope', fetch(tokenUrl(['repository:a'])), 400, /invalid scope "repository:a"/],
      ['account mismatch', fetch(tokenUrl([], { account: 'bob' }), { headers: basic('alice', 'alice-pw') }), 400, /account parameter does not match/],
      ['malformed basic', fetch(tokenUrl([]), { headers: { authorization: 'Basic !!!' } }), 400, /malformed Basic/],
      ['no grant type', post({ service: SERVICE, client_id: 'c' }), 400, /grant_type is required/],
      ['unknown grant', post({ grant_type: 'authorization_code', service: SERVICE, client_id: 'c' }), 400, /unsupported grant_type/],
      ['no client id', post({ grant_type: 'password', username: 'alice', password: 'alice-pw', service: SERVICE }), 400, /client_id is required/],
      ['not a form', fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }), 400, /must be a form/],
      ['too large', post({ grant_type: 'password', service: SERVICE, client_id: 'c', pad: 'x'.repeat(70_000) }), 413, /larger than/],
      ['method', fetch(`${base}/token`, { method: 'PUT' }), 405, /not allowed/],
    ];
    for (const [what, pending, status, re] of cases) {
      const res = await pending;
      assert.equal(res.status, status, what);
      const body = (await res.json()) as { details: string; error: string };
      assert.match(body.details, re, what);
      assert.ok(body.error, what);
    }
    assert.equal((await fetch(`${base}/elsewhere`)).status, 404, 'other paths are left to the server');
  });

  it('can require a login for everything', async () => {
    const closed = new TokenAuthorizer({
      store: auth.store,
      key: auth.key,
      config: { ...config, allowAnonymousPull: false, token: { ...config.token, realm: 'https://hub.example.com/auth' } },
    });
    const srv = hubShapedServer(closed);
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      const ping = await fetch(`${url}/v2/alice/web/tags/list`);
      assert.equal(ping.headers.get('www-authenticate'), `Bearer realm="https://hub.example.com/auth",service="${SERVICE}",scope="repository:alice/web:pull"`);
      const anon = await fetch(`${url}/auth?service=${SERVICE}&scope=repository:alice/web:pull`);
      assert.equal(anon.status, 401);
      assert.equal(((await anon.json()) as { details: string }).details, 'authentication required');
      const ok = await fetch(`${url}/auth?service=${SERVICE}&scope=repository:alice/web:pull`, { headers: basic('bob', 'bob-pw') });
      const token = ((await ok.json()) as TokenAnswer).token;
      assert.equal((await fetch(`${url}/v2/alice/web/tags/list`, { headers: bearer(token) })).status, 200);
      assert.equal((await fetch(`${url}/token`)).status, 404, 'only the realm path is the endpoint');
    } finally {
      srv.closeAllConnections();
      await new Promise((resolve) => srv.close(resolve));
    }
  });
});
