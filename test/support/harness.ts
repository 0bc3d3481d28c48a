/**
 * End-to-end test harness: runs the real `gantry` binary (bin/gantry) against a temporary
 * state root, one root per test file, so files run in parallel without sharing state.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/..., so walk up from this file). */
export const REPO = resolve(fileURLToPath(import.meta.url), '../../../..');
export const GANTRY = join(REPO, 'bin/gantry');

/** What a finished command left. */
export interface Run {
  code: number;
  stdout: string;
  /** stdout as bytes, for binary output (save). */
  stdoutBytes: Buffer;
  stderr: string;
}

/** Options of one run. */
export interface RunOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  cwd?: string;
}

/** Skip reason for tests that need root (overlay, chown, device nodes). */
export const needsRoot = process.getuid?.() === 0 ? false : 'needs root';

/** A temporary gantry state root with a runner bound to it. */
export class Sandbox {
  private constructor(readonly root: string) {}

  static async create(prefix = 'gantry-e2e-'): Promise<Sandbox> {
    return new Sandbox(await mkdtemp(join('/var/tmp', prefix)));
  }

  /** Runs `gantry --root <root> ...args`. */
  run(args: string[], options: RunOptions = {}): Promise<Run> {
    return runCommand(GANTRY, ['--root', this.root, ...args], options);
  }

  /** Runs gantry and fails the test with its stderr unless it exits 0. */
  async ok(args: string[], options: RunOptions = {}): Promise<Run> {
    const r = await this.run(args, options);
    if (r.code !== 0) throw new Error(`gantry ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
  }

  /** A listing of the store's files (blobs, snapshots, ingest), to prove an operation changed nothing. */
  async storeFiles(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, depth: number): Promise<void> => {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return;
      }
      for (const n of names.sort()) {
        const p = join(dir, n);
        out.push(p.slice(this.root.length));
        if (depth > 0) await walk(p, depth - 1);
      }
    };
    await walk(join(this.root, 'content'), 3);
    await walk(join(this.root, 'snapshots'), 1);
    return out;
  }

  /**
   * What a failed operation must not leave: blobs, ingests and snapshots (finished ones, and
   * unfinished ones under snapshots/tmp), but not the empty directories that hold them.
   */
  async storeLeftovers(): Promise<string[]> {
    return (await this.storeFiles()).filter((f) => /^\/content\/(blobs\/sha256|ingest)\/.|^\/snapshots\/(?!tmp$)./.test(f));
  }

  async destroy(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
    await rm(runDirOf(this.root), { recursive: true, force: true });
  }
}

/** The run directory (tmpfs) gantry uses for a state root other than the default (src/containers/paths.ts). */
export function runDirOf(root: string): string {
  return `/run/gantry-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`;
}

/** Runs a command and collects its output. */
export function runCommand(cmd: string, args: string[], options: RunOptions = {}): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd ?? REPO,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => stdout.push(d));
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolvePromise({
        code: code ?? 128 + (signal ? 9 : 0),
        stdout: Buffer.concat(stdout).toString(),
        stdoutBytes: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString(),
      }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}
