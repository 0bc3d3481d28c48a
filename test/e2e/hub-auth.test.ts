/**
 * The hub with accounts and Docker's token authentication, end to end: `gantry hub serve` with
 * an `auth` section on 127.0.0.1, accounts made with `gantry hub user/org/repo`, and real clients — gantry's own `login`/`push`/`pull` and skopeo.
 *
 * Why: every piece has unit tests, but only real clients show that the challenge, the token
 * endpoint's answers and the refusals are what they expect: Docker's wording for a wrong
 * password, a push refused as "denied", a private repository indistinguishable from a missing
 * one, a cross-repository mount asking for two scopes. Covered as well: tokens that are
 * expired, forged, signed by another hub or out of scope get 401; a refresh token used as a
 * stored identity token (skopeo's OAuth2 refresh grant) works until the password changes; and
 * account changes made with the CLI while the hub serves take effect at once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signToken } from '../../src/registry/auth/jwt.js';
import { loadOrCreateSigningKey, readSigningKey } from '../../src/registry/auth/signing-key.js';
import { GENERATED_KEY_PATH } from '../../src/registry/auth/token-authorizer.js';
import { busyboxSandbox, destroyWithContainers } from '../support/containers.js';
import { HubProcess } from '../support/hub.js';
import { GANTRY, needsRoot, type Run, runCommand, type RunOptions, Sandbox } from '../support/harness.js';

const SERVICE = 'gantry-hub-e2e';
const PASSWORDS = { alice: 'alice-s3cret', bob: 'bob-s3cret', root: 'root-s3cret' };

describe('the hub with accounts and token authentication', { skip: needsRoot }, () => {
  let dataDir: string;
  let hub: HubProcess;
  let host: string;
  let src: Sandbox; // has busybox; alice and bob push from it, each with their own Docker config
  let dst: Sandbox; // pulls anonymously
  const configs: Record<string, string> = {};

  const env = (who: string) => ({ DOCKER_CONFIG: configs[who] as string, GANTRY_DAEMON_CONFIG: '/nonexistent' });
  const opts = (who: string, input?: string): RunOptions => ({ env: env(who), input });
  const as = (who: string, sb: Sandbox, args: string[], input?: string) => sb.run(args, opts(who, input));
  const ok = async (who: string, sb: Sandbox, args: string[], input?: string) => {
    const r = await as(who, sb, args, input);
    assert.equal(r.code, 0, `gantry ${args.join(' ')} as ${who}: ${r.stderr}`);
    return r;
  };
  const idOf = async (sb: Sandbox, ref: string) => (await sb.ok(['image', 'inspect', '-f', '{{.Id}}', ref])).stdout.trim();
  const login = (who: keyof typeof PASSWORDS) => ok(who, src, ['login', host, '-u', who, '--password-stdin'], `${PASSWORDS[who]}\n`);
  /** `gantry hub ARGS --data <dataDir>`. */
  const accounts = (args: string[], input?: string): Promise<Run> => runCommand(GANTRY, ['hub', ...args, '--data', dataDir], { input });
  const accountsOk = async (args: string[], input?: string) => {
    const r = await accounts(args, input);
    assert.equal(r.code, 0, `gantry hub ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  /** A token straight from the token endpoint (GET form). */
  const token = async (scopes: string[], creds?: [string, string]) => {
    const url = new URL(`${hub.url}/token`);
    url.searchParams.set('service', SERVICE);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = creds ? { authorization: `Basic ${Buffer.from(creds.join(':')).toString('base64')}` } : {};
    const res = await fetch(url, { headers });
    assert.equal(res.status, 200);
    return ((await res.json()) as { token: string }).token;
  };

  before(async () => {
    dataDir = await mkdtemp('/var/tmp/gantry-hub-auth-');
    for (const who of ['alice', 'bob', 'root', 'anon']) configs[who] = await mkdtemp(`/var/tmp/gantry-docker-config-${who}-`);
    await accountsOk(['user', 'create', 'alice', '--password-stdin'], `${PASSWORDS.alice}\n`);
    await accountsOk(['user', 'create', 'bob', '--password-stdin'], `${PASSWORDS.bob}\n`);
    await accountsOk(['user', 'create', 'root', '--admin', '--password-stdin'], `${PASSWORDS.root}\n`);
    await accountsOk(['repo', 'visibility', 'alice/private-box', 'private']);

    hub = await HubProcess.start({ data: dataDir, config: { auth: { token: { service: SERVICE, issuer: 'gantry-hub-e2e-issuer', expiration: '5m' } } } });
    host = hub.host;
    [src, dst] = await Promise.all([busyboxSandbox('gantry-e2e-hub-auth-src-'), Sandbox.create('gantry-e2e-hub-auth-dst-')]);
  });
  after(async () => {
    await hub?.destroy();
    await Promise.all([destroyWithContainers(src), destroyWithContainers(dst)]);
    await Promise.all([dataDir, ...Object.values(configs)].map((d) => d && rm(d, { recursive: true, force: true })));
  });

  it('challenges with the token realm and the scope a request needs', async () => {
    const ping = await fetch(`${hub.url}/v2/`);
    assert.equal(ping.status, 401);
    assert.equal(ping.headers.get('www-authenticate'), `Bearer realm="http://${host}/token",service="${SERVICE}"`);
    const pull = await fetch(`${hub.url}/v2/alice/busybox/manifests/1`);
    assert.equal(pull.status, 401);
    assert.equal(pull.headers.get('www-authenticate'), `Bearer realm="http://${host}/token",service="${SERVICE}",scope="repository:alice/busybox:pull"`);
    assert.equal(((await pull.json()) as { errors: { code: string }[] }).errors[0]?.code, 'UNAUTHORIZED');
  });

  it('refuses a wrong password in Docker’s words and stores nothing; logs in with the right one', async () => {
    const wrong = await as('alice', src, ['login', host, '-u', 'alice', '--password-stdin'], 'not-her-password\n');
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, `Error: Get "http://${host}/v2/": unauthorized: incorrect username or password\n`);
    assert.equal(await readFile(join(configs.alice as string, 'config.json'), 'utf8').catch(() => 'absent'), 'absent');
    const nobody = await as('alice', src, ['login', host, '-u', 'mallory', '--password-stdin'], 'whatever\n');
    assert.equal(nobody.stderr, wrong.stderr, 'an unknown user reads the same as a wrong password');

    const r = await login('alice');
    assert.match(r.stdout, /^Login Succeeded$/m);
    const stored = JSON.parse(await readFile(join(configs.alice as string, 'config.json'), 'utf8'));
    assert.equal(Buffer.from(stored.auths[host].auth, 'base64').toString(), `alice:${PASSWORDS.alice}`);
  });

  it('lets alice push to her namespace, public and private, and pull back the same image', async () => {
    for (const repo of ['alice/busybox', 'alice/private-box']) {
      await src.ok(['tag', 'busybox', `${host}/${repo}:1`]);
      const push = await ok('alice', src, ['push', `${host}/${repo}:1`]);
      assert.match(push.stdout, /^1: digest: sha256:[a-f0-9]{64} size: \d+$/m);
    }
    const pull = await ok('alice', dst, ['pull', `${host}/alice/private-box:1`]);
    assert.match(pull.stdout, new RegExp(`^Status: Downloaded newer image for ${host}/alice/private-box:1$`, 'm'));
    assert.equal(await idOf(dst, `${host}/alice/private-box:1`), await idOf(src, 'busybox'));
    await dst.ok(['rmi', `${host}/alice/private-box:1`]);
  });

  it('lets anonymous clients pull public repositories, and not private ones', async () => {
    const pub = await ok('anon', dst, ['pull', `${host}/alice/busybox:1`]);
    assert.match(pub.stdout, /^Status: Downloaded newer image for /m);
    assert.equal(await idOf(dst, `${host}/alice/busybox:1`), await idOf(src, 'busybox'));
    const priv = await as('anon', dst, ['pull', `${host}/alice/private-box:1`]);
    assert.equal(priv.code, 1);
    assert.equal(
      priv.stderr,
      `Error: pull access denied for ${host}/alice/private-box, repository does not exist or may require 'docker login': ` +
        `unauthorized: authentication required (hint: log in with: gantry login ${host})\n`,
    );
    const missing = await as('anon', dst, ['pull', `${host}/alice/no-such-repo:1`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /manifest unknown/, 'a missing public repository is a plain 404');
    const anonPush = await as('anon', src, ['push', `${host}/alice/busybox:1`]);
    assert.equal(anonPush.code, 1);
    assert.match(anonPush.stderr, /^Error: unauthorized: authentication required \(hint: log in with: gantry login /);
  });

  it('refuses bob a push to alice’s namespace (denied) but lets him push to his own, mounting her public blobs', async () => {
    await login('bob');
    await src.ok(['tag', 'busybox', `${host}/alice/busybox:bob`]);
    const denied = await as('bob', src, ['push', `${host}/alice/busybox:bob`]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^Error: denied: requested access to the resource is denied\b/);
    const privatePull = await as('bob', dst, ['pull', `${host}/alice/private-box:1`]);
    assert.equal(privatePull.code, 1);
    assert.ok(
      privatePull.stderr.startsWith(
        `Error: pull access denied for ${host}/alice/private-box, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`,
      ),
      privatePull.stderr,
    );

    await src.ok(['tag', 'busybox', `${host}/bob/busybox:1`]);
    const own = await ok('bob', src, ['push', `${host}/bob/busybox:1`]);
    assert.match(own.stdout, /: Mounted from alice\/busybox$/m, 'pull on a public repository is enough to mount from it');
    const tags = await fetch(`${hub.url}/v2/alice/busybox/tags/list`, { headers: { authorization: `Bearer ${await token(['repository:alice/busybox:pull'])}` } });
    assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ['1'], 'nothing of bob’s reached alice/busybox');
  });

  it('follows organisation roles, changed with the CLI while the hub serves', async () => {
    await accountsOk(['org', 'create', 'acme', '--owner', 'alice']);
    await accountsOk(['org', 'add-member', 'acme', 'bob', '--pull-only']);
    await src.ok(['tag', 'busybox', `${host}/acme/tools:1`]);
    const pullOnly = await as('bob', src, ['push', `${host}/acme/tools:1`]);
    assert.equal(pullOnly.code, 1);
    assert.match(pullOnly.stderr, /denied: requested access to the resource is denied/);
    await accountsOk(['org', 'add-member', 'acme', 'bob']);
    await ok('bob', src, ['push', `${host}/acme/tools:1`]);
    // Made private: anonymous clients lose it at once; bob, a member, keeps it.
    await accountsOk(['repo', 'visibility', 'acme/tools', 'private']);
    assert.equal((await as('anon', dst, ['pull', `${host}/acme/tools:1`])).code, 1);
    await ok('bob', dst, ['pull', `${host}/acme/tools:1`]);
  });

  it('copies with skopeo using --dest-creds, and refuses wrong credentials', async () => {
    const tls = ['--src-tls-verify=false', '--dest-tls-verify=false'];
    const copy = await runCommand('skopeo', ['copy', ...tls, '--dest-creds', `alice:${PASSWORDS.alice}`, `docker://${host}/alice/busybox:1`, `docker://${host}/alice/copied:1`]);
    assert.equal(copy.code, 0, copy.stderr);
    const inspect = await runCommand('skopeo', ['inspect', '--tls-verify=false', '--creds', `alice:${PASSWORDS.alice}`, `docker://${host}/alice/private-box:1`]);
    assert.equal(inspect.code, 0, inspect.stderr);
    const anonInspect = await runCommand('skopeo', ['inspect', '--tls-verify=false', '--no-creds', `docker://${host}/alice/private-box:1`]);
    assert.notEqual(anonInspect.code, 0);
    assert.match(anonInspect.stderr, /unauthorized: authentication required/);
    const wrong = await runCommand('skopeo', ['copy', ...tls, '--dest-creds', 'alice:wrong', `docker://${host}/alice/busybox:1`, `docker://${host}/alice/copied:2`]);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /unable to retrieve auth token: invalid username\/password: unauthorized: incorrect username or password/);
    const bobCopy = await runCommand('skopeo', ['copy', ...tls, '--dest-creds', `bob:${PASSWORDS.bob}`, `docker://${host}/alice/busybox:1`, `docker://${host}/alice/copied:3`]);
    assert.notEqual(bobCopy.code, 0);
    assert.match(bobCopy.stderr, /denied: requested access to the resource is denied/);
  });

  it('answers expired, forged, foreign and out-of-scope tokens with 401', async () => {
    const manifest = (t: string, repo = 'alice/busybox') =>
      fetch(`${hub.url}/v2/${repo}/manifests/1`, { method: 'HEAD', headers: { authorization: `Bearer ${t}`, accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const good = await token(['repository:alice/busybox:pull'], ['alice', PASSWORDS.alice]);
    assert.equal((await manifest(good)).status, 200);
    const claims = JSON.parse(Buffer.from(good.split('.')[1] as string, 'base64url').toString());
    const now = Math.floor(Date.now() / 1000);
    const [h, , s] = good.split('.');
    const widened = Buffer.from(JSON.stringify({ ...claims, access: [{ type: 'repository', name: 'alice/private-box', actions: ['pull'] }] })).toString('base64url');
    // The hub's own key (generated into its data directory), and another hub's.
    const key = await readSigningKey(join(dataDir, GENERATED_KEY_PATH));
    const otherDir = await mkdtemp('/var/tmp/gantry-hub-auth-other-');
    const other = await loadOrCreateSigningKey(join(otherDir, 'key.pem'));
    try {
      const cases: Record<string, [string, string, string]> = {
        expired: [signToken(key, { ...claims, iat: now - 3600, nbf: now - 3600, exp: now - 600 }), 'alice/busybox', 'invalid_token'],
        forged: [`${h}.${widened}.${s}`, 'alice/private-box', 'invalid_token'],
        'another hub’s key': [signToken(other, claims), 'alice/busybox', 'invalid_token'],
        'out of scope': [good, 'alice/private-box', 'insufficient_scope'],
      };
      for (const [what, [t, repo, error]] of Object.entries(cases)) {
        const res = await manifest(t, repo);
        assert.equal(res.status, 401, what);
        assert.match(res.headers.get('www-authenticate') ?? '', new RegExp(`scope="repository:${repo}:pull",error="${error}"$`), what);
      }
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('shows the catalog to admins only', async () => {
    const anon = await fetch(`${hub.url}/v2/_catalog`);
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /scope="registry:catalog:\*"$/);
    const alice = await fetch(`${hub.url}/v2/_catalog`, { headers: { authorization: `Bearer ${await token(['registry:catalog:*'], ['alice', PASSWORDS.alice])}` } });
    assert.equal(alice.status, 403);
    const root = await fetch(`${hub.url}/v2/_catalog`, { headers: { authorization: `Bearer ${await token(['registry:catalog:*'], ['root', PASSWORDS.root])}` } });
    assert.equal(root.status, 200);
    const { repositories } = (await root.json()) as { repositories: string[] };
    for (const r of ['acme/tools', 'alice/busybox', 'alice/copied', 'alice/private-box', 'bob/busybox']) assert.ok(repositories.includes(r), r);
  });

  it('serves refresh tokens to the OAuth2 form (skopeo with an identity token), ends them on a password change, and removes users', async () => {
    const form = (f: Record<string, string>) =>
      fetch(`${hub.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ service: SERVICE, client_id: 'e2e', ...f }) });
    const offline = (await (await form({ grant_type: 'password', username: 'bob', password: PASSWORDS.bob, access_type: 'offline' })).json()) as { refresh_token: string };
    assert.equal((await form({ grant_type: 'refresh_token', refresh_token: offline.refresh_token, scope: 'repository:bob/busybox:pull' })).status, 200);
    // The refresh token as a stored identity token (what docker login keeps): skopeo then uses
    // the OAuth2 refresh-token grant, here for a private repository bob is a member of.
    const authfile = join(configs.bob as string, 'identity.json');
    await writeFile(authfile, JSON.stringify({ auths: { [host]: { auth: Buffer.from('bob:').toString('base64'), identitytoken: offline.refresh_token } } }));
    const inspect = ['inspect', '--tls-verify=false', '--authfile', authfile, `docker://${host}/acme/tools:1`];
    const viaIdentity = await runCommand('skopeo', inspect);
    assert.equal(viaIdentity.code, 0, viaIdentity.stderr);
    await accountsOk(['user', 'passwd', 'bob', '--password-stdin'], 'bob-new-s3cret\n');
    assert.equal((await form({ grant_type: 'refresh_token', refresh_token: offline.refresh_token })).status, 401);
    const revoked = await runCommand('skopeo', inspect);
    assert.notEqual(revoked.code, 0);
    assert.match(revoked.stderr, /unauthorized: invalid or expired refresh token/);
    const old = await as('bob', src, ['push', `${host}/bob/busybox:1`]);
    assert.equal(old.code, 1, 'the stored old password no longer works');
    assert.match(old.stderr, /incorrect username or password/);
    await accountsOk(['org', 'remove-member', 'acme', 'bob']);
    assert.equal((await accountsOk(['user', 'rm', 'bob'])).stdout, 'bob\n');
    const gone = await as('bob', src, ['login', host, '-u', 'bob', '--password-stdin'], 'bob-new-s3cret\n');
    assert.equal(gone.code, 1);
  });
});
