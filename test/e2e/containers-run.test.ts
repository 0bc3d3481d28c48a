/**
 * `gantry run` end to end, as Docker's `docker run`: stdio and exit codes, detached runs,
 * --rm, names, environment, working directory, users, entrypoint and image config rules,
 * hostname and the /etc files, labels, read-only roots, binds and volumes, stdin and ttys,
 * --init, and bad input (one clear error, Docker's exit code, nothing left behind).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { allIds, busyboxSandbox, destroyWithContainers, gantryArgv, inspect } from '../support/containers.js';
import { needsRoot, runCommand, type Sandbox } from '../support/harness.js';

const ID64 = /^[a-f0-9]{64}$/;

describe('gantry run', { skip: needsRoot }, () => {
  let sb: Sandbox;
  before(async () => {
    sb = await busyboxSandbox('gantry-e2e-run-');
  });
  after(() => destroyWithContainers(sb));

  /** Runs a container in the foreground and removes it afterwards; returns the run's result. */
  async function runRm(args: string[], options: { input?: string } = {}) {
    const r = await sb.run(['run', '--rm', ...args], options);
    return r;
  }

  /** Asserts a failed command created no container, and returns it. */
  async function failsWithNothingLeft(args: string[], code: number) {
    const before = await allIds(sb);
    const dirs = await readdir(join(sb.root, 'containers')).catch(() => []);
    const r = await sb.run(args);
    assert.equal(r.code, code, `exit code of gantry ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(r.stdout, '', 'nothing on stdout');
    assert.notEqual(r.stderr.trim(), '', 'an error on stderr');
    assert.deepEqual(await allIds(sb), before, 'no container left');
    assert.deepEqual(await readdir(join(sb.root, 'containers')).catch(() => []), dirs, 'no container directory left');
    return r;
  }

  it('foreground run passes stdout and stderr separately and returns the exit code', async () => {
    const r = await sb.run(['run', '--name', 'fg', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const c = await inspect(sb, 'fg');
    assert.equal(c.State.Status, 'exited');
    assert.equal(c.State.ExitCode, 3);
    await sb.ok(['rm', 'fg']);
  });

  it('-d prints the 64-hex ID; the container runs, and wait gives its exit code', async () => {
    const r = await sb.ok(['run', '-d', 'busybox', 'sh', '-c', 'echo detached; exit 4']);
    assert.match(r.stdout, /^[a-f0-9]{64}\n$/);
    assert.equal(r.stderr, '');
    const id = r.stdout.trim();
    assert.equal((await sb.ok(['wait', id])).stdout, '4\n');
    assert.equal((await sb.ok(['logs', id])).stdout, 'detached\n');
    assert.ok((await allIds(sb)).includes(id));
    await sb.ok(['rm', id]);
  });

  it('--rm leaves no container (foreground and detached)', async () => {
    const before = await allIds(sb);
    const r = await sb.run(['run', '--rm', '--name', 'gone', 'busybox', 'sh', '-c', 'echo bye; exit 2']);
    assert.deepEqual([r.code, r.stdout], [2, 'bye\n']);
    assert.deepEqual(await allIds(sb), before);
    const d = await sb.ok(['run', '-d', '--rm', 'busybox', 'true']);
    const id = d.stdout.trim();
    await sb.run(['wait', id]);
    // The monitor's exit hook removes it; allow it a moment.
    for (let i = 0; i < 100 && (await allIds(sb)).includes(id); i++) await new Promise((res) => setTimeout(res, 50));
    assert.ok(!(await allIds(sb)).includes(id), 'detached --rm container removed after it exits');
    assert.equal(existsSync(join(sb.root, 'containers', id)), false);
  });

  it('--name names the container; ps and inspect show it', async () => {
    const id = (await sb.ok(['run', '-d', '--name', 'named1', 'busybox', 'true'])).stdout.trim();
    await sb.ok(['wait', 'named1']);
    assert.equal((await sb.ok(['ps', '-a', '--filter', 'name=named1', '--format', '{{.Names}} {{.ID}}'])).stdout, `named1 ${id.slice(0, 12)}\n`);
    assert.equal((await inspect(sb, 'named1')).Name, '/named1');
    await sb.ok(['rm', 'named1']);
  });

  it('-e, --env-file and the image ENV are merged (image PATH kept, HOSTNAME and HOME set)', async () => {
    const envFile = join(sb.root, 'env.list');
    await writeFile(envFile, '# a comment\nFROM_FILE=file\nOVERRIDDEN=file\nPASSED\n');
    const r = await runRm(['-e', 'A=1', '-e', 'OVERRIDDEN=flag', '-e', 'PASSED', '-e', 'UNSET_HERE', '--env-file', envFile, 'busybox', 'env'], {});
    assert.equal(r.code, 0, r.stderr);
    const env = r.stdout.trim().split('\n').sort();
    assert.ok(env.includes('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'), r.stdout);
    assert.ok(env.includes('A=1'), r.stdout);
    assert.ok(env.includes('FROM_FILE=file'), r.stdout);
    assert.ok(env.includes('OVERRIDDEN=flag'), 'flags override the env file');
    assert.ok(env.includes('HOME=/root'), r.stdout);
    assert.ok(env.some((e) => /^HOSTNAME=[a-f0-9]{12}$/.test(e)), r.stdout);
    assert.ok(!env.some((e) => e.startsWith('UNSET_HERE')), 'a name-only -e of an unset variable is dropped');
    assert.ok(!env.some((e) => e.startsWith('PASSED')), 'PASSED is not set in the test environment either');
    const passed = await sb.run(['run', '--rm', '-e', 'PASSED', 'busybox', 'sh', '-c', 'echo "$PASSED"'], { env: { PASSED: 'from-cli' } });
    assert.equal(passed.stdout, 'from-cli\n');
  });

  it('-w creates a missing working directory', async () => {
    const r = await runRm(['-w', '/new/dir', 'busybox', 'sh', '-c', 'pwd; ls -ld /new/dir | cut -c1']);
    assert.deepEqual([r.code, r.stdout], [0, '/new/dir\nd\n']);
  });

  it('-u takes uid:gid, and names from the image\'s /etc/passwd', async () => {
    const numeric = await runRm(['-u', '1000:1000', 'busybox', 'id']);
    assert.equal(numeric.code, 0, numeric.stderr);
    assert.match(numeric.stdout, /^uid=1000 gid=1000( groups=1000)?\n$/);
    const named = await runRm(['-u', 'nobody', 'busybox', 'id']);
    assert.equal(named.code, 0, named.stderr);
    assert.match(named.stdout, /^uid=65534\(nobody\) gid=65534\(nogroup\)/);
    const home = await runRm(['-u', 'nobody', 'busybox', 'sh', '-c', 'echo $HOME']);
    assert.equal(home.stdout, '/home\n');
    const missing = await sb.run(['run', '--rm', '-u', 'nosuchuser', 'busybox', 'id']);
    assert.equal(missing.code, 125, missing.stderr);
    assert.match(missing.stderr, /unable to find user nosuchuser: no matching entries in passwd file/);
  });

  it('ENTRYPOINT/CMD rules, image ENV, WORKDIR and USER of an image (imported with --change)', async () => {
    const fs = (await sb.ok(['image', 'inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', 'busybox'])).stdout.trim();
    const tar = await runCommand('tar', ['-C', fs, '-c', '.']);
    assert.equal(tar.code, 0, tar.stderr);
    await sb.ok(
      [
        'import',
        '-c', 'ENTRYPOINT ["echo", "ep"]',
        '-c', 'CMD ["default"]',
        '-c', 'ENV FOO=img BAR=img',
        '-c', 'WORKDIR /app/sub',
        '-c', 'USER nobody',
        '-',
        'derived:1',
      ],
      { input: tar.stdoutBytes },
    );
    // No arguments: ENTRYPOINT + CMD.
    assert.equal((await runRm(['derived:1'])).stdout, 'ep default\n');
    // Arguments replace CMD, not ENTRYPOINT.
    assert.equal((await runRm(['derived:1', 'a', 'b'])).stdout, 'ep a b\n');
    // --entrypoint replaces ENTRYPOINT and drops the image's CMD.
    assert.equal((await runRm(['--entrypoint', 'echo', 'derived:1'])).stdout, '\n');
    assert.equal((await runRm(['--entrypoint', 'echo', 'derived:1', 'x'])).stdout, 'x\n');
    // Image ENV merged with -e (the flag wins), WORKDIR created, USER applied.
    const r = await runRm(['-e', 'FOO=cli', '--entrypoint', 'sh', 'derived:1', '-c', 'echo "$FOO $BAR"; pwd; id -un; echo "$PATH"']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'cli img\n/app/sub\nnobody\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
    // -u and -w override the image's.
    const o = await runRm(['-u', '0', '-w', '/', '--entrypoint', 'sh', 'derived:1', '-c', 'id -u; pwd']);
    assert.equal(o.stdout, '0\n/\n');
    await sb.ok(['create', '--name', 'cfg', 'derived:1', 'z']);
    const info = await inspect(sb, 'cfg');
    assert.deepEqual(info.Config.Entrypoint, ['echo', 'ep']);
    assert.deepEqual(info.Config.Cmd, ['z']);
    assert.equal(info.Path, 'echo');
    assert.deepEqual(info.Args, ['ep', 'z']);
    assert.equal(info.Config.WorkingDir, '/app/sub');
    assert.equal(info.Config.User, 'nobody');
    await sb.ok(['rm', 'cfg']);
  });

  it('--entrypoint overrides the image\'s (busybox has none)', async () => {
    const r = await runRm(['--entrypoint', 'echo', 'busybox', 'hello', 'world']);
    assert.deepEqual([r.code, r.stdout], [0, 'hello world\n']);
  });

  it('-h sets the hostname; by default it is the short container ID', async () => {
    assert.equal((await runRm(['-h', 'myhost', 'busybox', 'sh', '-c', 'hostname; cat /etc/hostname'])).stdout, 'myhost\nmyhost\n');
    const id = (await sb.ok(['run', '-d', 'busybox', 'sh', '-c', 'hostname; cat /etc/hostname; echo $HOSTNAME'])).stdout.trim();
    await sb.ok(['wait', id]);
    const short = id.slice(0, 12);
    assert.equal((await sb.ok(['logs', id])).stdout, `${short}\n${short}\n${short}\n`);
    assert.equal((await inspect(sb, id)).Config.Hostname, short);
    await sb.ok(['rm', id]);
  });

  it('/etc/hosts, /etc/hostname and /etc/resolv.conf are provided (bind-mounted)', async () => {
    const r = await runRm([
      '-h', 'box1', '--add-host', 'db.example:10.1.2.3', '--dns', '9.9.9.9', 'busybox', 'sh', '-c',
      'cat /etc/hosts; echo ---; cat /etc/hostname; echo ---; cat /etc/resolv.conf; echo ---; grep -E " /etc/(hosts|hostname|resolv.conf) " /proc/self/mounts | cut -d" " -f2 | sort',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [hosts, hostname, resolv, mounts] = r.stdout.split('---\n');
    assert.match(hosts as string, /^127\.0\.0\.1\s+localhost/m);
    assert.match(hosts as string, /^10\.1\.2\.3\s+db\.example$/m);
    assert.equal(hostname, 'box1\n');
    assert.match(resolv as string, /^nameserver 9\.9\.9\.9$/m);
    assert.equal(mounts, '/etc/hostname\n/etc/hosts\n/etc/resolv.conf\n');
  });

  it('--label sets labels; ps --filter label= finds them', async () => {
    const id = (await sb.ok(['create', '--label', 'tier=web', '--label', 'solo', 'busybox'])).stdout.trim();
    const other = (await sb.ok(['create', '--label', 'tier=db', 'busybox'])).stdout.trim();
    const q = async (f: string) => (await sb.ok(['ps', '-aq', '--no-trunc', '--filter', f])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(await q('label=tier=web'), [id]);
    assert.deepEqual(await q('label=tier'), [id, other].sort());
    assert.deepEqual(await q('label=solo'), [id]);
    assert.deepEqual((await inspect(sb, id)).Config.Labels, { tier: 'web', solo: '' });
    assert.equal((await sb.ok(['ps', '-a', '--filter', `id=${id}`, '--format', '{{.Label "tier"}}'])).stdout, 'web\n');
    await sb.ok(['rm', id, other]);
  });

  it('--read-only: the root is not writable, but a --tmpfs /tmp is', async () => {
    const r = await runRm(['--read-only', '--tmpfs', '/tmp', 'busybox', 'sh', '-c', 'touch /x; echo "root=$?"; touch /tmp/x && echo "tmp=$?"']);
    assert.equal(r.stdout, 'root=1\ntmp=0\n');
    assert.match(r.stderr, /Read-only file system/);
    const rw = await runRm(['busybox', 'sh', '-c', 'touch /x && echo ok']);
    assert.equal(rw.stdout, 'ok\n');
  });

  it('-v /hostdir:/data binds a host directory both ways', async () => {
    const host = join(sb.root, 'hostdir');
    await mkdir(host);
    await writeFile(join(host, 'from-host'), 'hello from host\n');
    const r = await runRm(['-v', `${host}:/data`, 'busybox', 'sh', '-c', 'cat /data/from-host; echo made inside > /data/from-container']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from host\n');
    assert.equal(await readFile(join(host, 'from-container'), 'utf8'), 'made inside\n');
    const ro = await runRm(['-v', `${host}:/data:ro`, 'busybox', 'sh', '-c', 'touch /data/nope']);
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);
    assert.equal(existsSync(join(host, 'nope')), false);
  });

  it('a named volume keeps its data across containers, and is listed with its mount', async () => {
    assert.equal((await runRm(['-v', 'vol1:/data', 'busybox', 'sh', '-c', 'echo persisted > /data/f'])).code, 0);
    assert.equal((await sb.ok(['volume', 'ls', '-q', '--filter', 'name=vol1'])).stdout, 'vol1\n');
    const second = await runRm(['--mount', 'type=volume,source=vol1,target=/other', 'busybox', 'cat', '/other/f']);
    assert.deepEqual([second.code, second.stdout], [0, 'persisted\n']);
    await sb.ok(['volume', 'rm', 'vol1']);
  });

  it('--mount of a bind source that does not exist: one error, exit 125, no container', async () => {
    const r = await failsWithNothingLeft(['run', '--mount', 'type=bind,source=/nonexistent-gantry-src,target=/x', 'busybox', 'true'], 125);
    assert.match(r.stderr, /invalid mount config for type "bind": bind source path does not exist: \/nonexistent-gantry-src/);
    assert.equal(r.stderr.trim().split('\n').filter((l) => /error/i.test(l)).length, 1, r.stderr);
  });

  it('exit codes: 127 for a command not found, 126 for a non-executable', async () => {
    const notFound = await sb.run(['run', '--rm', 'busybox', 'nosuch']);
    assert.equal(notFound.code, 127, notFound.stderr);
    assert.match(notFound.stderr, /exec: "nosuch": executable file not found in \$PATH/);
    assert.equal(notFound.stdout, '');
    const notExec = await sb.run(['run', '--rm', 'busybox', '/etc/passwd']);
    assert.equal(notExec.code, 126, notExec.stderr);
    assert.match(notExec.stderr, /permission denied/);
    const absent = await sb.run(['run', '--rm', 'busybox', '/no/such/file']);
    assert.equal(absent.code, 127, absent.stderr);
    assert.match(absent.stderr, /no such file or directory/);
  });

  it('exit codes 128+N: killed by SIGKILL gives 137, by SIGTERM (through --init) 143', async () => {
    const fg = sb.run(['run', '--name', 'victim', 'busybox', 'sleep', '30']);
    // Wait until it runs, then kill it from outside.
    for (let i = 0; i < 200; i++) {
      const s = await sb.run(['inspect', '-f', '{{.State.Running}}', 'victim']);
      if (s.stdout.trim() === 'true') break;
      await new Promise((res) => setTimeout(res, 25));
    }
    assert.equal((await sb.ok(['kill', 'victim'])).stdout, 'victim\n');
    const r = await fg;
    assert.equal(r.code, 137, r.stderr);
    assert.equal((await inspect(sb, 'victim')).State.ExitCode, 137);
    await sb.ok(['rm', 'victim']);
    // The shell is not PID 1 under --init, so it can die of its own SIGTERM.
    const term = await runRm(['--init', 'busybox', 'sh', '-c', 'kill -TERM $$; sleep 5']);
    assert.equal(term.code, 143, term.stderr);
    // A child killed by SIGKILL: the shell reports 137 and exits with it.
    const child = await runRm(['busybox', 'sh', '-c', 'sleep 5 & kill -9 $!; wait $!']);
    assert.equal(child.code, 137);
  });

  it('-i passes piped stdin to the container; without -i it gets none', async () => {
    const r = await sb.run(['run', '--rm', '-i', 'busybox', 'cat'], { input: 'hi\nthere\n' });
    assert.deepEqual([r.code, r.stdout], [0, 'hi\nthere\n']);
    const big = 'x'.repeat(200_000) + '\n';
    const wc = await sb.run(['run', '--rm', '-i', 'busybox', 'wc', '-c'], { input: big });
    assert.equal(wc.stdout.trim(), String(big.length));
    const no = await sb.run(['run', '--rm', 'busybox', 'cat'], { input: 'ignored\n' });
    assert.deepEqual([no.code, no.stdout], [0, '']);
  });

  it('-t allocates a terminal; -it needs one on stdin', async () => {
    const t = await runRm(['-t', 'busybox', 'sh', '-c', 'tty; echo "TERM=$TERM"']);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^\/dev\/pts\/\d+\r\nTERM=xterm\r\n$/);
    const noTty = await sb.run(['run', '--rm', '-it', 'busybox', 'true']);
    assert.deepEqual([noTty.code, noTty.stderr], [1, 'the input device is not a TTY\n']);
    // Under script(1), stdin is a terminal, so -it works; the terminal's size is passed on.
    const [bin, argv] = gantryArgv(sb, ['run', '--rm', '-it', 'busybox', 'sh', '-c', "'tty; stty size; exit 5'"]);
    const s = await runCommand('script', ['-qec', `stty rows 30 cols 100; ${[bin, ...argv].join(' ')}`, '/dev/null']);
    // script(1) passes the end of its (empty) input on as a NUL, which the terminal echoes as ^@.
    const shown = s.stdout.replaceAll('^@', '');
    assert.match(shown, /\/dev\/pts\/\d+\r*\n/, s.stdout + s.stderr);
    assert.match(shown, /^30 100\r*\n/m, JSON.stringify(s.stdout));
    assert.equal(s.code, 5, 'script -e returns the exit code');
  });

  it('--init runs docker-init as PID 1', async () => {
    const r = await runRm(['--init', 'busybox', 'ps', '-o', 'pid,args']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\s*1\s+\/sbin\/docker-init -- ps -o pid,args$/m);
    const plain = await runRm(['busybox', 'sh', '-c', 'echo $$']);
    assert.equal(plain.stdout, '1\n');
  });

  it('an unknown image: Docker\'s message, exit 125, no container', async () => {
    const r = await failsWithNothingLeft(['run', 'nosuchimage'], 125);
    assert.equal(r.stderr.split('\n')[0], "Unable to find image 'nosuchimage:latest' locally");
    const tagged = await failsWithNothingLeft(['run', 'nosuchimage:v2', 'true'], 125);
    assert.equal(tagged.stderr.split('\n')[0], "Unable to find image 'nosuchimage:v2' locally");
    const create = await failsWithNothingLeft(['create', 'nosuchimage'], 125);
    assert.equal(create.stderr.split('\n')[0], "Unable to find image 'nosuchimage:latest' locally");
  });

  it('a name in use: Docker\'s Conflict message, exit 125, nothing created', async () => {
    const id = (await sb.ok(['create', '--name', 'xx', 'busybox'])).stdout.trim();
    assert.match(id, ID64);
    const r = await failsWithNothingLeft(['run', '--name', 'xx', 'busybox', 'true'], 125);
    assert.match(
      r.stderr,
      new RegExp(`Conflict\\. The container name "/xx" is already in use by container "${id}"\\. You have to remove \\(or rename\\) that container to be able to reuse that name\\.`),
    );
    const viaCreate = await failsWithNothingLeft(['create', '--name', '/xx', 'busybox'], 125);
    assert.match(viaCreate.stderr, /Conflict\. The container name "\/xx" is already in use/);
    // Docker's names have at least two characters.
    const short = await failsWithNothingLeft(['create', '--name', 'x', 'busybox'], 125);
    assert.match(short.stderr, /Invalid container name \(x\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_\.-\] are allowed/);
    await sb.ok(['rm', 'xx']);
  });

  it('invalid flags and limits: exit 125, nothing created', async () => {
    const restartRm = await failsWithNothingLeft(['run', '--restart', 'always', '--rm', 'busybox', 'true'], 125);
    assert.match(restartRm.stderr, /conflicting options: cannot specify both --restart and --rm/i);
    const unknown = await failsWithNothingLeft(['run', '--bogus', 'busybox'], 125);
    assert.match(unknown.stderr, /^unknown flag: --bogus\n/);
    const mem = await failsWithNothingLeft(['run', '--memory', 'lots', 'busybox', 'true'], 125);
    assert.match(mem.stderr, /invalid argument "lots" for "-m, --memory" flag/);
    const tiny = await failsWithNothingLeft(['run', '--memory', '1k', 'busybox', 'true'], 125);
    assert.match(tiny.stderr, /Minimum memory limit allowed is 6MB/);
    const cpus = await failsWithNothingLeft(['run', '--cpus', '1000', 'busybox', 'true'], 125);
    assert.match(cpus.stderr, /range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available/);
    const restart = await failsWithNothingLeft(['run', '--restart', 'sometimes', 'busybox', 'true'], 125);
    assert.match(restart.stderr, /invalid restart policy/);
    const cap = await failsWithNothingLeft(['run', '--cap-add', 'NOT_A_CAP', 'busybox', 'true'], 125);
    assert.match(cap.stderr, /unknown capability: "CAP_NOT_A_CAP"/);
    const name = await failsWithNothingLeft(['run', '--name', 'bad name', 'busybox', 'true'], 125);
    assert.match(name.stderr, /Invalid container name \(bad name\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_\.-\] are allowed/);
    const workdir = await failsWithNothingLeft(['run', '-w', 'relative', 'busybox', 'true'], 125);
    assert.match(workdir.stderr, /the working directory 'relative' is invalid, it needs to be an absolute path/);
  });
});
