/**
 * The container lifecycle commands end to end, with Docker's output shapes and exit codes:
 * create, start, stop, kill, restart, rm, pause, unpause, rename, wait; ps (columns, flags,
 * filters, formats); logs; exec; top; stats; inspect; container prune; volumes in use;
 * restart policies; and `system boot`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  allIds,
  busyboxSandbox,
  collectChild,
  destroyWithContainers,
  inspect,
  inspectF,
  pollUntil,
  processAlive,
  spawnGantry,
} from '../support/containers.js';
import { needsRoot, type Sandbox } from '../support/harness.js';

const EMPTY_PS = 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n';
/** Go's RFC3339Nano (the JSON of a time.Time: trailing zeros of the fraction trimmed). */
const RFC3339NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
/** The fixed-width form `logs -t` prints. */
const RFC3339NANO_FIXED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;
const ZERO_TIME = '0001-01-01T00:00:00Z';

describe('container lifecycle commands', { skip: needsRoot }, () => {
  let sb: Sandbox;
  before(async () => {
    sb = await busyboxSandbox('gantry-e2e-lifecycle-');
  });
  after(() => destroyWithContainers(sb));

  const lines = (s: string) => s.split('\n').filter(Boolean);

  it('ps of no containers prints Docker\'s header only', async () => {
    assert.equal((await sb.ok(['ps'])).stdout, EMPTY_PS);
    assert.equal((await sb.ok(['ps', '-a'])).stdout, EMPTY_PS);
    assert.equal((await sb.ok(['container', 'ls'])).stdout, EMPTY_PS);
    assert.equal((await sb.ok(['ps', '-q'])).stdout, '');
  });

  it('create, start, pause, unpause, rename, restart, kill, stop, wait and rm: output and states', async (t) => {
    removeAfter(t, 'lc1', 'lc2');
    const id = (await sb.ok(['create', '--name', 'lc1', 'busybox', 'sleep', '30'])).stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    assert.equal(await inspectF(sb, 'lc1', '{{.State.Status}} {{.State.Running}} {{.State.Pid}}'), 'created false 0');
    assert.equal((await sb.ok(['ps', '-a', '--format', '{{.Status}}', '--filter', 'name=lc1'])).stdout, 'Created\n');

    assert.deepEqual(await outErr(['start', 'lc1']), [0, 'lc1\n', '']);
    assert.equal(await inspectF(sb, 'lc1', '{{.State.Status}} {{.State.Running}}'), 'running true');
    // start of a running container is a no-op that still prints the name.
    assert.deepEqual(await outErr(['start', 'lc1']), [0, 'lc1\n', '']);

    assert.deepEqual(await outErr(['pause', 'lc1']), [0, 'lc1\n', '']);
    assert.equal(await inspectF(sb, 'lc1', '{{.State.Status}} {{.State.Paused}} {{.State.Running}}'), 'paused true true');
    assert.match((await sb.ok(['ps', '--format', '{{.Status}}', '--filter', 'name=lc1'])).stdout, /^Up .+ \(Paused\)\n$/);
    const again = await sb.run(['pause', 'lc1']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`Container ${id} is already paused`, 'i'));
    assert.deepEqual(await outErr(['unpause', 'lc1']), [0, 'lc1\n', '']);
    const notPaused = await sb.run(['unpause', 'lc1']);
    assert.equal(notPaused.code, 1);
    assert.match(notPaused.stderr, new RegExp(`Container ${id} is not paused`, 'i'));

    assert.deepEqual(await outErr(['rename', 'lc1', 'lc2']), [0, '', '']);
    assert.equal((await inspect(sb, id)).Name, '/lc2');
    const gone = await sb.run(['inspect', 'lc1']);
    assert.equal(gone.code, 1);

    const startedAt = await inspectF(sb, 'lc2', '{{.State.StartedAt}}');
    assert.deepEqual(await outErr(['restart', '-t', '0', 'lc2']), [0, 'lc2\n', '']);
    const restarted = await inspect(sb, 'lc2');
    assert.equal(restarted.State.Status, 'running');
    assert.notEqual(restarted.State.StartedAt, startedAt);
    assert.equal(restarted.RestartCount, 0, 'a manual restart is not counted');

    assert.deepEqual(await outErr(['kill', 'lc2']), [0, 'lc2\n', '']);
    assert.deepEqual(await outErr(['wait', 'lc2']), [0, '137\n', '']);
    const killed = await inspect(sb, 'lc2');
    assert.equal(killed.State.Status, 'exited');
    assert.equal(killed.State.ExitCode, 137);
    assert.match(killed.State.FinishedAt, RFC3339NANO);
    const killAgain = await sb.run(['kill', 'lc2']);
    assert.equal(killAgain.code, 1);
    assert.match(killAgain.stderr, new RegExp(`Cannot kill container: lc2: container ${id} is not running`, 'i'));
    // stop of a stopped container succeeds and prints the name.
    assert.deepEqual(await outErr(['stop', 'lc2']), [0, 'lc2\n', '']);

    // rm refuses a running container without -f.
    await sb.ok(['start', 'lc2']);
    const busy = await sb.run(['rm', 'lc2']);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /cannot remove container "\/lc2": container is running: stop the container before removing or force remove/);
    assert.deepEqual(await outErr(['stop', '-t', '0', 'lc2']), [0, 'lc2\n', '']);
    assert.deepEqual(await outErr(['rm', id.slice(0, 12)]), [0, `${id.slice(0, 12)}\n`, '']);
    assert.ok(!(await allIds(sb)).includes(id));
  });

  it('commands on an unknown container fail with "No such container", exit 1', async (t) => {
    removeAfter(t, 'some1');
    for (const args of [['start', 'nope'], ['stop', 'nope'], ['kill', 'nope'], ['rm', 'nope'], ['wait', 'nope'], ['logs', 'nope'], ['pause', 'nope'], ['container', 'inspect', 'nope'], ['exec', 'nope', 'true'], ['top', 'nope'], ['rename', 'nope', 'other']]) {
      const r = await sb.run(args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /No such container: nope/, args.join(' '));
    }
    // Several names: each is handled, each failure reported, exit 1.
    const id = (await sb.ok(['create', '--name', 'some1', 'busybox'])).stdout.trim();
    const r = await sb.run(['rm', 'nope', 'some1']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'some1\n');
    assert.match(r.stderr, /No such container: nope/);
    assert.ok(!(await allIds(sb)).includes(id));
  });

  it('stop sends SIGTERM, then SIGKILL after -t seconds (exit 137); a container that handles TERM stops at once', async (t) => {
    removeAfter(t, 'stubborn', 'polite', 'usr1');
    // PID 1 has no SIGTERM handler, so SIGTERM does nothing to it.
    await sb.ok(['run', '-d', '--name', 'stubborn', 'busybox', 'sleep', '30']);
    const t0 = Date.now();
    assert.equal((await sb.ok(['stop', '-t', '1', 'stubborn'])).stdout, 'stubborn\n');
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 4000, `stop -t 1 took ${took} ms`);
    assert.equal(await inspectF(sb, 'stubborn', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');

    await sb.ok(['run', '-d', '--name', 'polite', 'busybox', 'sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.1; done']);
    await pollUntil('polite running', async () => (await inspectF(sb, 'polite', '{{.State.Running}}')) === 'true');
    await new Promise((r) => setTimeout(r, 200)); // let the shell install its trap
    const t1 = Date.now();
    await sb.ok(['stop', 'polite']);
    assert.ok(Date.now() - t1 < 3000, `stop of a TERM-handling container took ${Date.now() - t1} ms`);
    assert.equal(await inspectF(sb, 'polite', '{{.State.ExitCode}}'), '7');
    // --stop-signal and stop -s.
    await sb.ok(['run', '-d', '--name', 'usr1', '--stop-signal', 'USR1', 'busybox', 'sh', '-c', 'trap "exit 10" USR1; while :; do sleep 0.1; done']);
    await new Promise((r) => setTimeout(r, 300));
    await sb.ok(['stop', 'usr1']);
    assert.equal(await inspectF(sb, 'usr1', '{{.State.ExitCode}}'), '10');
    await sb.ok(['rm', 'stubborn', 'polite', 'usr1']);
  });

  describe('ps', () => {
    let e0 = '';
    let e3 = '';
    let up = '';
    before(async () => {
      e0 = (await sb.ok(['run', '-d', '--name', 'ps-e0', 'busybox', 'true'])).stdout.trim();
      await sb.ok(['wait', e0]);
      e3 = (await sb.ok(['run', '-d', '--name', 'ps-e3', '--label', 'team=blue', 'busybox', 'sh', '-c', 'exit 3'])).stdout.trim();
      await sb.ok(['wait', e3]);
      up = (await sb.ok(['run', '-d', '--name', 'ps-up', '--label', 'team=red', 'busybox', 'sleep', '30'])).stdout.trim();
    });
    after(async () => {
      await sb.run(['rm', '-f', e0, e3, up]);
    });

    const ids = async (...args: string[]) => lines((await sb.ok(['ps', '-q', '--no-trunc', ...args])).stdout);

    it('lists running containers in Docker\'s table; -a adds the others, newest first', async () => {
      const r = await sb.ok(['ps']);
      const [head, row, extra] = r.stdout.split('\n');
      assert.match(head as string, /^CONTAINER ID {3}IMAGE {5}COMMAND {6,}CREATED {6,}STATUS {6,}PORTS {5}NAMES$/);
      assert.match(row as string, new RegExp(`^${up.slice(0, 12)} {3}busybox {3}"sleep 30" +\\S.* ago +Up .+ +ps-up$`));
      assert.equal(extra, '');
      assert.deepEqual(await ids('-a'), [up, e3, e0]);
      const all = (await sb.ok(['ps', '-a'])).stdout;
      assert.match(all, /Exited \(3\) .+ ago +ps-e3\n/);
      assert.match(all, /Exited \(0\) .+ ago +ps-e0\n/);
    });

    it('-q, -n, -l, --no-trunc and -s', async () => {
      assert.equal((await sb.ok(['ps', '-q'])).stdout, `${up.slice(0, 12)}\n`);
      assert.deepEqual(lines((await sb.ok(['ps', '-aq'])).stdout), [up, e3, e0].map((i) => i.slice(0, 12)));
      assert.deepEqual(await ids('-n', '2'), [up, e3]);
      assert.deepEqual(await ids('-l'), [up]);
      const full = await sb.ok(['ps', '-a', '--no-trunc', '--filter', 'name=ps-e3']);
      assert.match(full.stdout.split('\n')[1] as string, new RegExp(`^${e3} +busybox +"sh -c 'exit 3'"|^${e3} +busybox +"sh -c exit 3"`));
      const trunc = await sb.ok(['ps', '-a', '--filter', 'name=ps-e3', '--format', '{{.Command}}']);
      assert.match(trunc.stdout, /^"sh -c .*exit 3.*"\n$/);
      const sized = await sb.ok(['ps', '-s']);
      assert.match(sized.stdout.split('\n')[0] as string, / {3}NAMES {5}SIZE$/);
      assert.match(sized.stdout.split('\n')[1] as string, /ps-up +\d+(\.\d+)?k?B \(virtual \d+(\.\d+)?[kM]?B\)$/);
    });

    it('--filter status=, exited=, name=, label=, ancestor=, id=', async () => {
      assert.deepEqual(await ids('-a', '--filter', 'status=exited'), [e3, e0]);
      assert.deepEqual(await ids('--filter', 'status=running'), [up]);
      assert.deepEqual(await ids('-a', '--filter', 'exited=3'), [e3]);
      assert.deepEqual(await ids('-a', '--filter', 'exited=0'), [e0]);
      assert.deepEqual(await ids('-a', '--filter', 'name=ps-e'), [e3, e0]);
      assert.deepEqual(await ids('-a', '--filter', 'label=team'), [up, e3]);
      assert.deepEqual(await ids('-a', '--filter', 'label=team=blue'), [e3]);
      assert.deepEqual(await ids('-a', '--filter', 'ancestor=busybox'), [up, e3, e0]);
      assert.deepEqual(await ids('-a', '--filter', `id=${e0.slice(0, 6)}`), [e0]);
      const imageId = (await sb.ok(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim();
      assert.deepEqual(await ids('-a', '--filter', `ancestor=${imageId.slice(7, 19)}`), [up, e3, e0]);
      assert.deepEqual(await ids('-a', '--filter', 'ancestor=nosuchimage'), []);
      const bad = await sb.run(['ps', '--filter', 'colour=red']);
      assert.equal(bad.code, 1);
      assert.equal(bad.stderr, "Error: invalid filter 'colour'\n");
      // ancestor= takes any reference to the image, as Docker resolves it to the image.
      assert.deepEqual(await ids('-a', '--filter', 'ancestor=busybox:latest', '--filter', 'status=exited', '--filter', 'label=team'), [e3]);
      assert.deepEqual(await ids('-a', '--filter', 'ancestor=docker.io/library/busybox:latest'), [up, e3, e0]);
    });

    it('--format templates, table and json', async () => {
      const t = await sb.ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
      const rows = lines(t.stdout);
      assert.equal(rows.length, 3);
      assert.match(rows[0] as string, /^ps-up Up (Less than a second|\d+ seconds?)$/);
      assert.match(rows[1] as string, /^ps-e3 Exited \(3\) (Less than a second|\d+ seconds?) ago$/);
      const table = await sb.ok(['ps', '--format', 'table {{.Names}}\t{{.Image}}']);
      assert.equal(table.stdout, 'NAMES     IMAGE\nps-up     busybox\n');
      const json = lines((await sb.ok(['ps', '-a', '--format', 'json'])).stdout).map((l) => JSON.parse(l));
      assert.equal(json.length, 3);
      const first = json[0];
      assert.equal(first.ID, up.slice(0, 12));
      assert.equal(first.Names, 'ps-up');
      assert.equal(first.State, 'running');
      assert.equal(first.Labels, 'team=red');
      assert.equal(first.Command, '"sleep 30"');
      assert.match(first.CreatedAt, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \w+$/);
      // Docker's keys, all of them.
      assert.deepEqual(Object.keys(first).sort(), [
        'Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Ports', 'RunningFor', 'Size', 'State', 'Status',
      ]);
      assert.equal(first.LocalVolumes, '0');
    });

    it('top shows the container\'s processes; stats --no-stream shows a row with memory usage', async () => {
      const top = await sb.ok(['top', 'ps-up']);
      const [head, ...procs] = lines(top.stdout);
      assert.match(head as string, /^UID +PID +PPID +C +STIME +TTY +TIME +CMD$/);
      assert.equal(procs.length, 1, top.stdout);
      assert.match(procs[0] as string, /^root +\d+ +\d+ .* sleep 30$/);
      const pid = Number((procs[0] as string).split(/ +/)[1]);
      assert.equal(pid, Number(await inspectF(sb, 'ps-up', '{{.State.Pid}}')), 'host PID as in inspect');
      const stats = await sb.ok(['stats', '--no-stream']);
      const [sh, row, more] = stats.stdout.split('\n');
      // The NET I/O column is as wide as its values (a container on the default bridge has traffic).
      assert.match(sh as string, /^CONTAINER ID {3}NAME {6}CPU % {5}MEM USAGE \/ LIMIT {3}MEM % {5}NET I\/O +BLOCK I\/O {3}PIDS$/);
      assert.match(row as string, new RegExp(`^${up.slice(0, 12)} +ps-up +\\d+\\.\\d\\d% +\\d+(\\.\\d+)?(B|KiB|MiB) / \\d+(\\.\\d+)?(MiB|GiB|TiB) +\\d+\\.\\d\\d% +\\S+ / \\S+ +\\S+ / \\S+ +1$`));
      assert.equal(more, '');
    });
  });

  it('logs: stdout and stderr apart, -t RFC3339Nano, --tail, --since, --until', async (t) => {
    removeAfter(t, 'logger');
    const id = (await sb.ok(['run', '-d', '--name', 'logger', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; sleep 0.02; done; echo oops >&2'])).stdout.trim();
    await sb.ok(['wait', id]);
    const all = await sb.ok(['logs', 'logger']);
    assert.equal(all.stdout, 'line1\nline2\nline3\nline4\nline5\n');
    assert.equal(all.stderr, 'oops\n');
    // --tail counts the entries of both streams.
    const tail = await sb.ok(['logs', '--tail', '2', 'logger']);
    assert.deepEqual([tail.stdout, tail.stderr], ['line5\n', 'oops\n']);
    assert.equal((await sb.ok(['logs', '--tail', '3', 'logger'])).stdout, 'line4\nline5\n');
    assert.equal((await sb.ok(['logs', '-n', '0', 'logger'])).stdout, '');
    const stamped = await sb.ok(['logs', '-t', 'logger']);
    const rows = lines(stamped.stdout).map((l) => l.split(' '));
    assert.equal(rows.length, 5);
    for (const [ts, text] of rows) {
      assert.match(ts as string, RFC3339NANO_FIXED);
      assert.match(text as string, /^line\d$/);
    }
    assert.match(stamped.stderr, /^\d{4}-\d\d-\d\dT[\d:.]+Z oops\n$/);
    const third = (rows[2] as string[])[0] as string;
    assert.equal((await sb.ok(['logs', '--since', third, 'logger'])).stdout, 'line3\nline4\nline5\n');
    // Both ends are inclusive, as in Docker.
    assert.equal((await sb.ok(['logs', '--until', third, 'logger'])).stdout, 'line1\nline2\nline3\n');
    assert.equal((await sb.ok(['logs', '--since', '1h', 'logger'])).stdout, 'line1\nline2\nline3\nline4\nline5\n');
    assert.equal((await sb.ok(['logs', '--since', '2099-01-01T00:00:00Z', 'logger'])).stdout, '');
    await sb.ok(['rm', 'logger']);
  });

  it('logs -f follows until the container exits', async (t) => {
    removeAfter(t, 'follow');
    await sb.ok(['run', '-d', '--name', 'follow', 'busybox', 'sh', '-c', 'echo first; sleep 0.7; echo second']);
    const t0 = Date.now();
    const follow = collectChild(spawnGantry(sb, ['logs', '-f', 'follow']));
    const r = await follow;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'first\nsecond\n');
    assert.ok(Date.now() - t0 >= 400, 'returned only after the container ended');
    assert.equal(await inspectF(sb, 'follow', '{{.State.Status}}'), 'exited');
    await sb.ok(['rm', 'follow']);
  });

  it('exec: exit code, -e, -w, -u, missing commands, stopped containers', async (t) => {
    removeAfter(t, 'ex');
    await sb.ok(['run', '-d', '--name', 'ex', '-e', 'FROM_RUN=1', 'busybox', 'sleep', '30']);
    assert.equal((await sb.run(['exec', 'ex', 'sh', '-c', 'exit 5'])).code, 5);
    const r = await sb.ok(['exec', '-e', 'A=b', '-w', '/tmp', '-u', '1000:1000', 'ex', 'sh', '-c', 'echo "$A $FROM_RUN"; pwd; id -u; id -g']);
    assert.equal(r.stdout, 'b 1\n/tmp\n1000\n1000\n');
    const split = await sb.run(['exec', 'ex', 'sh', '-c', 'echo o; echo e >&2']);
    assert.deepEqual([split.stdout, split.stderr], ['o\n', 'e\n']);
    const stdin = await sb.run(['exec', '-i', 'ex', 'cat'], { input: 'piped\n' });
    assert.equal(stdin.stdout, 'piped\n');
    // Runs in the container's namespaces: same hostname, sees PID 1.
    const ns = await sb.ok(['exec', 'ex', 'sh', '-c', 'hostname; cat /proc/1/cmdline | tr "\\0" " "']);
    assert.equal(ns.stdout, `${(await inspectF(sb, 'ex', '{{.Id}}')).slice(0, 12)}\nsleep 30 `);
    const missing = await sb.run(['exec', 'ex', 'nosuch']);
    assert.equal(missing.code, 127, missing.stderr);
    assert.match(missing.stderr, /executable file not found in \$PATH/);
    const notExec = await sb.run(['exec', 'ex', '/etc/passwd']);
    assert.equal(notExec.code, 126, notExec.stderr);
    assert.match(notExec.stderr, /permission denied/);
    const rel = await sb.run(['exec', '-w', 'tmp', 'ex', 'true']);
    assert.notEqual(rel.code, 0);
    await sb.ok(['stop', '-t', '0', 'ex']);
    const stopped = await sb.run(['exec', 'ex', 'true']);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /container [a-f0-9]{64} is not running/i);
    await sb.ok(['rm', 'ex']);
  });

  it('inspect: State, Config, HostConfig and Mounts', async (t) => {
    removeAfter(t, 'insp');
    const id = (await sb.ok(['run', '-d', '--name', 'insp', '--memory', '64m', '-v', 'insp-vol:/data', 'busybox', 'sleep', '30'])).stdout.trim();
    const c = await inspect(sb, 'insp');
    assert.equal(c.Id, id);
    assert.equal(c.Name, '/insp');
    assert.match(c.Created, RFC3339NANO);
    assert.equal(c.State.Status, 'running');
    assert.equal(c.State.Running, true);
    assert.equal(c.State.Paused, false);
    assert.equal(c.State.OOMKilled, false);
    assert.equal(c.State.ExitCode, 0);
    assert.ok(c.State.Pid > 0 && processAlive(c.State.Pid), `pid ${c.State.Pid}`);
    assert.equal(readFileSync(`/proc/${c.State.Pid}/cmdline`, 'utf8'), 'sleep\x0030\x00');
    assert.match(c.State.StartedAt, RFC3339NANO);
    assert.equal(c.State.FinishedAt, ZERO_TIME);
    assert.equal(c.Config.Image, 'busybox');
    assert.deepEqual(c.Config.Cmd, ['sleep', '30']);
    assert.equal(c.Path, 'sleep');
    assert.deepEqual(c.Args, ['30']);
    assert.match(c.Image, /^sha256:[a-f0-9]{64}$/);
    assert.equal(c.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(c.RestartCount, 0);
    assert.equal(c.Mounts.length, 1);
    const [m] = c.Mounts;
    assert.equal(m.Type, 'volume');
    assert.equal(m.Name, 'insp-vol');
    assert.equal(m.Source, join(sb.root, 'volumes', 'insp-vol', '_data'));
    assert.equal(m.Destination, '/data');
    assert.equal(m.Driver, 'local');
    assert.equal(m.RW, true);
    assert.equal(await inspectF(sb, 'insp', '{{.HostConfig.Memory}} {{.State.Status}} {{.Config.Image}}'), '67108864 running busybox');
    await sb.ok(['stop', '-t', '0', 'insp']);
    const s = await inspect(sb, 'insp');
    assert.equal(s.State.Status, 'exited');
    assert.equal(s.State.Running, false);
    assert.equal(s.State.Pid, 0);
    assert.equal(s.State.ExitCode, 137);
    assert.match(s.State.FinishedAt, RFC3339NANO);
    assert.ok(Date.parse(s.State.FinishedAt) >= Date.parse(s.State.StartedAt));
    // The top-level inspect finds containers too.
    assert.equal(JSON.parse((await sb.ok(['inspect', 'insp'])).stdout)[0].Id, id);
    await sb.ok(['rm', 'insp']);
    await sb.ok(['volume', 'rm', 'insp-vol']);
    t.after(() => sb.run(['volume', 'rm', '-f', 'insp-vol']).then(() => undefined));
  });

  it('container prune -f removes stopped containers only', async () => {
    const stoppedBefore = lines((await sb.ok(['ps', '-aq', '--no-trunc', '--filter', 'status=exited', '--filter', 'status=created'])).stdout);
    const runningBefore = lines((await sb.ok(['ps', '-q', '--no-trunc'])).stdout);
    const a = (await sb.ok(['create', 'busybox'])).stdout.trim();
    const b = (await sb.ok(['run', '-d', 'busybox', 'true'])).stdout.trim();
    await sb.ok(['wait', b]);
    const keep = (await sb.ok(['run', '-d', 'busybox', 'sleep', '30'])).stdout.trim();
    // Without -f it asks first, as image and volume prune do (the answer's newline echoed on a pipe).
    const asked = await sb.ok(['container', 'prune'], { input: 'n\n' });
    assert.equal(asked.stdout, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] \n');
    assert.ok(lines((await sb.ok(['ps', '-aq', '--no-trunc'])).stdout).includes(a), 'answering no removes nothing');
    const r = await sb.ok(['container', 'prune', '-f']);
    const out = r.stdout.split('\n');
    const n = stoppedBefore.length + 2;
    assert.equal(out[0], 'Deleted Containers:');
    assert.deepEqual(out.slice(1, 1 + n).sort(), [...stoppedBefore, a, b].sort());
    assert.equal(out[1 + n], '');
    assert.match(out[2 + n] as string, /^Total reclaimed space: \d+(\.\d+)?k?B$/);
    assert.deepEqual((await allIds(sb)).sort(), [keep, ...runningBefore].sort());
    assert.equal((await sb.ok(['container', 'prune', '-f'])).stdout, 'Total reclaimed space: 0B\n');
    await sb.ok(['rm', '-f', keep]);
  });

  it('volume rm of a volume in use fails; rm -v removes anonymous volumes only', async (t) => {
    removeAfter(t, 'volu');
    const user = (await sb.ok(['create', '--name', 'volu', '-v', 'busyvol:/data', '-v', '/anon', 'busybox'])).stdout.trim();
    const r = await sb.run(['volume', 'rm', 'busyvol']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`remove busyvol: volume is in use - \\[${user}\\]`));
    const anon = (await inspect(sb, 'volu')).Mounts.find((m: { Destination: string }) => m.Destination === '/anon').Name as string;
    assert.match(anon, /^[a-f0-9]{64}$/);
    // rm without -v keeps the anonymous volume.
    const keeper = (await sb.ok(['create', '-v', '/kept', 'busybox'])).stdout.trim();
    const kept = (await inspect(sb, keeper)).Mounts[0].Name as string;
    await sb.ok(['rm', keeper]);
    const vols = async () => lines((await sb.ok(['volume', 'ls', '-q'])).stdout);
    assert.ok((await vols()).includes(kept));
    await sb.ok(['rm', '-v', 'volu']);
    const after = await vols();
    assert.ok(!after.includes(anon), 'anonymous volume removed by rm -v');
    assert.ok(after.includes('busyvol'), 'named volume kept by rm -v');
    await sb.ok(['volume', 'rm', 'busyvol', kept]);
  });

  it('restart policy on-failure:2 restarts twice, then stays exited', async (t) => {
    removeAfter(t, 'flaky', 'fine');
    await sb.ok(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo ran; exit 1']);
    const settled = await pollUntil(
      'two restarts',
      async () => {
        const s = await inspectF(sb, 'flaky', '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}');
        return s === '2 exited 1' ? s : undefined;
      },
      15_000,
      100,
    );
    assert.equal(settled, '2 exited 1');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await inspectF(sb, 'flaky', '{{.RestartCount}} {{.State.Status}}'), '2 exited');
    assert.equal((await sb.ok(['logs', 'flaky'])).stdout, 'ran\nran\nran\n');
    assert.equal(await inspectF(sb, 'flaky', '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}'), 'on-failure 2');
    // A success is not restarted.
    await sb.ok(['run', '-d', '--name', 'fine', '--restart', 'on-failure:2', 'busybox', 'true']);
    await sb.ok(['wait', 'fine']);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await inspectF(sb, 'fine', '{{.RestartCount}} {{.State.Status}}'), '0 exited');
    await sb.ok(['rm', '-f', 'flaky', 'fine']);
  });

  it('system boot starts an "always" container that was stopped out of band (as by a reboot)', async (t) => {
    removeAfter(t, 'svc', 'once', 'held');
    const help = await sb.run(['system', 'boot', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage: +gantry system boot/);
    const always = (await sb.ok(['run', '-d', '--name', 'svc', '--restart', 'always', 'busybox', 'sleep', '30'])).stdout.trim();
    const once = (await sb.ok(['run', '-d', '--name', 'once', 'busybox', 'sleep', '30'])).stdout.trim();
    const stopped = (await sb.ok(['run', '-d', '--name', 'held', '--restart', 'unless-stopped', 'busybox', 'sleep', '30'])).stdout.trim();
    await sb.ok(['stop', '-t', '0', 'held']);
    // Out of band: the monitor and the container's process die without gantry (a reboot does this).
    for (const id of [always, once]) {
      const conmon = Number(readFileSync(join(sb.root, 'containers', id, 'conmon.pid'), 'utf8').trim());
      const pid = Number(await inspectF(sb, id, '{{.State.Pid}}'));
      process.kill(conmon, 'SIGKILL');
      process.kill(pid, 'SIGKILL');
      await pollUntil('processes gone', async () => !processAlive(conmon) && !processAlive(pid));
    }
    const running = lines((await sb.ok(['ps', '-q', '--no-trunc'])).stdout);
    assert.ok(!running.includes(always) && !running.includes(once), 'neither runs after the "reboot"');
    const boot = await sb.ok(['system', 'boot']);
    assert.deepEqual(lines(boot.stdout), [always]);
    assert.equal(await inspectF(sb, 'svc', '{{.State.Status}}'), 'running');
    assert.equal(await inspectF(sb, 'once', '{{.State.Status}}'), 'exited');
    assert.equal(await inspectF(sb, 'held', '{{.State.Status}}'), 'exited');
    assert.equal((await sb.ok(['system', 'boot'])).stdout, '', 'a second boot starts nothing');
    await sb.ok(['rm', '-f', always, once, stopped]);
  });

  it('system df counts containers, port lists no mappings, and --runtime picks the OCI runtime', async (t) => {
    removeAfter(t, 'df-up', 'df-done');
    await sb.ok(['run', '-d', '--name', 'df-up', 'busybox', 'sleep', '30']);
    await sb.ok(['run', '--name', 'df-done', 'busybox', 'sh', '-c', 'echo data > /file']);
    const row = lines((await sb.ok(['system', 'df'])).stdout).find((l) => l.startsWith('Containers'));
    assert.match(row ?? '', /^Containers\s+2\s+1\s+\S+\s+\S+ \(\d+%\)$/);
    // Without published ports Docker's `port` prints nothing and succeeds.
    assert.deepEqual(await outErr(['port', 'df-up']), [0, '', '']);
    assert.equal(await inspectF(sb, 'df-up', '{{.HostConfig.Runtime}}'), 'runc');
    // crun is installed by setup.sh but refuses this host's hybrid cgroup layout: its own
    // error, Docker's exit code, and --rm leaves nothing; an unknown runtime is refused first.
    const crun = await sb.run(['run', '--rm', '--runtime', 'crun', 'busybox', 'true']);
    assert.equal(crun.code, 125, crun.stderr);
    assert.match(crun.stderr, /^Error: .*(crun|cgroup).*\n$/);
    const unknown = await sb.run(['run', '--rm', '--runtime', 'nosuchruntime', 'busybox', 'true']);
    assert.equal(unknown.code, 125);
    assert.match(unknown.stderr, /unknown or invalid runtime name: nosuchruntime/);
    assert.deepEqual(lines((await sb.ok(['ps', '-a', '--format', '{{.Names}}'])).stdout).sort(), ['df-done', 'df-up']);
  });

  /** Removes these containers when the test ends, passed or failed. */
  function removeAfter(t: TestContext, ...names: string[]): void {
    t.after(async () => {
      await sb.run(['rm', '-f', ...names]);
    });
  }

  /** [exit code, stdout, stderr] of a command. */
  async function outErr(args: string[]): Promise<[number, string, string]> {
    const r = await sb.run(args);
    return [r.code, r.stdout, r.stderr];
  }
});
