/**
 * login, push, pull, logout and `run` end to end against a registry with token authentication:
 * Debian's docker-registry (distribution 2.8) configured with `auth.token`, and this test's own
 * {@link TokenServer} issuing RS256 JWTs that the registry verifies against the server's
 * self-signed certificate.
 *
 * Why: the bearer flow (challenge at `/v2/`, a token per scope fetched with the stored
 * credentials, the registry checking the token's access claim) is how Docker Hub, GHCR, ECR and
 * most registries authenticate, and none of it runs against an htpasswd registry. Covered: a
 * push refused without login, a wrong password refused by the token server with nothing stored,
 * a login, a push/pull round trip with the same image ID, a cross-repository mount asking for
 * two scopes, and after logout a private pull refused (exit 1; 125 from `run`) while an
 * anonymous pull of a public repository works. The token server's log shows which scopes the
 * client asked for, with and without credentials.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxSandbox, destroyWithContainers } from '../support/containers.js';
import { needsRoot, type RunOptions, Sandbox } from '../support/harness.js';
import { TestRegistry } from '../support/registry.js';
import { type TokenRequest, TokenServer } from '../support/token-server.js';

const USER = 'alice';
const PASSWORD = 'token-s3cret';
const SERVICE = 'gantry-test-registry';
const ISSUER = 'gantry-test-token-issuer';

describe('gantry login/push/pull with token authentication', { skip: needsRoot }, () => {
  let tokens: TokenServer;
  let reg: TestRegistry;
  let src: Sandbox; // has busybox, logs in and pushes
  let dst: Sandbox; // pulls
  let configDir: string;
  const opts = (input?: string): RunOptions => ({ env: { DOCKER_CONFIG: configDir, GANTRY_DAEMON_CONFIG: '/nonexistent' }, input });
  const run = (sb: Sandbox, args: string[], input?: string) => sb.run(args, opts(input));
  const ok = (sb: Sandbox, args: string[], input?: string) => sb.ok(args, opts(input));
  const idOf = async (sb: Sandbox, ref: string) => (await ok(sb, ['image', 'inspect', '-f', '{{.Id}}', ref])).stdout.trim();
  /** The token requests made since `mark` (an index into the server's log). */
  const since = (mark: number): TokenRequest[] => tokens.requests.slice(mark);
  const privateName = () => `${reg.host}/private/busybox:1`;
  const publicName = () => `${reg.host}/public/busybox:1`;

  before(async () => {
    tokens = await TokenServer.start({ service: SERVICE, issuer: ISSUER, user: { name: USER, password: PASSWORD } });
    [reg, src, dst, configDir] = await Promise.all([
      TestRegistry.start({ token: { realm: tokens.realm, service: SERVICE, issuer: ISSUER, rootCertBundle: tokens.certFile } }),
      busyboxSandbox('gantry-e2e-token-push-'),
      Sandbox.create('gantry-e2e-token-pull-'),
      mkdtemp('/var/tmp/gantry-docker-config-'),
    ]);
  });
  after(async () => {
    await Promise.all([
      reg?.stop(),
      destroyWithContainers(src),
      destroyWithContainers(dst),
      configDir && rm(configDir, { recursive: true, force: true }),
    ]);
    await tokens?.stop();
  });

  it('the registry accepts the token server’s tokens and refuses altered ones', async () => {
    // Without this, every later assertion could pass against a registry that checks nothing.
    const challenge = await reg.fetch('/v2/');
    assert.equal(challenge.status, 401);
    assert.equal(challenge.headers.get('www-authenticate'), `Bearer realm="${tokens.realm}",service="${SERVICE}"`);
    const url = `${tokens.realm}?service=${SERVICE}&scope=${encodeURIComponent('repository:public/none:pull')}`;
    const body = (await (await fetch(url)).json()) as { token: string; access_token: string; expires_in: number; issued_at: string };
    assert.equal(body.token, body.access_token);
    assert.equal(body.expires_in, 300);
    const granted = await reg.fetch('/v2/public/none/tags/list', { headers: { authorization: `Bearer ${body.token}` } });
    assert.equal(granted.status, 404, 'a valid pull token reaches the (empty) repository');
    // The same signature over claims that grant push as well: the registry must notice.
    const [header, claims, signature] = body.token.split('.') as [string, string, string];
    const forged = JSON.parse(Buffer.from(claims, 'base64url').toString());
    forged.access[0].actions.push('push');
    const altered = `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`;
    const refused = await reg.fetch('/v2/', { headers: { authorization: `Bearer ${altered}` } });
    assert.equal(refused.status, 401);
  });

  it('refuses a push without login in one line', async () => {
    await ok(src, ['tag', 'busybox', privateName()]);
    const mark = tokens.requests.length;
    const denied = await run(src, ['push', privateName()]);
    assert.equal(denied.code, 1);
    assert.equal(denied.stderr, `Error: unauthorized: authentication required (hint: log in with: gantry login ${reg.host})\n`);
    // Asked anonymously for push access, and granted nothing.
    const asked = since(mark).filter((r) => r.scopes.includes('repository:private/busybox:pull,push'));
    assert.ok(asked.length > 0, JSON.stringify(since(mark)));
    for (const r of asked) assert.deepEqual([r.user, r.account, r.granted], [undefined, undefined, []]);
  });

  it('refuses a wrong password and stores nothing', async () => {
    const mark = tokens.requests.length;
    const wrong = await run(src, ['login', '-u', USER, '--password-stdin', reg.host], 'wrong\n');
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, `Error: Get "http://${reg.host}/v2/": unauthorized: incorrect username or password\n`);
    assert.equal(await readFile(join(configDir, 'config.json'), 'utf8').catch(() => 'absent'), 'absent', 'a failed login stores nothing');
    assert.deepEqual(
      since(mark).map((r) => [r.user, r.account, r.scopes, r.status]),
      [[USER, USER, [], 401]],
    );
  });

  it('logs in with the right password', async () => {
    const mark = tokens.requests.length;
    const login = await ok(src, ['login', '-u', USER, '--password-stdin', reg.host], `${PASSWORD}\n`);
    assert.match(login.stdout, /^Login Succeeded$/m);
    const config = JSON.parse(await readFile(join(configDir, 'config.json'), 'utf8'));
    assert.equal(Buffer.from(config.auths[reg.host].auth, 'base64').toString(), `${USER}:${PASSWORD}`);
    // A token without scope: what login asks for (as Docker's does) to check the credentials.
    assert.deepEqual(
      since(mark).map((r) => [r.user, r.account, r.scopes, r.status]),
      [[USER, USER, [], 200]],
    );
  });

  it('pushes and pulls back the same image with tokens; a mount asks for two scopes', async () => {
    let mark = tokens.requests.length;
    const push = await ok(src, ['push', privateName()]);
    assert.match(push.stdout, /: Pushed$/m);
    assert.match(push.stdout, /^1: digest: sha256:[a-f0-9]{64} size: \d+$/m);
    const pushScopes = since(mark);
    assert.ok(pushScopes.length > 0);
    for (const r of pushScopes) {
      assert.deepEqual([r.user, r.status, r.scopes], [USER, 200, ['repository:private/busybox:pull,push']]);
      assert.deepEqual(r.granted, [{ type: 'repository', name: 'private/busybox', actions: ['pull', 'push'] }]);
    }

    // The image has a digest name in private/busybox now: its blobs are mounted from there.
    await ok(src, ['tag', 'busybox', publicName()]);
    mark = tokens.requests.length;
    const mount = await ok(src, ['push', publicName()]);
    assert.match(mount.stdout, /: Mounted from private\/busybox$/m);
    assert.doesNotMatch(mount.stdout, /: Pushed$/m);
    const both = since(mark).find((r) => r.scopes.length === 2);
    assert.deepEqual(both?.scopes, ['repository:public/busybox:pull,push', 'repository:private/busybox:pull'], JSON.stringify(since(mark)));
    assert.deepEqual(both?.granted.map((a) => a.actions), [['pull', 'push'], ['pull']]);

    mark = tokens.requests.length;
    const pull = await ok(dst, ['pull', privateName()]);
    assert.match(pull.stdout, new RegExp(`^Status: Downloaded newer image for ${privateName()}$`, 'm'));
    assert.equal(await idOf(dst, privateName()), await idOf(src, 'busybox'));
    assert.deepEqual(
      [...new Set(since(mark).map((r) => JSON.stringify([r.user, r.scopes, r.status])))],
      [JSON.stringify([USER, ['repository:private/busybox:pull'], 200])],
      'the pull asks for pull access only',
    );
  });

  it('after logout refuses a private pull (exit 1, 125 from run) and pulls a public image anonymously', async () => {
    const logout = await ok(src, ['logout', reg.host]);
    assert.equal(logout.stdout, `Removing login credentials for ${reg.host}\n`);
    const fresh = await Sandbox.create('gantry-e2e-token-anon-');
    try {
      let mark = tokens.requests.length;
      const denied = await run(fresh, ['pull', privateName()]);
      assert.equal(denied.code, 1);
      assert.equal(
        denied.stderr,
        `Error: pull access denied for ${reg.host}/private/busybox, repository does not exist or may require 'docker login': ` +
          `unauthorized: authentication required (hint: log in with: gantry login ${reg.host})\n`,
      );
      assert.deepEqual(
        since(mark).map((r) => [r.user, r.scopes, r.granted]),
        [[undefined, ['repository:private/busybox:pull'], []]],
      );

      const runDenied = await run(fresh, ['run', '--rm', privateName(), 'true']);
      assert.equal(runDenied.code, 125);
      assert.match(runDenied.stderr, /pull access denied for .*private\/busybox/);

      mark = tokens.requests.length;
      const pull = await ok(fresh, ['pull', publicName()]);
      assert.match(pull.stdout, new RegExp(`^Status: Downloaded newer image for ${publicName()}$`, 'm'));
      assert.equal(await idOf(fresh, publicName()), await idOf(src, 'busybox'));
      assert.ok(since(mark).length > 0);
      for (const r of since(mark)) {
        assert.deepEqual([r.user, r.scopes, r.granted], [undefined, ['repository:public/busybox:pull'], [{ type: 'repository', name: 'public/busybox', actions: ['pull'] }]]);
      }
      assert.equal((await images(fresh)).includes(privateName()), false, 'nothing of the refused image stored');
    } finally {
      await destroyWithContainers(fresh);
    }
  });

  /** The `REPOSITORY:TAG` names of a sandbox's images. */
  async function images(sb: Sandbox): Promise<string[]> {
    return (await ok(sb, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim().split('\n');
  }
});
