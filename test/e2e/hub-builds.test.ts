/**
 * Automated builds of the hub, end to end: `gantry hub serve` (which builds with the engine of
 * its own gantry root), a local bare git repository made by the test, and push webhooks shaped
 * as GitHub's (`push`) and Bitbucket Cloud's (`repo:push`) documented payloads, signed with
 * HMAC-SHA256 of the shared secret.
 *
 * Covered: a signed GitHub push builds the branch, pushes the tag to the hub and records the
 * build (status, digest, log, duration); Bitbucket the same for a tag with a regex rule and
 * `{\1}` substitution; a bad or missing signature is 401 and queues nothing; an unmatched
 * branch builds nothing; a failing Dockerfile is a failed build with its log and leaves the
 * tag where it was; the manual trigger; the live log as server-sent events.
 *
 * The images build `FROM` busybox pushed to the hub itself first, so the hub's root needs
 * nothing but what the build pulls from its own registry. On a hub with accounts, the build
 * pushes as the repository's owner (a refresh token of the hub), to a private repository.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { busyboxSandbox, destroyWithContainers, pollUntil } from '../support/containers.js';
import { HubProcess } from '../support/hub.js';
import { GANTRY, needsRoot, runCommand, type RunOptions, type Sandbox } from '../support/harness.js';

const run = promisify(execFile);
const env: RunOptions = { env: { GANTRY_DAEMON_CONFIG: '/nonexistent', DOCKER_CONFIG: '/nonexistent' } };
const SECRET = 'It’s a Secret to Everybody';
const git = (cwd: string, ...args: string[]) => run('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd }).then((r) => r.stdout.trim());
const sign = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** GitHub's `push` event payload (https://docs.github.com/en/webhooks/webhook-events-and-payloads#push), trimmed of nothing a receiver reads. */
function githubPush(ref: string, after: string): Record<string, unknown> {
  const name = ref.replace(/^refs\/(heads|tags)\//, '');
  return {
    ref,
    before: '0000000000000000000000000000000000000000',
    after,
    base_ref: null,
    created: true,
    deleted: false,
    forced: false,
    compare: `https://github.com/team/app/compare/${name}`,
    commits: [
      {
        id: after,
        tree_id: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
        distinct: true,
        message: 'Add the Dockerfile',
        timestamp: '2026-12-04T12:00:00Z',
        url: `https://github.com/team/app/commit/${after}`,
        author: { name: 'Test', email: 'test@example.com', username: 'test' },
        committer: { name: 'Test', email: 'test@example.com', username: 'test' },
        added: ['Dockerfile', 'hello.txt'],
        removed: [],
        modified: [],
      },
    ],
    head_commit: { id: after, message: 'Add the Dockerfile', timestamp: '2026-12-04T12:00:00Z' },
    pusher: { name: 'test', email: 'test@example.com' },
    sender: { login: 'test', id: 1, type: 'User' },
    repository: {
      id: 1296269,
      node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5',
      name: 'app',
      full_name: 'team/app',
      private: false,
      owner: { login: 'team', id: 2, type: 'Organization' },
      html_url: 'https://github.com/team/app',
      clone_url: 'https://github.com/team/app.git',
      git_url: 'git://github.com/team/app.git',
      ssh_url: 'git@github.com:team/app.git',
      default_branch: 'main',
    },
  };
}

/** Bitbucket Cloud's `repo:push` payload (https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/#Push). */
function bitbucketPush(type: 'branch' | 'tag', name: string, hash: string): Record<string, unknown> {
  return {
    actor: { type: 'user', display_name: 'Test', uuid: '{d301aafa-d676-4ee0-88be-962be7417567}', nickname: 'test' },
    repository: {
      type: 'repository',
      name: 'bb',
      full_name: 'team/bb',
      uuid: '{3b4b5ff8-2b0c-4b2e-8ad6-b1b5ba7a3c6a}',
      is_private: false,
      scm: 'git',
      links: { html: { href: 'https://bitbucket.org/team/bb' }, self: { href: 'https://api.bitbucket.org/2.0/repositories/team/bb' } },
    },
    push: {
      changes: [
        {
          new: {
            type,
            name,
            target: { type: 'commit', hash, message: 'Add the Dockerfile\n', date: '2026-12-04T12:00:00+00:00', author: { raw: 'Test <test@example.com>', type: 'author' } },
            links: { html: { href: `https://bitbucket.org/team/bb/${type === 'tag' ? 'commits/tag' : 'branch'}/${name}` } },
          },
          old: null,
          created: true,
          forced: false,
          closed: false,
          truncated: false,
          commits: [{ type: 'commit', hash, message: 'Add the Dockerfile\n' }],
          links: {},
        },
      ],
    },
  };
}

describe('automated builds of the hub', { skip: needsRoot }, () => {
  let hub: HubProcess;
  let src: Sandbox;
  let dir: string;
  let bare: string;
  const commits: Record<string, string> = {};

  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json }> => {
    const res = await hub.fetch(path, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text && res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
  };
  const hook = (provider: 'github' | 'bitbucket', repo: string, payload: unknown, headers: Record<string, string>) => {
    const body = JSON.stringify(payload);
    return api('POST', `/api/webhooks/${provider}/${repo}`, body, { ...(provider === 'github' ? { 'x-hub-signature-256': sign(body) } : { 'x-hub-signature': sign(body) }), ...headers });
  };
  const finished = (repo: string, id: number) =>
    pollUntil(
      `build ${id} of ${repo}`,
      async () => {
        const b = (await api('GET', `/api/repositories/${repo}/builds/${id}`)).body;
        return b.status !== 'queued' && b.status !== 'running' ? b : undefined;
      },
      60_000,
      200,
    );
  const tagDigest = async (repo: string, tag: string) => ((await api('GET', `/api/repositories/${repo}/tags`)).body as Json[]).find((t) => t.name === tag)?.digest;

  before(async () => {
    hub = await HubProcess.start({ config: { builds: { queuesize: 4 } } });
    src = await busyboxSandbox('gantry-e2e-hub-builds-');
    await src.ok(['tag', 'busybox', `${hub.host}/library/busybox:1`], env);
    await src.ok(['push', `${hub.host}/library/busybox:1`], env);

    dir = await mkdtemp('/var/tmp/gantry-e2e-hub-builds-git-');
    const work = join(dir, 'work');
    await mkdir(join(work, 'sub'), { recursive: true });
    await git(dir, 'init', '-q', work);
    await writeFile(join(work, 'hello.txt'), 'hello from git\n');
    await writeFile(join(work, 'sub', 'Dockerfile'), `FROM ${hub.host}/library/busybox:1\nCOPY hello.txt /hello.txt\nRUN cp /hello.txt /copied.txt && echo built-ok\n`);
    await git(work, 'add', '.');
    await git(work, 'commit', '-qm', 'Add the Dockerfile');
    commits.main = await git(work, 'rev-parse', 'HEAD');
    await git(work, 'tag', 'v1.2');
    await git(work, 'checkout', '-qb', 'broken');
    await writeFile(join(work, 'sub', 'Dockerfile'), `FROM ${hub.host}/library/busybox:1\nRUN echo about to fail && exit 3\n`);
    await git(work, 'commit', '-qam', 'Break the build');
    commits.broken = await git(work, 'rev-parse', 'HEAD');
    await git(work, 'branch', 'other');
    bare = join(dir, 'repo.git');
    await git(dir, 'clone', '-q', '--bare', work, bare);

    for (const [repo, provider] of [['app', 'github'], ['bb', 'bitbucket']] as const) {
      assert.equal((await api('POST', '/api/repositories', { namespace: 'team', name: repo })).status, 201);
      const settings = await api('PUT', `/api/repositories/team/${repo}/build-settings`, {
        provider,
        clone_url: `file://${bare}`,
        secret: SECRET,
        rules: [
          { source_type: 'branch', source: 'main', target_tag: 'latest', dockerfile: 'sub/Dockerfile', context: '/' },
          { source_type: 'tag', source: '/^v([0-9.]+)$/', target_tag: 'release-{\\1}', dockerfile: 'sub/Dockerfile', context: '/' },
          { source_type: 'branch', source: 'broken', target_tag: 'latest', dockerfile: 'sub/Dockerfile', context: '/' },
        ],
      });
      assert.equal(settings.status, 200, JSON.stringify(settings.body));
      assert.equal(settings.body.has_secret, true);
      assert.equal(settings.body.secret, undefined);
    }
  });
  after(async () => {
    await hub?.destroy();
    await destroyWithContainers(src);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses unsigned or wrongly signed pushes with 401 and queues nothing; ignores pings and unmatched branches', async () => {
    const body = JSON.stringify(githubPush('refs/heads/main', commits.main as string));
    assert.equal((await api('POST', '/api/webhooks/github/team/app', body, { 'x-github-event': 'push' })).status, 401);
    assert.equal((await api('POST', '/api/webhooks/github/team/app', body, { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` })).status, 401);
    assert.equal((await api('POST', '/api/webhooks/github/team/app', body, { 'x-github-event': 'push', 'x-hub-signature-256': sign(`${body} `) })).status, 401);
    assert.equal((await api('POST', '/api/webhooks/bitbucket/team/bb', body, { 'x-event-key': 'repo:push', 'x-hub-signature': 'sha1=abc' })).status, 401);
    assert.deepEqual((await api('GET', '/api/repositories/team/app/builds')).body, []);

    assert.equal((await hook('github', 'team/app', { zen: 'Keep it logically awesome.', hook_id: 1 }, { 'x-github-event': 'ping' })).status, 200);
    const other = await hook('github', 'team/app', githubPush('refs/heads/other', commits.broken as string), { 'x-github-event': 'push' });
    assert.deepEqual([other.status, other.body], [200, { queued: [] }]);
    assert.deepEqual((await api('GET', '/api/repositories/team/app/builds')).body, []);
    // The wrong provider's endpoint knows no builds of this repository.
    assert.equal((await hook('bitbucket', 'team/app', bitbucketPush('branch', 'main', commits.main as string), { 'x-event-key': 'repo:push' })).status, 404);
  });

  it('builds a signed GitHub push of a branch, pushes the tag and records the build', async () => {
    const r = await hook('github', 'team/app', githubPush('refs/heads/main', commits.main as string), { 'x-github-event': 'push' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.queued.length, 1);
    const build = await finished('team/app', r.body.queued[0]);
    assert.equal(build.status, 'success', build.log);
    assert.equal(build.trigger, 'github');
    assert.equal(build.source_ref, 'main');
    assert.equal(build.commit, commits.main);
    assert.equal(build.tag, 'latest');
    assert.match(build.digest, /^sha256:[a-f0-9]{64}$/);
    assert.ok(build.duration_ms > 0);
    assert.match(build.log, /cloning file:\/\//);
    assert.match(build.log, /built-ok/);
    assert.equal(await tagDigest('team/app', 'latest'), build.digest);
    const layers = (await api('GET', '/api/repositories/team/app/tags/latest/layers')).body;
    assert.ok(layers.history.some((h: Json) => /COPY/.test(h.created_by)), JSON.stringify(layers.history));
    // The clone went to a temporary directory, gone now.
    assert.deepEqual(await run('ls', ['-A', join(hub.data, 'builds', 'tmp')]).then((o) => o.stdout.trim()), '');
  });

  it('builds a Bitbucket tag push with a regex rule and {\\1} substitution', async () => {
    const r = await hook('bitbucket', 'team/bb', bitbucketPush('tag', 'v1.2', commits.main as string), { 'x-event-key': 'repo:push' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const build = await finished('team/bb', r.body.queued[0]);
    assert.equal(build.status, 'success', build.log);
    assert.equal(build.trigger, 'bitbucket');
    // A push of more matching refs than the queue holds (builds.queuesize 4) is refused whole.
    const flood = bitbucketPush('tag', 'v1.0', commits.main as string) as Json;
    flood.push.changes = ['v1.0', 'v1.1', 'v1.2', 'v1.3', 'v1.4'].map((name) => ({ ...flood.push.changes[0], new: { ...flood.push.changes[0].new, name } }));
    const before = (await api('GET', '/api/repositories/team/bb/builds')).body.length;
    const refused = await hook('bitbucket', 'team/bb', flood, { 'x-event-key': 'repo:push' });
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    assert.equal((await api('GET', '/api/repositories/team/bb/builds')).body.length, before);
    assert.equal(build.tag, 'release-1.2');
    assert.equal(await tagDigest('team/bb', 'release-1.2'), build.digest);
  });

  it('marks a failing Dockerfile failed, with its log, and leaves the tag alone', async () => {
    const before = await tagDigest('team/app', 'latest');
    assert.ok(before);
    const r = await hook('github', 'team/app', githubPush('refs/heads/broken', commits.broken as string), { 'x-github-event': 'push' });
    assert.equal(r.status, 202);
    const build = await finished('team/app', r.body.queued[0]);
    assert.equal(build.status, 'failed');
    assert.equal(build.digest, null);
    assert.match(build.log, /about to fail/);
    assert.match(build.log, /build failed/);
    assert.equal(await tagDigest('team/app', 'latest'), before);
  });

  it('runs a rule by hand and streams its log live as server-sent events', async () => {
    const r = await api('POST', '/api/repositories/team/app/builds', { rule: 1, ref: 'v1.2' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.trigger, 'manual');
    assert.equal(r.body.tag, 'release-1.2');
    const res = await hub.fetch(`/api/repositories/team/app/builds/${r.body.id}/log`);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const text = await res.text(); // ends with the build
    assert.match(text, /^data: cloning file:\/\//m);
    assert.match(text, /^data: .*built-ok/m);
    assert.match(text, /event: end\ndata: success\n\n$/);
    const build = await finished('team/app', r.body.id);
    assert.equal(build.status, 'success');
    assert.equal((await api('POST', '/api/repositories/team/app/builds', { rule: 1, ref: 'nope' })).status, 400);
    assert.equal((await api('POST', '/api/repositories/team/app/builds', { rule: 9 })).status, 400);
    const list = (await api('GET', '/api/repositories/team/app/builds')).body as Json[];
    assert.deepEqual(list.map((b) => b.status), ['success', 'failed', 'success']);
  });

  it('builds on a hub with accounts, pushing as the owner of a private repository', async () => {
    const data = join(dir, 'accounts-data');
    for (const [who, admin] of [['alice', false], ['root', true]] as const) {
      const created = await runCommand(GANTRY, ['hub', 'user', 'create', who, ...(admin ? ['--admin'] : []), '--password-stdin', '--data', data], { input: `${who}-pw-123\n` });
      assert.equal(created.code, 0, created.stderr);
    }
    const ahub = await HubProcess.start({ data, config: { auth: {} } });
    try {
      const alice = { authorization: `Basic ${Buffer.from('alice:alice-pw-123').toString('base64')}`, 'content-type': 'application/json' };
      const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = alice) => {
        const res = await ahub.fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        return { status: res.status, body: (await res.json()) as Json };
      };
      const root = { ...alice, authorization: `Basic ${Buffer.from('root:root-pw-123').toString('base64')}` };
      assert.equal((await call('POST', '/api/repositories', { namespace: 'alice', name: 'app', is_private: true })).status, 201);
      const settings = {
        provider: 'github',
        clone_url: `file://${bare}`,
        secret: SECRET,
        rules: [{ source_type: 'branch', source: 'main', target_tag: 'latest', dockerfile: 'sub/Dockerfile', context: '/' }],
      };
      // A file:// URL reads the hub's disk: admins only.
      assert.equal((await call('PUT', '/api/repositories/alice/app/build-settings', settings)).status, 403);
      const saved = await call('PUT', '/api/repositories/alice/app/build-settings', settings, root);
      assert.equal(saved.status, 200, JSON.stringify(saved.body));
      const r = await call('POST', '/api/repositories/alice/app/builds', { rule: 0 });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const build = await pollUntil(
        'the build on the hub with accounts',
        async () => {
          const b = (await call('GET', `/api/repositories/alice/app/builds/${r.body.id}`)).body;
          return b.status !== 'queued' && b.status !== 'running' ? b : undefined;
        },
        60_000,
        200,
      );
      assert.equal(build.status, 'success', build.log);
      const tags = (await call('GET', '/api/repositories/alice/app/tags')).body as Json[];
      assert.equal(tags.find((t) => t.name === 'latest')?.digest, build.digest);
      assert.ok((await call('GET', '/api/repositories/alice/app')).body.last_pushed);
      assert.equal((await call('GET', '/api/repositories/alice/app', undefined, {})).status, 404); // still private
    } finally {
      await ahub.destroy();
    }
  });
});
