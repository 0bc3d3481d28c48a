/**
 * `exec`: a command in a running container through the OCI runtime (`runc exec --process`),
 * with the container's process settings (capabilities, seccomp, rlimits, no-new-privileges)
 * and the exec's changes (command, env, user, working directory, terminal). runc runs in the
 * foreground: it relays the terminal and forwards signals itself.
 */
import type { StdioOptions } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join, posix } from 'node:path';
import { errors, GantryError } from '../core/errors.js';
import { ALL_CAPABILITIES } from '../runtime/capabilities.js';
import type { RuntimeSpec } from '../runtime/oci-runtime-types.js';
import type { OciRuntime } from '../runtime/runc.js';
import { resolveInRoot } from '../runtime/secure-path.js';
import { jsonWithBigints, RLIM_INFINITY } from '../runtime/spec.js';
import { resolveUser } from '../runtime/users.js';
import { DEFAULT_PATH, mergeEnv } from './config.js';
import type { ContainerRecord } from './container-store.js';
import type { ContainerPaths } from './paths.js';

/** `exec` options. */
export interface ExecOptions {
  cmd: string[];
  tty?: boolean;
  detach?: boolean;
  env?: string[];
  workdir?: string;
  user?: string;
  privileged?: boolean;
}

/** Runs the exec; resolves to the command's exit code (at once, 0, with `detach`). */
export async function execInContainer(rec: ContainerRecord, paths: ContainerPaths, runtime: OciRuntime, opts: ExecOptions, stdio: StdioOptions): Promise<number> {
  if (rec.status === 'paused') throw errors.conflict(`Container ${rec.id} is paused, unpause the container before exec`);
  if (rec.status !== 'running') throw errors.conflict(`Container ${rec.id} is not running`);
  const bundle = paths.dir(rec.id);
  const spec = JSON.parse(readFileSync(paths.file(rec.id, 'config.json'), 'utf8')) as RuntimeSpec;
  const root = `/proc/${rec.pid}/root`;
  const base = spec.process;
  const user = opts.user ? resolveUser(root, opts.user, rec.spec.hostConfig.GroupAdd ?? []) : undefined;
  let env = mergeEnv(base.env ?? [], opts.env ?? []);
  if (user && opts.user && !(opts.env ?? []).some((e) => e.startsWith('HOME='))) env = mergeEnv(env, [`HOME=${user.home}`]);
  if (opts.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  const cwd = opts.workdir || base.cwd || '/';
  const found = lookPath(root, opts.cmd[0] ?? '', env);
  if (found) throw new GantryError('FAILED_PRECONDITION', `OCI runtime exec failed: exec failed: unable to start container process: ${found}`);
  const process_ = {
    ...base,
    terminal: opts.tty ?? false,
    args: opts.cmd,
    env,
    cwd,
    user: user ? { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids } : base.user,
    ...(opts.privileged ? { capabilities: privilegedCaps() } : {}),
  };
  // JSON.parse rounded 64-bit limits (RLIM_INFINITY): put the exact value back.
  process_.rlimits = process_.rlimits?.map((r) => ({
    ...r,
    soft: Number(r.soft) >= 2 ** 53 ? RLIM_INFINITY : r.soft,
    hard: Number(r.hard) >= 2 ** 53 ? RLIM_INFINITY : r.hard,
  }));
  const file = join(bundle, `exec-${process.pid}-${Date.now().toString(36)}.json`);
  writeFileSync(file, jsonWithBigints(process_));
  try {
    const args = ['--process', file, ...(opts.detach ? ['--detach'] : []), rec.id];
    const child = runtime.execSpawn(args, opts.detach ? 'ignore' : stdio);
    return await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)));
    });
  } finally {
    rmSync(file, { force: true });
  }
}

/** A signal's number (for 128+N exit codes). */
function signalNumber(signal: NodeJS.Signals): number {
  return (osConstants.signals as Record<string, number>)[signal] ?? 0;
}

/** Every capability, for `exec --privileged`. */
function privilegedCaps() {
  const all = [...ALL_CAPABILITIES];
  return { bounding: all, effective: all, permitted: all };
}

/**
 * Checks that a command can be run in the container (as the runtime would find it), and
 * returns the runtime's wording of why not, or undefined.
 */
function lookPath(root: string, cmd: string, env: readonly string[]): string | undefined {
  const executable = (p: string): 'ok' | 'missing' | 'denied' => {
    try {
      const st = statSync(resolveInRoot(root, p));
      if (st.isDirectory() || (st.mode & 0o111) === 0) return 'denied';
      return 'ok';
    } catch {
      return 'missing';
    }
  };
  if (!cmd) return 'exec: "": executable file not found in $PATH';
  if (cmd.includes('/')) {
    const r = executable(posix.isAbsolute(cmd) ? cmd : posix.join('/', cmd));
    if (r === 'missing') return `exec: "${cmd}": stat ${cmd}: no such file or directory`;
    if (r === 'denied') return `exec: "${cmd}": permission denied`;
    return undefined;
  }
  const path = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  let denied = false;
  for (const dir of path.split(':')) {
    const r = executable(posix.join(dir || '.', cmd));
    if (r === 'ok') return undefined;
    if (r === 'denied') denied = true;
  }
  return denied ? `exec: "${cmd}": permission denied` : `exec: "${cmd}": executable file not found in $PATH`;
}
