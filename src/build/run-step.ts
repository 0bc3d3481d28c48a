/**
 * RUN: a build step's command in a real container, through the OCI runtime, in the
 * foreground. The builder is the container's supervisor here (as BuildKit is), so there is no
 * conmon: `runc run` holds the process, its output comes back on pipes, and the container is
 * gone when the command exits. The spec is the one containers get (Docker's capabilities,
 * seccomp profile, masked paths), with BuildKit's hostname and /etc files.
 *
 * Mount points the runtime has to create (/proc, /etc/hosts, a cache mount's target...) would
 * otherwise end up in the step's layer as empty stubs; those that did not exist before the
 * run are removed after it, as BuildKit does.
 */
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { errors } from '../core/errors.js';
import { resolvConf } from '../containers/etc-files.js';
import type { OciRuntime } from '../runtime/runc.js';
import { buildSpec, specToJson } from '../runtime/spec.js';
import { NO_LIMITS, type ResolvedMount } from '../runtime/spec-input.js';
import { resolveUser } from '../runtime/users.js';
import type { StepFs } from './step-fs.js';

/** BuildKit's hostname for build containers. */
export const BUILD_HOSTNAME = 'buildkitsandbox';
/** Bytes of /dev/shm in a build container (Docker's default). */
const SHM_SIZE = 64 * 1024 * 1024;
/** The mount points every container gets (spec-mounts.ts) plus the /etc files bound below. */
const DEFAULT_MOUNT_POINTS = ['/proc', '/dev', '/sys', '/etc/hosts', '/etc/resolv.conf'];

/** One RUN. */
export interface RunStep {
  /** The runtime's container ID (unique per run). */
  id: string;
  fs: StepFs;
  args: string[];
  env: string[];
  cwd: string;
  /** USER, as written (`name`, `uid:gid`...): resolved in the step's file system. */
  user: string;
  network: 'none' | 'host';
  /** RUN --mount mounts, resolved. */
  mounts: ResolvedMount[];
  runtime: OciRuntime;
  output: (stream: 'stdout' | 'stderr', data: Buffer) => void;
  signal?: AbortSignal;
}

