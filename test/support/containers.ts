/**
 * Helpers for the container end-to-end tests: a sandbox with busybox bootstrapped, polling,
 * gantry processes that can be killed mid-flight, and probes of what a container may leave
 * behind on the host (mounts, processes, runtime state, cgroups, network namespaces).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GANTRY, REPO, type Run, runDirOf, Sandbox } from './harness.js';

export { runDirOf };

/** A sandbox whose store has `busybox:latest` (from `gantry image bootstrap busybox`). */
export async function busyboxSandbox(prefix: string): Promise<Sandbox> {
  const sb = await Sandbox.create(prefix);
  await sb.ok(['image', 'bootstrap', 'busybox']);
  return sb;
}

/**
 * Removes every container of the sandbox (a safety net for `after`), waits for the monitors'
 * exit hooks to finish (they open the state root), then removes the sandbox.
 */
export async function destroyWithContainers(sb: Sandbox | undefined): Promise<void> {
  if (!sb) return;
  const ids = (await sb.run(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await sb.run(['rm', '-f', ...ids]);
  await pollUntil('no process of the sandbox', async () => processesMentioning([sb.root]).length === 0, 5000).catch(() => undefined);
  await sb.destroy(); // also removes the root's run directory
}


/** Calls `fn` every `intervalMs` until it returns a truthy value; fails after `timeoutMs`. */
export async function pollUntil<T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await sleep(intervalMs);
  }
}

/** `gantry inspect` of one container, parsed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function inspect(sb: Sandbox, id: string): Promise<any> {
  const r = await sb.ok(['inspect', id]);
  return JSON.parse(r.stdout)[0];
}

/** `gantry inspect -f TEMPLATE`, trimmed. */
export async function inspectF(sb: Sandbox, id: string, template: string): Promise<string> {
  return (await sb.ok(['inspect', '-f', template, id])).stdout.trim();
}

/** The full IDs `ps -a` lists. */
export async function allIds(sb: Sandbox): Promise<string[]> {
  return (await sb.ok(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
}

/** The command line of `gantry --root <root> ...args`, as the harness runs it. */
export function gantryArgv(sb: Sandbox, args: string[]): [string, string[]] {
  const all = ['--root', sb.root, ...args];
  return GANTRY.endsWith('.js') ? [process.execPath, [GANTRY, ...all]] : [GANTRY, all];
}

/**
 * Starts `gantry --root <root> ...args` as a child whose pid is the gantry (node) process
 * itself (bin/gantry execs node), so that signals reach gantry directly.
 */
export function spawnGantry(sb: Sandbox, args: string[]): ChildProcess {
  const [cmd, argv] = gantryArgv(sb, args);
  return spawn(cmd, argv, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Collects a spawned child's output and exit. */
export function collectChild(child: ChildProcess): Promise<Run & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? 128,
        signal,
        stdout: Buffer.concat(out).toString(),
        stdoutBytes: Buffer.concat(out),
        stderr: Buffer.concat(err).toString(),
      }),
    );
  });
}

/** Live processes (not zombies) whose command line contains any of `needles`. */
export function processesMentioning(needles: readonly string[]): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      continue;
    }
    if (cmdline && needles.some((n) => cmdline.includes(n))) found.push({ pid: Number(name), cmdline });
  }
  return found;
}

/** True when a process with this pid exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Lines of /proc/mounts that mention `needle`. */
export function mountsMentioning(needle: string): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.includes(needle));
}

/** The cgroup directories (any v1 hierarchy, or v2) named after a container ID. */
export function cgroupDirsOf(id: string): string[] {
  const base = '/sys/fs/cgroup';
  const candidates = [join(base, 'gantry', id)];
  for (const h of readdirSync(base)) candidates.push(join(base, h, 'gantry', id));
  return candidates.filter((p) => existsSync(p));
}

/** Everything a container may leave behind on the host once removed; empty when clean. */
export function leftoversOf(sb: Sandbox, ids: readonly string[]): string[] {
  const out: string[] = [];
  const runDir = runDirOf(sb.root);
  for (const id of ids) {
    for (const m of mountsMentioning(id)) out.push(`mount: ${m}`);
    for (const p of processesMentioning([id])) out.push(`process ${p.pid}: ${p.cmdline}`);
    for (const c of cgroupDirsOf(id)) out.push(`cgroup: ${c}`);
    for (const sub of ['runtime', 'netns']) if (existsSync(join(runDir, sub, id))) out.push(`run state: ${join(runDir, sub, id)}`);
    if (existsSync(join(sb.root, 'containers', id))) out.push(`container dir: ${join(sb.root, 'containers', id)}`);
  }
  return out;
}

/** Files named after a container ID anywhere under the run directory (exit files, socket links, locks). */
export function runDirEntriesOf(sb: Sandbox, ids: readonly string[]): string[] {
  const runDir = runDirOf(sb.root);
  const out: string[] = [];
  if (!existsSync(runDir)) return out;
  for (const sub of readdirSync(runDir)) {
    let names: string[];
    try {
      names = readdirSync(join(runDir, sub));
    } catch {
      continue;
    }
    for (const n of names) if (ids.includes(n)) out.push(join(runDir, sub, n));
  }
  return out;
}
