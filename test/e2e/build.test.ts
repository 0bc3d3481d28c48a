/**
 * `gantry build` end to end through the real binary: RUN in real containers (runc), COPY from
 * the context, image config and history as BuildKit writes them, the layer cache across
 * builds, multi-stage graphs run in parallel, outputs, and bad input that names the file and
 * line and leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxSandbox, destroyWithContainers, mountsMentioning } from '../support/containers.js';
import { spawn } from 'node:child_process';
import { GANTRY, needsRoot, type Sandbox } from '../support/harness.js';

/** Writes files (path → content) under a fresh context directory. */
async function context(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp('/var/tmp/gantry-ctx-');
  for (const [p, text] of Object.entries(files)) {
    await mkdir(join(dir, p, '..'), { recursive: true });
    await writeFile(join(dir, p), text);
  }
  return dir;
}

describe('gantry build', { skip: needsRoot }, () => {
  let sb: Sandbox;
  const dirs: string[] = [];
  const ctx = async (files: Record<string, string>) => {
    const d = await context(files);
    dirs.push(d);
    return d;
  };
  const inspect = async (name: string) => JSON.parse((await sb.ok(['image', 'inspect', name])).stdout)[0];
  /** No mounts, build containers or temporary step directories of this sandbox remain. */
  const assertClean = async () => {
    assert.deepEqual(mountsMentioning(sb.root), []);
    const tmp = await readdir(join(sb.root, 'snapshots', 'tmp')).catch(() => []);
    assert.deepEqual(tmp, [], 'snapshots/tmp is empty');
    const state = await readdir(join('/run', `gantry-${(await import('node:crypto')).createHash('sha256').update(sb.root).digest('hex').slice(0, 12)}`, 'runtime')).catch(() => []);
    assert.deepEqual(state.filter((n: string) => n.startsWith('build-')), [], 'no build container in the runtime');
  };

  before(async () => {
    sb = await busyboxSandbox('gantry-build-');
  });
  after(async () => {
    await destroyWithContainers(sb);
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('builds an image whose config, history and files are what the Dockerfile says', async () => {
    const dir = await ctx({
      Dockerfile: [
        'FROM busybox',
        'ARG GREETING=hello',
        'ENV APP_HOME=/srv/app LANG=C.UTF-8',
        'WORKDIR $APP_HOME',
        'COPY app/ ./',
        'COPY --chmod=0755 run.sh /usr/local/bin/run',
        'RUN echo "$GREETING from RUN" > built.txt && chmod 0640 built.txt && chown 0:1000 built.txt',
        'LABEL org.example.name="demo app" version=1',
        'EXPOSE 8080 53/udp',
        'VOLUME /data',
        'USER 1000:1000',
        'STOPSIGNAL SIGINT',
        'HEALTHCHECK --interval=5s CMD wget -q localhost:8080 || exit 1',
        'ENTRYPOINT ["/usr/local/bin/run"]',
        'CMD ["arg1"]',
        '',
      ].join('\n'),
      'app/main.txt': 'main file\n',
      'app/sub/nested.txt': 'nested\n',
      'run.sh': '#!/bin/sh\necho "run: $* $(cat /srv/app/built.txt) $(cat /srv/app/main.txt) $(id -u)"\n',
    });
    const r = await sb.ok(['build', '-t', 'demo:1', '--progress', 'plain', dir]);
    assert.match(r.stderr, /#\d+ \[internal\] load build definition from Dockerfile/);
    assert.match(r.stderr, /#\d+ \[stage-0 5\/5\] RUN echo "\$GREETING from RUN" > built.txt/);
    assert.match(r.stderr, /#\d+ writing image sha256:[a-f0-9]{64} done/);
    assert.match(r.stderr, /#\d+ naming to docker.io\/library\/demo:1 done/);
    const img = await inspect('demo:1');
    const c = img.Config;
    assert.deepEqual(c.Entrypoint, ['/usr/local/bin/run']);
    assert.deepEqual(c.Cmd, ['arg1']);
    assert.equal(c.WorkingDir, '/srv/app');
    assert.equal(c.User, '1000:1000');
    assert.equal(c.StopSignal, 'SIGINT');
    assert.deepEqual(c.ExposedPorts, { '53/udp': {}, '8080/tcp': {} });
    assert.deepEqual(c.Volumes, { '/data': {} });
    assert.deepEqual(c.Labels, { 'org.example.name': 'demo app', version: '1' });
    assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost:8080 || exit 1'], Interval: 5_000_000_000 });
    assert.ok(c.Env.includes('APP_HOME=/srv/app') && c.Env.includes('LANG=C.UTF-8'), c.Env.join());
    assert.ok(!c.Env.some((e: string) => e.startsWith('GREETING=')), 'build args stay out of the image');
    assert.equal(img.RootFS.Layers.length, 1 + 4, 'busybox + WORKDIR + 2 COPY + RUN');
    const history = (await sb.ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'demo:1'])).stdout.trim().split('\n');
    assert.equal(history[0], 'CMD ["arg1"]');
    assert.ok(history.includes('RUN |1 GREETING=hello /bin/sh -c echo "$GREETING from RUN" > built.txt && chmod 0640 built.txt && chown 0:1000 built.txt # buildkit'), history.join('\n'));
    assert.ok(history.includes('COPY app/ ./ # buildkit'), history.join('\n'));
    const out = await sb.ok(['run', '--rm', 'demo:1']);
    assert.equal(out.stdout, 'run: arg1 hello from RUN main file 1000\n');
    const files = await sb.ok(['run', '--rm', '--user', '0', '--entrypoint', 'sh', 'demo:1', '-c', 'stat -c "%a %u %n" built.txt sub/nested.txt /usr/local/bin/run']);
    assert.equal(files.stdout, '640 0 built.txt\n644 0 sub/nested.txt\n755 0 /usr/local/bin/run\n');
    await assertClean();
  });

  it('answers unchanged steps from the cache and re-runs only what a changed file affects', async () => {
    const dir = await ctx({
      Dockerfile: 'FROM busybox\nRUN echo one > /one\nCOPY a.txt /a.txt\nRUN cat /a.txt > /copy\nCOPY b.txt /b.txt\n',
      'a.txt': 'a1\n',
      'b.txt': 'b1\n',
    });
    const first = await sb.ok(['build', '-q', '-t', 'cached:1', dir]);
    const id1 = first.stdout.trim();
    assert.match(id1, /^sha256:[a-f0-9]{64}$/);
    const again = await sb.ok(['build', '--progress', 'plain', '-t', 'cached:2', dir]);
    assert.equal((again.stderr.match(/CACHED/g) ?? []).length, 4, again.stderr);
    assert.equal((await inspect('cached:2')).Id, id1, 'a full cache hit gives the same image');
    await writeFile(join(dir, 'a.txt'), 'a2\n');
    const changed = await sb.ok(['build', '--progress', 'plain', '-t', 'cached:3', dir]);
    const cached = [...changed.stderr.matchAll(/#(\d+) CACHED/g)].length;
    assert.equal(cached, 1, `only RUN echo one is cached:\n${changed.stderr}`);
    assert.equal((await sb.ok(['run', '--rm', 'cached:3', 'cat', '/copy'])).stdout, 'a2\n');
    const nocache = await sb.ok(['build', '--no-cache', '--progress', 'plain', dir]);
    assert.doesNotMatch(nocache.stderr, /CACHED/);
  });

  it('runs independent stages in parallel and builds only what the target needs', async () => {
    // Each stage waits for the other's mark in a shared cache mount: run one after the other,
    // both would give up after 20 s and fail.
    const wait = (me: string, other: string) =>
      `RUN --mount=type=cache,target=/sync,id=parallel-sync touch /sync/${me} && i=0; while [ ! -e /sync/${other} ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; [ -e /sync/${other} ] && echo ${me} > /${me}`;
    const dir = await ctx({
      Dockerfile: [
        'FROM busybox AS a',
        wait('a', 'b'),
        'FROM busybox AS b',
        wait('b', 'a'),
        'FROM busybox AS unused',
        'RUN exit 7',
        'FROM busybox AS final',
        'COPY --from=a /a /from-a',
        'COPY --from=b /b /from-b',
        'FROM final AS extra',
        'RUN echo extra > /extra',
        '',
      ].join('\n'),
    });
    const r = await sb.ok(['build', '--target', 'final', '-t', 'multi', '--progress', 'plain', dir]);
    assert.doesNotMatch(r.stderr, /exit 7|echo extra/, 'stages the target does not need are not built');
    assert.equal((await sb.ok(['run', '--rm', 'multi', 'cat', '/from-a', '/from-b'])).stdout, 'a\nb\n');
    const bad = await sb.run(['build', '--target', 'nope', dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /target stage "nope" could not be found/);
  });

  it('takes build args, labels, --iidfile, a Dockerfile elsewhere and one on stdin', async () => {
    const dir = await ctx({ 'docker/App.Dockerfile': 'FROM busybox\nARG V\nRUN echo "v=$V" > /v\n', 'x.txt': 'x' });
    const iid = join(dir, 'iid');
    await sb.ok(['build', '-f', join(dir, 'docker/App.Dockerfile'), '--build-arg', 'V=42', '--label', 'team=core', '--iidfile', iid, '-t', 'args', dir]);
    const img = await inspect('args');
    assert.equal(await readFile(iid, 'utf8'), img.Id);
    assert.equal(img.Config.Labels.team, 'core');
    assert.equal((await sb.ok(['run', '--rm', 'args', 'cat', '/v'])).stdout, 'v=42\n');
    const stdin = await sb.ok(['build', '-q', '-'], { input: 'FROM busybox\nRUN echo from-stdin > /s\n' });
    const id = stdin.stdout.trim();
    assert.equal((await sb.ok(['run', '--rm', id, 'cat', '/s'])).stdout, 'from-stdin\n');
    const warn = await sb.ok(['build', '--build-arg', 'UNUSED=1', '--progress', 'plain', '-'], { input: 'FROM busybox\n' });
    assert.match(warn.stderr, /build-args \[UNUSED\] were not consumed/);
  });

  it('exports the result as files with --output', async () => {
    const dir = await ctx({ Dockerfile: 'FROM scratch\nCOPY hello.txt /out/hello.txt\n', 'hello.txt': 'hi\n' });
    const out = join(dir, 'exported');
    await sb.ok(['build', '--output', `type=local,dest=${out}`, dir]);
    assert.equal(await readFile(join(out, 'out/hello.txt'), 'utf8'), 'hi\n');
    const tar = join(dir, 'out.tar');
    await sb.ok(['build', '-o', `type=tar,dest=${tar}`, dir]);
    const list = await (await import('../support/harness.js')).runCommand('tar', ['-tf', tar]);
    assert.match(list.stdout, /out\/hello.txt/);
  });

  it('keeps RUN --mount=type=cache directories across builds until builder prune', async () => {
    const dir = await ctx({ Dockerfile: 'FROM busybox\nARG N\nRUN --mount=type=cache,target=/cache echo "$N" >> /cache/log && cat /cache/log > /seen\n' });
    await sb.ok(['build', '--build-arg', 'N=1', '-t', 'cm', dir]);
    await sb.ok(['build', '--build-arg', 'N=2', '-t', 'cm', dir]);
    assert.equal((await sb.ok(['run', '--rm', 'cm', 'cat', '/seen'])).stdout, '1\n2\n');
    const du = (await sb.ok(['builder', 'du'])).stdout.split('\n');
    assert.match(du[0] as string, /^ID +RECLAIMABLE +SIZE +LAST ACCESSED$/);
    assert.ok(du.filter((l) => /^[0-9a-f]{25} +true +\S+/.test(l)).length >= 2, du.join('\n'));
    assert.match(du.find((l) => l.startsWith('Total:')) ?? '', /^Total:\s+\d/);
    const prune = await sb.ok(['builder', 'prune', '-a', '-f']);
    assert.match(prune.stdout, /Total:\t\d/);
    assert.equal((await sb.ok(['builder', 'du'])).stdout.split('\n').filter((l) => /^[0-9a-f]{25} /.test(l)).length, 0, 'prune empties the cache');
    await sb.ok(['build', '--build-arg', 'N=3', '-t', 'cm', dir]);
    assert.equal((await sb.ok(['run', '--rm', 'cm', 'cat', '/seen'])).stdout, '3\n');
    const rebuilt = await sb.ok(['build', '--build-arg', 'N=3', '--progress', 'plain', dir]);
    assert.match(rebuilt.stderr, /CACHED/);
    await sb.ok(['builder', 'prune', '-a', '-f']);
    const cold = await sb.ok(['build', '--build-arg', 'N=3', '--progress', 'plain', dir]);
    assert.doesNotMatch(cold.stderr, /#\d+ CACHED\n(?![\s\S]*FROM)/, 'pruned steps run again');
  });

  it('speaks the Dockerfile language: heredocs, ONBUILD, SHELL, ADD archives, COPY flags, RUN mounts and networks', async () => {
    const dir = await ctx({
      Dockerfile: [
        '# syntax=docker/dockerfile:1',
        'FROM busybox AS base',
        'ARG NAME=gantry',
        'ONBUILD RUN echo triggered > /onbuild',
        'SHELL ["/bin/sh", "-ec"]',
        'RUN <<EOF',
        'echo heredoc-1 > /h1',
        'echo heredoc-2 > /h2',
        'EOF',
        'COPY <<EOF /etc/greeting',
        'hello ${NAME}',
        'EOF',
        '',
        'FROM base AS child',
        'ADD archive.tar /unpacked/',
        'COPY --chown=1000:1000 --chmod=0600 secret.txt /owned',
        'COPY --parents a/*/*.txt /parents/',
        'COPY --exclude=*.log logs/ /logs/',
        'COPY --link link.txt /linked',
        'COPY --from=busybox /bin/busybox /bb',
        'RUN --mount=type=secret,id=token cat /run/secrets/token > /token-copy',
        'RUN --mount=type=bind,source=bind.txt,target=/mnt/b.txt cat /mnt/b.txt > /bound',
        'RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && ls /scratch > /tmpfs-seen',
        'RUN --network=none ls /sys/class/net > /nets',
        'HEALTHCHECK NONE',
        '',
      ].join('\n'),
      'secret.txt': 'mine\n',
      'a/x/one.txt': '1',
      'a/y/two.txt': '2',
      'a/y/skip.md': 'no',
      'logs/keep.txt': 'k',
      'logs/drop.log': 'd',
      'link.txt': 'l',
      'bind.txt': 'bound\n',
      'token.txt': 's3cret\n',
    });
    const packed = await ctx({ 'inside/file.txt': 'from the archive\n' });
    const tar = await (await import('../support/harness.js')).runCommand('tar', ['-cf', join(dir, 'archive.tar'), '-C', packed, 'inside']);
    assert.equal(tar.code, 0, tar.stderr);
    await sb.ok(['build', '--secret', `id=token,src=${join(dir, 'token.txt')}`, '-t', 'lang', dir]);
    const script = [
      'cat /h1 /h2 /etc/greeting /onbuild /unpacked/inside/file.txt /token-copy /bound /nets',
      'stat -c "%u:%g %a" /owned',
      'find /parents /logs -type f | sort',
      'cat /linked; echo',
      'test -x /bb && echo bb-ok',
      'ls /scratch 2>/dev/null | wc -l; cat /tmpfs-seen',
      'test -e /run/secrets/token || echo no-secret-left',
    ].join('; ');
    const out = await sb.ok(['run', '--rm', 'lang', 'sh', '-c', script]);
    assert.equal(
      out.stdout,
      [
        'heredoc-1', 'heredoc-2', 'hello gantry', 'triggered', 'from the archive', 's3cret', 'bound', 'lo',
        '1000:1000 600',
        '/logs/keep.txt', '/parents/a/x/one.txt', '/parents/a/y/two.txt',
        'l', 'bb-ok', '0', 'x', 'no-secret-left', '',
      ].join('\n'),
    );
    const img = await inspect('lang');
    assert.deepEqual(img.Config.Healthcheck, { Test: ['NONE'] });
    assert.deepEqual(img.Config.Shell, ['/bin/sh', '-ec']);
    assert.equal(img.Config.OnBuild, null, 'ONBUILD triggers are consumed by the child stage');
  });

  it('takes its context from a tarball on stdin, a local tarball and a git repository', async () => {
    const src = await ctx({ Dockerfile: 'FROM busybox\nCOPY . /ctx/\n', 'hello.txt': 'hi\n', 'sub/Dockerfile': 'FROM busybox\nCOPY inner.txt /\n', 'sub/inner.txt': 'inner\n' });
    const { runCommand } = await import('../support/harness.js');
    const tarball = join(await ctx({}), 'ctx.tar');
    assert.equal((await runCommand('tar', ['-cf', tarball, '-C', src, '.'])).code, 0);
    const { readFile: read } = await import('node:fs/promises');
    await sb.ok(['build', '-t', 'from-stdin', '-'], { input: await read(tarball) });
    assert.equal((await sb.ok(['run', '--rm', 'from-stdin', 'cat', '/ctx/hello.txt'])).stdout, 'hi\n');
    await sb.ok(['build', '-t', 'from-tarball', tarball]);
    assert.equal((await sb.ok(['run', '--rm', 'from-tarball', 'cat', '/ctx/sub/inner.txt'])).stdout, 'inner\n');
    const repo = join(await ctx({}), 'repo.git');
    const git = (...args: string[]) => runCommand('git', args, { cwd: src, env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
    for (const args of [['init', '-q', '-b', 'main'], ['add', '.'], ['commit', '-q', '-m', 'c'], ['clone', '-q', '--bare', src, repo]]) {
      const r = await git(...args);
      assert.equal(r.code, 0, r.stderr);
    }
    await sb.ok(['build', '-t', 'from-git', `file://${repo}#main:sub`]);
    assert.equal((await sb.ok(['run', '--rm', 'from-git', 'cat', '/inner.txt'])).stdout, 'inner\n');
    const bad = await sb.run(['build', `file://${repo}#nosuchref`]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /nosuchref/);
  });

  it('pushes the result with --push, honours --no-cache-filter and the host --platform', async () => {
    const { TestRegistry } = await import('../support/registry.js');
    const reg = await TestRegistry.start();
    try {
      const dir = await ctx({ Dockerfile: 'FROM busybox AS one\nRUN echo one > /one\nFROM one AS two\nRUN echo two > /two\n' });
      const name = `${reg.host}/built/app:1`;
      const r = await sb.ok(['build', '--push', '--platform', 'linux/amd64', '-t', name, dir]);
      const id = (await inspect(name)).Id;
      await sb.ok(['rmi', name]);
      await sb.ok(['pull', '-q', name]);
      assert.equal((await inspect(name)).Id, id, `the pushed image pulls back the same\n${r.stderr}`);
      const filtered = await sb.ok(['build', '--progress', 'plain', '--no-cache-filter', 'two', dir]);
      assert.equal([...filtered.stderr.matchAll(/#\d+ CACHED/g)].length, 1, `stage one is cached, stage two is not:\n${filtered.stderr}`);
      const other = await sb.run(['build', '--platform', 'linux/s390x', dir]);
      assert.equal(other.code, 1);
      assert.match(other.stderr.trim().split('\n').pop() as string, /linux\/s390x/);
    } finally {
      await reg.stop();
    }
  });

  it('streams a large context: a 256 MiB file is copied without being held in memory', async () => {
    const dir = await ctx({ Dockerfile: 'FROM busybox\nCOPY big.bin /big.bin\n' });
    const { open } = await import('node:fs/promises');
    const fh = await open(join(dir, 'big.bin'), 'w');
    const chunk = Buffer.alloc(1 << 20, 'gantry ');
    for (let i = 0; i < 256; i++) await fh.write(chunk);
    await fh.close();
    const { runCommand } = await import('../support/harness.js');
    const r = await runCommand('/usr/bin/time', ['-f', 'maxrss=%M', GANTRY, '--root', sb.root, 'build', '-q', '-t', 'big', dir]);
    assert.equal(r.code, 0, r.stderr);
    const rssKiB = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1]);
    assert.ok(rssKiB > 0 && rssKiB < 200 * 1024, `peak memory ${rssKiB} KiB for a 256 MiB context`);
    assert.equal((await sb.ok(['run', '--rm', 'big', 'stat', '-c', '%s', '/big.bin'])).stdout, `${256 << 20}\n`);
  });

  it('draws live progress on a terminal', async () => {
    const dir = await ctx({ Dockerfile: 'FROM busybox\nRUN echo on-a-tty\n' });
    const { runCommand } = await import('../support/harness.js');
    const r = await runCommand('script', ['-qec', `${GANTRY} --root ${sb.root} build --no-cache -t tty-build ${dir}`, '/dev/null']);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /\[\+\] Building \d+\.\d+s \(\d+\/\d+\) FINISHED/);
    assert.match(r.stdout, /=> \[stage-0 2\/2\] RUN echo on-a-tty/);
    assert.ok(r.stdout.includes('\u001b['), 'the view is redrawn with escape sequences');
  });

  describe('bad input: one clear error naming the file and line, nothing tagged, nothing left', () => {
    const failing = async (files: Record<string, string>, tag: string, pattern: RegExp, code = 1) => {
      const dir = await ctx(files);
      const r = await sb.run(['build', '-t', tag, '--progress', 'plain', dir]);
      assert.equal(r.code, code, r.stderr);
      const last = r.stderr.trim().split('\n').pop() as string;
      assert.match(last, pattern, r.stderr);
      const names = (await sb.ok(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout;
      assert.ok(!names.includes(tag), `${tag} must not be tagged`);
      await assertClean();
      return r;
    };

    it('a syntax error', async () => {
      await failing({ Dockerfile: 'FROM busybox\nRUNN echo\n' }, 'bad-syntax', /^Error: Dockerfile:2: unknown instruction: RUNN \(did you mean RUN\?\)/);
    });

    it('a failing RUN shows its exit code and its last output lines', async () => {
      const r = await failing(
        { Dockerfile: 'FROM busybox\nRUN echo ok > /ok\nRUN echo before-failure; echo to-stderr >&2; exit 3\n' },
        'bad-run',
        /^Error: Dockerfile:3: process "\/bin\/sh -c echo before-failure; echo to-stderr >&2; exit 3" did not complete successfully: exit code: 3/,
      );
      assert.match(r.stderr, / > \[stage-0 3\/3\] RUN echo before-failure/);
      assert.match(r.stderr, /before-failure/);
      assert.match(r.stderr, /to-stderr/);
    });

    it('a COPY of a missing file, and of one .dockerignore excludes', async () => {
      await failing({ Dockerfile: 'FROM busybox\nCOPY nope.txt /\n' }, 'bad-copy', /^Error: Dockerfile:2: .*"\/?nope.txt": not found/);
      await failing(
        { Dockerfile: 'FROM busybox\nCOPY secret.txt /\n', '.dockerignore': 'secret.txt\n', 'secret.txt': 's' },
        'bad-ignored',
        /^Error: Dockerfile:2: .*secret.txt.*not found/,
      );
    });

    it('a source through a symlink that leaves the context', async () => {
      const dir = await ctx({ Dockerfile: 'FROM busybox\nCOPY link /x\n' });
      await symlink('/etc/passwd', join(dir, 'link'));
      await symlink('../../../../etc', join(dir, 'up'));
      const r = await sb.run(['build', '-t', 'bad-link', dir]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr.trim().split('\n').pop() as string, /^Error: Dockerfile:2: .*(outside|forbidden|not found)/);
    });

    it('an ARG used before its definition is named with its file and line', async () => {
      const dir = await ctx({ Dockerfile: 'FROM busybox\nWORKDIR /app/$DIR\nARG DIR=x\nWORKDIR /app/$DIR\n' });
      const r = await sb.ok(['build', '--progress', 'plain', '-t', 'undefined-var', dir]);
      assert.match(r.stderr, /1 warning found:\n - UndefinedVar: Usage of undefined variable '\$DIR' \(Dockerfile:2\)\n/);
      assert.equal((await inspect('undefined-var')).Config.WorkingDir, '/app/x');
    });

    it('Ctrl-C stops a running step at once, or one being set up, and leaves nothing behind', async () => {
      // The mark is computed, so that the step's name in the progress does not contain it:
      // waiting for the name interrupts the step while it is set up, for the mark while it runs.
      const dir = await ctx({ Dockerfile: 'FROM busybox\nRUN echo $((6*7))-running; sleep 120\n' });
      for (const trigger of ['RUN echo', '42-running']) {
        const child = spawn(GANTRY, ['--root', sb.root, 'build', '--no-cache', '--progress', 'plain', '-t', 'interrupted', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
        await new Promise<void>((resolve) => {
          child.stderr.on('data', (d: Buffer) => {
            stderr += d.toString();
            if (stderr.includes(trigger)) resolve();
          });
          void exited.then(() => resolve());
        });
        const sent = Date.now();
        child.kill('SIGINT');
        const code = await exited;
        assert.notEqual(code, 0, stderr);
        assert.ok(Date.now() - sent < 60_000, `the sleep did not run to its end (SIGINT on ${trigger})`);
        assert.match(stderr.trim().split('\n').pop() as string, /^Error: .*cancel/i, stderr);
        const names = (await sb.ok(['images', '--format', '{{.Repository}}'])).stdout;
        assert.ok(!names.includes('interrupted'));
        await assertClean();
      }
    });

    it('an unknown base image and an unknown stage', async () => {
      await failing({ Dockerfile: 'FROM localhost:1/nosuch:1\n' }, 'bad-base', /^Error: Dockerfile:1: failed to resolve source metadata for localhost:1\/nosuch:1/);
      await failing({ Dockerfile: 'FROM busybox\nCOPY --from=nowhere /a /b\n' }, 'bad-stage', /^Error: Dockerfile:2: .*nowhere/);
    });
  });
});
