/**
 * Container state survives crashes: a container whose monitor died is reported as exited
 * (never as a ghost running); gantry killed with SIGKILL at any moment leaves no corrupt
 * state (the next command works and lists every container in a whole state); rm leaves no
 * mounts, runtime state, cgroups, network namespaces or processes behind; concurrent runs.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  allIds,
  busyboxSandbox,
  cgroupDirsOf,
  collectChild,
  destroyWithContainers,
  inspect,
  inspectF,
  leftoversOf,
  mountsMentioning,
  pollUntil,
  processAlive,
  processesMentioning,
  runDirEntriesOf,
  runDirOf,
  spawnGantry,
} from '../support/containers.js';
import { needsRoot, runCommand, type Sandbox } from '../support/harness.js';

/** The states a container may be in when nothing is happening to it. */
const WHOLE_STATES = ['running', 'exited', 'created'];

/** PIDs of live processes in a container's cgroup (any hierarchy). */
function processesInCgroupOf(id: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cgroup`, 'utf8').includes(`/gantry/${id}`) && processAlive(Number(name))) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/** A live process's command line, space-separated; '' when there is none. */
function cmdlineOf(pid: number): string {
  if (!(pid > 0) || !processAlive(pid)) return '';
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** The container IDs the host shows any trace of for this sandbox (records, dirs, runtime state, monitors). */
function tracedIds(sb: Sandbox, listed: string[]): string[] {
  const ids = new Set(listed);
  const dir = join(sb.root, 'containers');
  if (existsSync(dir)) for (const n of readdirSync(dir)) if (/^[a-f0-9]{64}$/.test(n)) ids.add(n);
  for (const sub of ['runtime', 'netns', 'exits', 'sockets', 'locks']) {
    const d = join(runDirOf(sb.root), sub);
    if (existsSync(d)) for (const n of readdirSync(d)) if (/^[a-f0-9]{64}$/.test(n)) ids.add(n);
  }
  for (const p of processesMentioning([sb.root])) for (const m of p.cmdline.matchAll(/\b[a-f0-9]{64}\b/g)) ids.add(m[0]);
  return [...ids];
}

describe('container state across crashes', { skip: needsRoot }, () => {
  let sb: Sandbox;
  before(async () => {
    sb = await busyboxSandbox('gantry-e2e-state-');
  });
  after(() => destroyWithContainers(sb));

  /** Removes every container of the sandbox when the test ends, passed or failed. */
  function removeAllAfter(t: TestContext): void {
    t.after(async () => {
      const ids = (await sb.run(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await sb.run(['rm', '-f', ...ids]);
    });
  }

  /**
   * Asserts nothing of these containers is left on the host: mounts, processes, cgroups,
   * runtime state. With `wholeSandbox`, also that no mount or process mentions the sandbox.
   */
  async function assertNothingLeft(ids: string[], pids: number[] = [], wholeSandbox = false): Promise<void> {
    // Monitors and exit hooks finish asynchronously after rm: give them a moment.
    await pollUntil(
      'no process of the sandbox left',
      async () => processesMentioning(wholeSandbox ? [sb.root] : ids).length === 0 && ids.every((id) => processesInCgroupOf(id).length === 0),
      5000,
    ).catch(() => undefined);
    if (wholeSandbox) {
      assert.deepEqual(mountsMentioning(sb.root), [], 'no mount of the sandbox left');
      assert.deepEqual(processesMentioning([sb.root]), [], 'no conmon or gantry process of the sandbox left');
    }
    for (const id of ids) assert.deepEqual(processesInCgroupOf(id), [], `no process left in the cgroup of ${id}`);
    for (const pid of pids) assert.equal(processAlive(pid), false, `container process ${pid} is gone`);
    assert.deepEqual(leftoversOf(sb, ids), [], 'nothing left behind');
    const runtimeRoot = join(runDirOf(sb.root), 'runtime');
    if (existsSync(runtimeRoot)) {
      const list = await runCommand('runc', ['--root', runtimeRoot, 'list', '-q']);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stdout.trim(), '', 'runc knows no container');
    }
  }

  it('a container whose monitor was killed is reported as exited, never as a ghost running', async (t) => {
    removeAllAfter(t);
    const id = (await sb.ok(['run', '-d', '--name', 'orphan', 'busybox', 'sleep', '30'])).stdout.trim();
    const conmon = Number(readFileSync(join(sb.root, 'containers', id, 'conmon.pid'), 'utf8').trim());
    const pid = Number(await inspectF(sb, id, '{{.State.Pid}}'));
    assert.ok(processAlive(conmon) && processAlive(pid));
    assert.match(readFileSync(`/proc/${conmon}/cmdline`, 'utf8'), new RegExp(id));
    process.kill(conmon, 'SIGKILL');
    await pollUntil('conmon gone', async () => !processAlive(conmon));

    const ps = await sb.ok(['ps', '-a', '--filter', 'name=orphan', '--format', '{{.State}}|{{.Status}}']);
    assert.match(ps.stdout, /^exited\|Exited \(\d+\) .*ago\n$/);
    assert.equal((await sb.ok(['ps', '-q'])).stdout.includes(id.slice(0, 12)), false, 'not listed as running');
    const c = await inspect(sb, id);
    assert.equal(c.State.Status, 'exited');
    assert.equal(c.State.Running, false);
    assert.equal(c.State.Pid, 0);
    // Reported exited, so its process must not run on unsupervised.
    await pollUntil('container process gone', async () => !processAlive(pid), 5000).catch(() => undefined);
    assert.equal(processAlive(pid), false, 'the container process does not outlive its monitor as a ghost');
    assert.equal(mountsMentioning(join(sb.root, 'containers', id)).length, 0, 'its root filesystem is unmounted');
    // The container can be started again, and removed cleanly.
    await sb.ok(['start', 'orphan']);
    assert.equal(await inspectF(sb, id, '{{.State.Status}}'), 'running');
    await sb.ok(['rm', '-f', 'orphan']);
    await assertNothingLeft([id], [pid]);
  });

  it('gantry killed with SIGKILL at any moment leaves a consistent state that the next commands repair', async (t) => {
    removeAllAfter(t);
    // 1. `run -d` killed at different moments of its work.
    const delays = [0, 20, 50, 100, 150, 200, 300, 500, 800];
    const runs = delays.map((ms, i) => {
      const child = spawnGantry(sb, ['run', '-d', '--name', `k${i}`, 'busybox', 'sleep', '30']);
      const done = collectChild(child);
      setTimeout(() => child.kill('SIGKILL'), ms);
      return done;
    });
    await Promise.all(runs);

    // 2. A foreground `run` killed while its container runs: the container keeps running, as in Docker.
    const fg = spawnGantry(sb, ['run', '--name', 'fg', 'busybox', 'sleep', '30']);
    const fgDone = collectChild(fg);
    await pollUntil('fg running its command', async () => {
      const pid = Number((await sb.run(['inspect', '-f', '{{.State.Pid}}', 'fg'])).stdout.trim());
      return pid > 0 && cmdlineOf(pid) === 'sleep 30';
    });
    fg.kill('SIGKILL');
    await fgDone;

    // 3. stop, rm -f, restart and start killed half-way.
    const victims = [];
    for (const n of ['v1', 'v2', 'v3', 'v4']) victims.push((await sb.ok(['run', '-d', '--name', n, 'busybox', 'sleep', '30'])).stdout.trim());
    await sb.ok(['stop', '-t', '0', 'v4']);
    const interrupted = [
      [['stop', '-t', '5', 'v1'], 60],
      [['rm', '-f', 'v2'], 80],
      [['restart', '-t', '0', 'v3'], 120],
      [['start', 'v4'], 100],
    ] as const;
    await Promise.all(
      interrupted.map(([args, ms]) => {
        const child = spawnGantry(sb, [...args]);
        const done = collectChild(child);
        setTimeout(() => child.kill('SIGKILL'), ms);
        return done;
      }),
    );

    // The next command works and lists every container in a whole state.
    const ps = await sb.run(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.State}}']);
    assert.equal(ps.code, 0, ps.stderr);
    const rows = ps.stdout.split('\n').filter(Boolean).map((l) => l.split(' '));
    for (const [id, name, state] of rows) {
      assert.ok(WHOLE_STATES.includes(state as string), `${name} is ${state}`);
      const c = await inspect(sb, id as string);
      assert.equal(c.State.Status, state);
      // Running means its command runs (not a process stuck in the runtime's init, not a dead pid).
      if (state === 'running') assert.equal(cmdlineOf(c.State.Pid), 'sleep 30', `${name} runs for real (pid ${c.State.Pid})`);
      else assert.equal(c.State.Pid, 0);
    }
    const names = rows.map((r) => r[1]);
    assert.ok(names.includes('fg'), 'the killed foreground run left its container');
    assert.equal(await inspectF(sb, 'fg', '{{.State.Status}}'), 'running', 'killing the client does not stop the container');
    for (const n of ['v1', 'v3', 'v4']) assert.ok(names.includes(n), `${n} still listed`);
    // Names of containers whose creation was interrupted are free or taken by a whole container.
    for (let i = 0; i < delays.length; i++) {
      const r = await sb.run(['inspect', '-f', '{{.State.Status}}', `k${i}`]);
      if (r.code === 0) assert.ok(WHOLE_STATES.includes(r.stdout.trim()), `k${i}: ${r.stdout}`);
      else assert.match(r.stderr, /No such (container|object): k\d/);
    }

    // Every command still works on every container.
    await sb.ok(['stop', '-t', '0', 'v3']);
    await sb.ok(['start', 'v3']);
    const fresh = (await sb.ok(['run', '-d', 'busybox', 'sleep', '30'])).stdout.trim();
    assert.equal(await inspectF(sb, fresh, '{{.State.Status}}'), 'running');

    // And everything can be removed, leaving nothing behind.
    const pids = (await Promise.all(rows.map(async ([id]) => Number(await inspectF(sb, id as string, '{{.State.Pid}}'))))).filter((p) => p > 0);
    const ids = tracedIds(sb, await allIds(sb));
    const rm = await sb.run(['rm', '-f', ...(await allIds(sb))]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(await allIds(sb), []);
    await assertNothingLeft(ids, pids, true);
    assert.deepEqual(readdirSync(join(sb.root, 'containers')), [], 'no container directory left (not even of interrupted creates)');
  });

  it('rm leaves no mounts, runtime state, cgroups, network namespace or monitor behind', async (t) => {
    removeAllAfter(t);
    const id = (await sb.ok(['run', '-d', '--memory', '32m', '--tmpfs', '/scratch', '-v', `${sb.root}:/host:ro`, 'busybox', 'sleep', '30'])).stdout.trim();
    const pid = Number(await inspectF(sb, id, '{{.State.Pid}}'));
    const conmon = Number(readFileSync(join(sb.root, 'containers', id, 'conmon.pid'), 'utf8').trim());
    // While it runs, all of these exist (so the checks below look in the right places).
    assert.ok(mountsMentioning(id).length > 0, 'rootfs mounted');
    assert.ok(cgroupDirsOf(id).length > 0, 'cgroup exists');
    assert.ok(existsSync(join(runDirOf(sb.root), 'runtime', id)), 'runc state exists');
    assert.ok(existsSync(join(runDirOf(sb.root), 'netns', id)), 'network namespace exists');
    assert.ok(processesMentioning([id]).some((p) => p.pid === conmon), 'conmon runs');
    const exited = (await sb.ok(['run', '-d', 'busybox', 'true'])).stdout.trim();
    await sb.ok(['wait', exited]);

    assert.equal((await sb.ok(['rm', '-f', id])).stdout, `${id}\n`);
    assert.equal((await sb.ok(['rm', exited])).stdout, `${exited}\n`);
    await assertNothingLeft([id, exited], [pid, conmon]);
    assert.deepEqual(runDirEntriesOf(sb, [id, exited]), [], 'no exit file, socket link or lock left in the run directory');
  });

  it('ten concurrent run -d all end up running and listed', async (t) => {
    removeAllAfter(t);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => sb.run(['run', '-d', '--name', `par${i}`, 'busybox', 'sleep', '30'])));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const ids = results.map((r) => r.stdout.trim());
    for (const id of ids) assert.match(id, /^[a-f0-9]{64}$/);
    assert.equal(new Set(ids).size, 10);
    const running = (await sb.ok(['ps', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    assert.deepEqual([...running].sort(), [...ids].sort());
    const states = await sb.ok(['ps', '--format', '{{.Names}} {{.State}}']);
    assert.deepEqual(states.stdout.split('\n').filter(Boolean).sort(), Array.from({ length: 10 }, (_, i) => `par${i} running`).sort());
    for (const id of ids) assert.ok(processAlive(Number(await inspectF(sb, id, '{{.State.Pid}}'))));
    // Concurrent removal too.
    const pids = await Promise.all(ids.map(async (id) => Number(await inspectF(sb, id, '{{.State.Pid}}'))));
    const rms = await Promise.all(ids.map((id) => sb.run(['rm', '-f', id])));
    for (const r of rms) assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await allIds(sb), []);
    await assertNothingLeft(ids, pids);
  });

  it('concurrent commands on one container serialize: parallel starts and stops agree', async (t) => {
    removeAllAfter(t);
    const id = (await sb.ok(['create', '--name', 'shared', 'busybox', 'sleep', '30'])).stdout.trim();
    const starts = await Promise.all(Array.from({ length: 4 }, () => sb.run(['start', 'shared'])));
    for (const r of starts) assert.equal(r.code, 0, r.stderr);
    assert.equal(await inspectF(sb, id, '{{.State.Status}}'), 'running');
    assert.equal(processesMentioning([id]).filter((p) => p.cmdline.startsWith('/usr/bin/conmon') || p.cmdline.includes('conmon ')).length, 1, 'one monitor');
    const stops = await Promise.all(Array.from({ length: 3 }, () => sb.run(['stop', '-t', '0', 'shared'])));
    for (const r of stops) assert.equal(r.code, 0, r.stderr);
    assert.equal(await inspectF(sb, id, '{{.State.Status}}'), 'exited');
    await sleep(50);
    await sb.ok(['rm', 'shared']);
    await assertNothingLeft([id]);
  });
});
