/**
 * The OCI runtime's command line (runc's, which crun shares), for what gantry asks of it
 * directly: start, kill, delete, pause/resume, ps and exec. `create` is not here:
 * conmon runs it (see conmon.ts), so that the monitor is the container's parent.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import { errors } from '../core/errors.js';
import { readAll, spawnChild } from './spawn.js';

/** The result of one runtime call. */
interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs an OCI runtime binary with a state directory of gantry's own. */
export class OciRuntime {
  /**
   * @param binary absolute path of runc or crun
   * @param stateRoot the runtime's `--root` (per gantry root, on tmpfs so it dies with a reboot)
   */
  constructor(
    readonly binary: string,
    readonly stateRoot: string,
  ) {}

  /** The global arguments every call starts with. */
  globalArgs(): string[] {
    return ['--root', this.stateRoot];
  }

  /** `start`: runs the user process of a created container. */
  async start(id: string): Promise<void> {
    await this.check(['start', id], `cannot start container ${id}`);
  }

  /**
   * `kill`: sends `signal` (a name without SIG or a number) to the init process, or with
   * `all` to every process of the container. Resolves false when the container is already
   * gone (not running, or unknown to the runtime).
   */
  async kill(id: string, signal: string | number, all = false): Promise<boolean> {
    const r = await this.run(['kill', ...(all ? ['--all'] : []), id, String(signal)]);
    if (r.code === 0) return true;
    if (/not running|does not exist|container not running|process already finished/i.test(r.stderr)) return false;
    throw errors.internal(`cannot kill container ${id}: ${lastLine(r.stderr)}`);
  }

  /** `delete --force`: removes the runtime's state (and kills what is left); idempotent. */
  async delete(id: string): Promise<void> {
    const r = await this.run(['delete', '--force', id]);
    if (r.code !== 0 && !/does not exist/i.test(r.stderr)) {
      throw errors.internal(`cannot delete container ${id} from the runtime: ${lastLine(r.stderr)}`);
    }
  }

  /** `pause` (freezer cgroup). */
  async pause(id: string): Promise<void> {
    await this.check(['pause', id], `cannot pause container ${id}`);
  }

  /** `resume`. */
  async resume(id: string): Promise<void> {
    await this.check(['resume', id], `cannot unpause container ${id}`);
  }

  /** `ps --format json`: the host pids of the container's processes. */
  async pids(id: string): Promise<number[]> {
    const r = await this.check(['ps', '--format', 'json', id], `cannot list the processes of container ${id}`);
    return (JSON.parse(r.stdout || '[]') as number[] | null) ?? [];
  }

  /**
   * Spawns `exec` with the given stdio (the caller waits for it). With `tty` and an
   * inherited terminal, runc itself relays the pseudo-terminal, forwards window size changes
   * and puts the caller's terminal in raw mode.
   */
  execSpawn(args: string[], stdio: StdioOptions) {
    return spawn(this.binary, [...this.globalArgs(), 'exec', ...args], { stdio });
  }

  private async check(args: string[], what: string): Promise<RunResult> {
    const r = await this.run(args);
    if (r.code !== 0) throw errors.internal(`${what}: ${lastLine(r.stderr) || `${this.binary} exited with ${r.code}`}`);
    return r;
  }

  /**
   * Runs the runtime to completion, capturing its output. Started with posix_spawn
   * (spawn.ts): these calls are on the critical path of every container start and removal.
   */
  async run(args: string[]): Promise<RunResult> {
    let child;
    try {
      child = spawnChild(this.binary, [...this.globalArgs(), ...args], { stdout: 'pipe', stderr: 'pipe' });
    } catch (e) {
      throw errors.precondition(`cannot run the OCI runtime ${this.binary}: ${(e as Error).message}`, { cause: e, hint: 'install runc (apt-get install runc)' });
    }
    const [{ code, signal }, out, err] = await Promise.all([child.exited, readAll(child.stdout as Socket), readAll(child.stderr as Socket)]);
    return { code: code ?? 128 + (signal ? 9 : 0), stdout: out.toString(), stderr: err.toString() };
  }
}

/** The runtime's last meaningful error line, without runc's logrus framing. */
export function lastLine(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  const last = lines[lines.length - 1] ?? '';
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(last);
  return (m ? JSON.parse(`"${m[1]}"`) as string : last).replace(/^(time="[^"]*" )?level=\w+ /, '');
}