/** Runs the command; throws (BuildKit's words) when it fails or cannot start. */
export async function runStep(step: RunStep): Promise<void> {
  step.signal?.throwIfAborted();
  const { fs } = step;
  const rootfs = fs.rootfs;
  const user = resolveUser(rootfs, step.user);
  const stubs = missingMountPoints(rootfs, [...DEFAULT_MOUNT_POINTS, ...step.mounts.map((m) => m.destination)]);
  const hosts = fs.path('hosts');
  const resolv = fs.path('resolv.conf');
  writeFileSync(hosts, `127.0.0.1\tlocalhost ${BUILD_HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
  writeFileSync(resolv, resolvConf({ dns: [], search: [], options: [], hostNetwork: step.network === 'host' }));
  const bundle = fs.path('bundle');
  mkdirSync(bundle, { mode: 0o700 });
  const env = [...step.env];
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);
  const spec = buildSpec({
    id: step.id,
    rootfs,
    readonlyRootfs: false,
    args: step.args,
    env,
    cwd: step.cwd,
    user,
    terminal: false,
    hostname: BUILD_HOSTNAME,
    mounts: [
      { type: 'bind', source: hosts, destination: '/etc/hosts', readOnly: false },
      { type: 'bind', source: resolv, destination: '/etc/resolv.conf', readOnly: false },
      ...step.mounts,
    ],
    netns: step.network === 'host' ? 'host' : '',
    cgroupsPath: `/gantry/${step.id}`,
    resources: { ...NO_LIMITS },
    ulimits: [],
    capAdd: [],
    capDrop: [],
    privileged: false,
    noNewPrivileges: false,
    seccomp: true,
    shmSize: SHM_SIZE,
    sysctls: {},
  });
  writeFileSync(join(bundle, 'config.json'), specToJson(spec));
  try {
    const code = await execute(step, bundle);
    if (code !== 0) {
      step.signal?.throwIfAborted();
      throw errors.invalid(`process ${JSON.stringify(step.args.join(' '))} did not complete successfully: exit code: ${code}`);
    }
  } finally {
    removeStubs(rootfs, stubs);
  }
}

/** Runs `runc run` and resolves with the command's exit code. */
function execute(step: RunStep, bundle: string): Promise<number> {
  const { runtime, signal } = step;
  return new Promise((resolve, reject) => {
    const child = spawn(runtime.binary, [...runtime.globalArgs(), 'run', '--bundle', bundle, step.id], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const errTail: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => step.output('stdout', b));
    child.stderr.on('data', (b: Buffer) => {
      errTail.push(b);
      if (errTail.length > 8) errTail.shift();
      step.output('stderr', b);
    });
    // Ctrl-C or a failed sibling stage: SIGKILL to every process of the step. Should that not
    // end `runc run` (a kill that raced the runtime's state, a runc that hangs), the container
    // is force-deleted a second later, and runc itself killed after another.
    let escalation: NodeJS.Timeout | undefined;
    const onAbort = () => {
      void runtime.kill(step.id, 'KILL', true).catch(() => undefined);
      escalation = setTimeout(() => {
        void runtime.delete(step.id).catch(() => undefined);
        escalation = setTimeout(() => child.kill('SIGKILL'), 1000);
      }, 1000);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    // Aborted while the step was being set up: the event has fired already.
    if (signal?.aborted) onAbort();
    child.on('error', (e) => {
      clearTimeout(escalation);
      signal?.removeEventListener('abort', onAbort);
      reject(errors.precondition(`cannot run the OCI runtime ${runtime.binary}: ${e.message}`, { cause: e, hint: 'install runc (apt-get install runc)' }));
    });
    child.on('close', (code, sig) => {
      clearTimeout(escalation);
      signal?.removeEventListener('abort', onAbort);
      // runc deletes the container when `run` returns; a runc killed midway may leave it.
      void runtime.delete(step.id).catch(() => undefined);
      if (signal?.aborted) {
        reject(errors.canceled());
        return;
      }
      const runtimeFailure = /level=error|^runc run failed|OCI runtime/m.exec(Buffer.concat(errTail).toString());
      if (code === 1 && runtimeFailure) {
        // The command never started: runc's own error (e.g. the executable was not found).
        const text = Buffer.concat(errTail).toString();
        const m = /exec: "([^"]*)": (.*?)(?:"|$)/m.exec(text) ?? /msg="([^"]*)"/.exec(text);
        if (m) {
          reject(errors.invalid(m.length > 2 ? `failed to run ${JSON.stringify(m[1])}: ${m[2]}` : `${m[1]}`));
          return;
        }
      }
      resolve(code ?? 128 + (sig ? 9 : 0));
    });
  });
}

/**
 * The first component of each mount point that does not exist in `rootfs` (a path the runtime
 * will create). Paths are taken literally, without following symlinks: a mount point under a
 * symlink exists through it.
 */
function missingMountPoints(rootfs: string, destinations: readonly string[]): string[] {
  const out = new Set<string>();
  for (const dest of destinations) {
    let current = '/';
    for (const part of posix.normalize(dest).split('/').filter(Boolean)) {
      current = posix.join(current, part);
      const st = lstatSync(join(rootfs, current), { throwIfNoEntry: false });
      if (!st) {
        out.add(current);
        break;
      }
      if (!st.isDirectory()) break;
    }
  }
  return [...out];
}

/** Removes mount-point stubs the runtime created, if they are still empty. */
function removeStubs(rootfs: string, stubs: readonly string[]): void {
  const remove = (path: string): void => {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const name of readdirSync(path)) remove(join(path, name));
      try {
        rmdirSync(path);
      } catch {
        // the command put something there: it stays
      }
    } else if (st.isFile() && st.size === 0) {
      unlinkSync(path);
    }
  };
  for (const stub of stubs) remove(join(rootfs, stub));
}
