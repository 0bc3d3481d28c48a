/**
 * pull, push, login, logout, manifest inspect and `run --pull` end to end, against Debian's
 * docker-registry (distribution 2.8) started by the test on a free loopback port: round trips
 * with identical digests, re-push and mounts, platform selection from an index built here,
 * basic auth with login/logout, and failures — unknown tags, a closed port, a corrupted blob —
 * each one clear error with Docker's exit code and nothing left in the store.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxSandbox, destroyWithContainers } from '../support/containers.js';
import { GANTRY, needsRoot, runCommand, type RunOptions, Sandbox } from '../support/harness.js';
import { TestRegistry } from '../support/registry.js';
import { tarOf } from '../support/tarball.js';

const DIGEST = /sha256:[a-f0-9]{64}/;

describe('gantry pull/push', { skip: needsRoot }, () => {
  let reg: TestRegistry;
  let src: Sandbox; // has busybox, pushes
  let dst: Sandbox; // pulls
  let configDir: string;
  const env = (): RunOptions => ({ env: { DOCKER_CONFIG: configDir, GANTRY_DAEMON_CONFIG: '/nonexistent' } });
  const run = (sb: Sandbox, args: string[]) => sb.run(args, env());
  const ok = (sb: Sandbox, args: string[]) => sb.ok(args, env());

  before(async () => {
    [reg, src, dst, configDir] = await Promise.all([
      TestRegistry.start(),
      busyboxSandbox('gantry-e2e-push-'),
      Sandbox.create('gantry-e2e-pull-'),
      mkdtemp('/var/tmp/gantry-docker-config-'),
    ]);
  });
  after(async () => {
    await Promise.all([reg?.stop(), destroyWithContainers(src), destroyWithContainers(dst), configDir && rm(configDir, { recursive: true, force: true })]);
  });

  it('pushes an image and pulls it back with the same ID and digest; re-push uploads nothing', async () => {
    const name = `${reg.host}/pb/busybox:1`;
    await ok(src, ['tag', 'busybox', name]);
    const push = await ok(src, ['push', name]);
    assert.match(push.stdout, new RegExp(`^The push refers to repository \\[${reg.host}/pb/busybox\\]$`, 'm'));
    assert.match(push.stdout, /: Pushed$/m);
    const digest = /^1: digest: (sha256:[a-f0-9]{64}) size: \d+$/m.exec(push.stdout)?.[1];
    assert.ok(digest, push.stdout);
    // The registry serves exactly that manifest under the tag.
    const head = await reg.fetch('/v2/pb/busybox/manifests/1', { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(head.headers.get('docker-content-digest'), digest);

    const again = await ok(src, ['push', name]);
    assert.doesNotMatch(again.stdout, /Pushed/);
    assert.match(again.stdout, /: Layer already exists$/m);
    assert.match(again.stdout, new RegExp(`^1: digest: ${digest} `, 'm'), 'a re-push gives the same manifest digest');

    const pull = await ok(dst, ['pull', name]);
    assert.match(pull.stdout, /^1: Pulling from pb\/busybox$/m);
    assert.match(pull.stdout, /: Pull complete$/m);
    assert.match(pull.stdout, new RegExp(`^Digest: ${digest}$`, 'm'));
    assert.match(pull.stdout, new RegExp(`^Status: Downloaded newer image for ${name}$`, 'm'));
    assert.equal(pull.stdout.trimEnd().split('\n').pop(), name);
    const idOf = async (sb: Sandbox, ref: string) => (await ok(sb, ['image', 'inspect', '-f', '{{.Id}}', ref])).stdout.trim();
    assert.equal(await idOf(dst, name), await idOf(src, 'busybox'));
    const digests = (await ok(dst, ['image', 'inspect', '-f', '{{json .RepoDigests}}', name])).stdout.trim();
    assert.deepEqual(JSON.parse(digests), [`${reg.host}/pb/busybox@${digest}`]);

    const upToDate = await ok(dst, ['pull', name]);
    assert.match(upToDate.stdout, new RegExp(`^Status: Image is up to date for ${name}$`, 'm'));
    const quiet = await ok(dst, ['pull', '-q', name]);
    assert.equal(quiet.stdout, `${name}\n`);

    const hello = await ok(dst, ['run', '--rm', name, 'echo', 'pulled and ran']);
    assert.equal(hello.stdout, 'pulled and ran\n');
  });

  it('mounts blobs from another repository of the same registry instead of uploading them', async () => {
    const from = `${reg.host}/pb/busybox:1`;
    await ok(dst, ['pull', from]);
    const to = `${reg.host}/other/copy:1`;
    await ok(dst, ['tag', from, to]);
    const push = await ok(dst, ['push', to]);
    assert.match(push.stdout, /: Mounted from pb\/busybox$/m);
    assert.doesNotMatch(push.stdout, /: Pushed$/m);
  });

  it('run pulls a missing image, and --pull never refuses to', async () => {
    const name = `${reg.host}/pb/busybox:1`;
    const fresh = await Sandbox.create('gantry-e2e-runpull-');
    try {
      const never = await run(fresh, ['run', '--rm', '--pull', 'never', name, 'true']);
      assert.equal(never.code, 125);
      assert.match(never.stderr, new RegExp(`Unable to find image '${name}' locally`));
      const r = await ok(fresh, ['run', '--rm', name, 'echo', 'hi']);
      assert.equal(r.stdout, 'hi\n');
      assert.match(r.stderr, new RegExp(`^Unable to find image '${name}' locally$`, 'm'));
      assert.match(r.stderr, /^Status: Downloaded newer image for /m);
    } finally {
      await destroyWithContainers(fresh);
    }
  });

  it('pushes and pulls every tag with -a, pulls again with run --pull always, and inspects manifests verbosely', async () => {
    const repo = `${reg.host}/tags/bb`;
    await ok(src, ['tag', 'busybox', `${repo}:a`]);
    await ok(src, ['tag', 'busybox', `${repo}:b`]);
    const pushed = await ok(src, ['push', '-a', repo]);
    assert.match(pushed.stdout, /^a: digest: sha256:[a-f0-9]{64} size: \d+$/m);
    assert.match(pushed.stdout, /^b: digest: sha256:[a-f0-9]{64} size: \d+$/m);
    const fresh = await Sandbox.create('gantry-e2e-alltags-');
    try {
      const pulled = await ok(fresh, ['pull', '-a', repo]);
      assert.match(pulled.stdout, /^a: Pulling from tags\/bb$/m);
      assert.match(pulled.stdout, /^b: Pulling from tags\/bb$/m);
      const tags = (await ok(fresh, ['images', '--format', '{{.Tag}}', repo])).stdout.split('\n').filter(Boolean).sort();
      assert.deepEqual(tags, ['a', 'b']);
      const tagged = await run(fresh, ['pull', '-a', `${repo}:a`]);
      assert.equal(tagged.code, 1);
      assert.match(tagged.stderr, /tag can't be used with --all-tags\/-a/);

      const always = await ok(fresh, ['run', '--rm', '--pull', 'always', `${repo}:a`, 'echo', 'again']);
      assert.equal(always.stdout, 'again\n');
      assert.match(always.stderr, new RegExp(`^Status: Image is up to date for ${repo}:a$`, 'm'));

      const verbose = JSON.parse((await ok(fresh, ['manifest', 'inspect', '--verbose', `${repo}:a`])).stdout);
      assert.match(verbose.Descriptor.digest, DIGEST);
      assert.equal(verbose.Descriptor.mediaType, 'application/vnd.oci.image.manifest.v1+json');
      assert.equal(Buffer.from(verbose.Raw, 'base64').length, verbose.Descriptor.size);
      assert.equal(verbose.OCIManifest.layers.length, 1);
      const missing = await run(fresh, ['manifest', 'inspect', `${repo}:zzz`]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr, `Error: no such manifest: ${repo}:zzz\n`);
    } finally {
      await destroyWithContainers(fresh);
    }
  });

  it('draws live progress bars on a terminal, and moves a layer above 16 MiB in a streamed upload', async () => {
    // 17 MiB of incompressible bytes: pushed with POST + PATCH + PUT rather than one PUT.
    const big = randomBytes(17 << 20);
    const name = `${reg.host}/big/img:1`;
    await src.ok(['import', '-', name], { ...env(), input: await tarOf([{ name: 'blob', data: big }]) });
    await ok(src, ['push', name]);
    const fresh = await Sandbox.create('gantry-e2e-tty-');
    try {
      const argv = [GANTRY, '--root', fresh.root, 'pull', name].map((a) => `'${a}'`).join(' ');
      const r = await runCommand('script', ['-qec', `stty cols 120; ${argv}`, '/dev/null'], env());
      assert.equal(r.code, 0, r.stdout + r.stderr);
      // Redrawn in place: cursor up, clear line, a bar with byte counts; finally "Pull complete".
      // eslint-disable-next-line no-control-regex -- the terminal escapes are what is tested
      assert.match(r.stdout, /\x1b\[\d+A\r\x1b\[2K[0-9a-f]{12}: Downloading \[=*>? *\] [\d.]+[kMG]?B\/17\.8MB/);
      assert.match(r.stdout, /[0-9a-f]{12}: Pull complete/);
      assert.match(r.stdout, /Status: Downloaded newer image for /);
      const id = async (sb: Sandbox) => (await ok(sb, ['image', 'inspect', '-f', '{{.Id}}', name])).stdout;
      // Same ID: same config, whose diff IDs the unpack verified against the layer's bytes.
      assert.equal(await id(fresh), await id(src));
    } finally {
      await destroyWithContainers(fresh);
    }
  });

  it('a pull killed midway leaves no image, and the next pull completes it', async () => {
    const name = `${reg.host}/big/img:1`; // the 17 MiB layer pushed by the test above
    const fresh = await Sandbox.create('gantry-e2e-killpull-');
    try {
      for (const delay of [60, 200]) {
        const child = spawn(GANTRY, ['--root', fresh.root, 'pull', '-q', name], { stdio: 'ignore', env: { ...process.env, ...env().env } });
        const closed = new Promise((r) => child.once('close', r));
        await new Promise((r) => setTimeout(r, delay));
        child.kill('SIGKILL');
        await closed;
      }
      const pulled = await ok(fresh, ['pull', name]);
      assert.match(pulled.stdout, /^Status: (Downloaded newer image|Image is up to date) for /m);
      const id = async (sb: Sandbox) => (await ok(sb, ['image', 'inspect', '-f', '{{.Id}}', name])).stdout;
      assert.equal(await id(fresh), await id(src));
      // What the killed pulls left is garbage: removing the image leaves an empty store.
      await ok(fresh, ['rmi', name]);
      await ok(fresh, ['image', 'prune', '-a', '-f']);
      assert.deepEqual(await fresh.storeLeftovers(), []);
    } finally {
      await destroyWithContainers(fresh);
    }
  });

  it('pulls Docker Hub names through a configured registry mirror', async () => {
    // The mirror holds library/mirrored:1, so Docker Hub itself is never asked.
    await src.ok(['tag', `${reg.host}/pb/busybox:1`, `${reg.host}/library/mirrored:1`], env());
    await ok(src, ['push', `${reg.host}/library/mirrored:1`]);
    const daemonJson = join(configDir, 'daemon.json');
    await writeFile(daemonJson, JSON.stringify({ 'registry-mirrors': [`http://${reg.host}`] }));
    const fresh = await Sandbox.create('gantry-e2e-mirror-');
    try {
      const pulled = await fresh.ok(['pull', 'mirrored:1'], { env: { DOCKER_CONFIG: configDir, GANTRY_DAEMON_CONFIG: daemonJson } });
      assert.match(pulled.stdout, /^Status: Downloaded newer image for mirrored:1$/m);
      assert.match(pulled.stdout, /^docker\.io\/library\/mirrored:1$/m);
      const id = async (sb: Sandbox, ref: string) => (await ok(sb, ['image', 'inspect', '-f', '{{.Id}}', ref])).stdout;
      assert.equal(await id(fresh, 'mirrored:1'), await id(src, `${reg.host}/pb/busybox:1`));
    } finally {
      await destroyWithContainers(fresh);
    }
  });

  it('picks the platform from an index', async () => {
    // Two one-layer images for two platforms, pushed by digest, and an index naming both.
    const layer = await tarOf([{ name: 'which', data: 'arm64\n' }]);
    const layer2 = await tarOf([{ name: 'which', data: 'amd64\n' }]);
    await src.ok(['import', '--platform', 'linux/arm64', '-', `${reg.host}/multi/img:arm64`], { ...env(), input: layer });
    await src.ok(['import', '--platform', 'linux/amd64', '-', `${reg.host}/multi/img:amd64`], { ...env(), input: layer2 });
    const descriptors = [];
    for (const [tag, arch] of [['arm64', 'arm64'], ['amd64', 'amd64']] as const) {
      const push = await ok(src, ['push', `${reg.host}/multi/img:${tag}`]);
      const m = /digest: (sha256:[a-f0-9]{64}) size: (\d+)/.exec(push.stdout);
      assert.ok(m);
      descriptors.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: m[1], size: Number(m[2]), platform: { os: 'linux', architecture: arch } });
    }
    const index = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: descriptors });
    const put = await reg.fetch('/v2/multi/img/manifests/both', { method: 'PUT', headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' }, body: index });
    assert.equal(put.status, 201);
    const idOf = async (sb: Sandbox, ref: string) => (await ok(sb, ['image', 'inspect', '-f', '{{.Id}} {{.Architecture}}', ref])).stdout.trim();

    const sb = await Sandbox.create('gantry-e2e-platform-');
    try {
      await ok(sb, ['pull', '--platform', 'linux/arm64', `${reg.host}/multi/img:both`]);
      assert.equal(await idOf(sb, `${reg.host}/multi/img:both`), await idOf(src, `${reg.host}/multi/img:arm64`));
      await ok(sb, ['pull', '--platform', 'linux/amd64', `${reg.host}/multi/img:both`]);
      assert.equal(await idOf(sb, `${reg.host}/multi/img:both`), await idOf(src, `${reg.host}/multi/img:amd64`));
      const none = await run(sb, ['pull', '--platform', 'linux/s390x', `${reg.host}/multi/img:both`]);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /^Error: no matching manifest for linux\/s390x in the manifest list entries/m);
      const inspect = await ok(sb, ['manifest', 'inspect', `${reg.host}/multi/img:both`]);
      assert.deepEqual(JSON.parse(inspect.stdout).manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture), ['arm64', 'amd64']);
    } finally {
      await destroyWithContainers(sb);
    }
  });

  it('fails clearly and leaves nothing behind: unknown tag, closed port, corrupted blob', async () => {
    const sb = await Sandbox.create('gantry-e2e-pullfail-');
    try {
      const missing = await run(sb, ['pull', `${reg.host}/pb/busybox:nope`]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr, `Error: manifest for ${reg.host}/pb/busybox:nope not found: manifest unknown: manifest unknown\n`);
      const closed = await run(sb, ['pull', '127.0.0.1:1/x:1']);
      assert.equal(closed.code, 1);
      assert.match(closed.stderr, /^Error: .*127\.0\.0\.1:1.*connection refused/m);
      const runMissing = await run(sb, ['run', '--rm', `${reg.host}/pb/busybox:nope`]);
      assert.equal(runMissing.code, 125);

      // A layer whose stored bytes no longer match its digest.
      const layer = await tarOf([{ name: 'payload', data: 'x'.repeat(100_000) }]);
      await src.ok(['import', '-', `${reg.host}/bad/img:1`], { ...env(), input: layer });
      await ok(src, ['push', `${reg.host}/bad/img:1`]);
      const blob = JSON.parse((await ok(src, ['image', 'inspect', '-f', '{{json .RootFS.Layers}}', `${reg.host}/bad/img:1`])).stdout)[0];
      await reg.corruptBlob(blob);
      const bad = await run(sb, ['pull', `${reg.host}/bad/img:1`]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, DIGEST);
      assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
      // The content store's directories may now exist, but nothing in them.
      assert.deepEqual(await sb.storeLeftovers(), [], 'no blob, snapshot or image left');
      assert.equal((await ok(sb, ['images', '-q'])).stdout, '');
    } finally {
      await destroyWithContainers(sb);
    }
  });
});

describe('gantry login/logout with basic auth', { skip: needsRoot }, () => {
  let reg: TestRegistry;
  let sb: Sandbox;
  let configDir: string;
  const env = { DOCKER_CONFIG: '', GANTRY_DAEMON_CONFIG: '/nonexistent' };

  before(async () => {
    [reg, sb, configDir] = await Promise.all([
      TestRegistry.start({ htpasswd: { user: 'alice', password: 's3cret' } }),
      busyboxSandbox('gantry-e2e-login-'),
      mkdtemp('/var/tmp/gantry-docker-config-'),
    ]);
    env.DOCKER_CONFIG = configDir;
  });
  after(async () => {
    await Promise.all([reg?.stop(), destroyWithContainers(sb), configDir && rm(configDir, { recursive: true, force: true })]);
  });

  it('refuses without credentials, logs in, pushes and pulls, logs out', async () => {
    const name = `${reg.host}/private/busybox:1`;
    await sb.ok(['tag', 'busybox', name], { env });
    const denied = await sb.run(['push', name], { env });
    assert.equal(denied.code, 1);
    assert.equal(denied.stderr, `Error: no basic auth credentials (hint: log in with: gantry login ${reg.host})\n`);

    const wrong = await sb.run(['login', '-u', 'alice', '--password-stdin', reg.host], { env, input: 'wrong\n' });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, `Error: login attempt to http://${reg.host}/v2/ failed with status: 401 Unauthorized\n`);
    assert.equal(await readFile(join(configDir, 'config.json'), 'utf8').catch(() => 'absent'), 'absent', 'a failed login stores nothing');

    const login = await sb.ok(['login', '-u', 'alice', '--password-stdin', reg.host], { env, input: 's3cret\n' });
    assert.match(login.stdout, /Login Succeeded$/m);
    const config = JSON.parse(await readFile(join(configDir, 'config.json'), 'utf8'));
    assert.equal(Buffer.from(config.auths[reg.host].auth, 'base64').toString(), 'alice:s3cret');

    await sb.ok(['push', name], { env });
    await sb.ok(['rmi', name], { env });
    await sb.ok(['pull', name], { env });

    const logout = await sb.ok(['logout', reg.host], { env });
    assert.equal(logout.stdout, `Removing login credentials for ${reg.host}\n`);
    assert.equal((await sb.ok(['logout', reg.host], { env })).stdout, `Not logged in to ${reg.host}\n`);
    const after = await sb.run(['pull', `${reg.host}/private/busybox:1`], { env });
    assert.equal(after.code, 1);
    assert.match(after.stderr, /^Error: pull access denied for .*may require 'docker login'/);
  });

  it('asks for username and password on a terminal, without echoing the password', async () => {
    const dir = await mkdtemp('/var/tmp/gantry-docker-config-');
    try {
      const argv = [GANTRY, '--root', sb.root, 'login', reg.host].map((a) => `'${a}'`).join(' ');
      const child = spawn('script', ['-qec', argv, '/dev/null'], { env: { ...process.env, ...env, DOCKER_CONFIG: dir } });
      let out = '';
      // Each answer is typed once its prompt is shown, as a user would.
      const answers: [string, string][] = [['Username: ', 'alice\n'], ['Password: ', 's3cret\n']];
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (answers[0] && out.includes(answers[0][0])) child.stdin.write((answers.shift() as [string, string])[1]);
      });
      const code = await new Promise((r) => child.once('close', r));
      assert.equal(code, 0, out);
      assert.match(out, /Login Succeeded/);
      assert.ok(!out.includes('s3cret'), `the password was echoed: ${JSON.stringify(out)}`);
      const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
      assert.equal(config.auths[reg.host].auth, Buffer.from('alice:s3cret').toString('base64'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses conflicting and non-interactive logins with one line', async () => {
    const both = await sb.run(['login', '-u', 'a', '-p', 'b', '--password-stdin', reg.host], { env, input: 'x' });
    assert.equal(both.code, 1);
    assert.equal(both.stderr, 'Error: --password and --password-stdin are mutually exclusive\n');
    const noTty = await sb.run(['login', reg.host], { env: { ...env, DOCKER_CONFIG: '/var/tmp/gantry-nonexistent-config' }, input: '' });
    assert.equal(noTty.code, 1);
    assert.equal(noTty.stderr, 'Error: Cannot perform an interactive login from a non TTY device\n');
  });
});
