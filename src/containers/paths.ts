/**
 * Where a container's files live.
 *
 * Persistent, under the state root (survive a reboot): `containers/<id>/` holds the OCI
 * bundle (`config.json`), the writable layer (`upper/`, `work/`), the mount point of the
 * root filesystem (`rootfs/`), the generated `hostname`, `hosts` and `resolv.conf`, the log
 * (`ctr.log`), and what conmon leaves (`exit`, `oom`, `attach`, `ctl`, `conmon.pid`).
 *
 * Volatile, under the run directory on tmpfs (gone after a reboot, like the processes they
 * describe): the OCI runtime's state, network namespaces, conmon's exit files and socket
 * links, and the per-container lock files.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** The run directory of a state root: /run/gantry for the default root, else one per root. */
export function runDirFor(root: string, defaultRoot: string): string {
  if (root === defaultRoot) return '/run/gantry';
  return `/run/gantry-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`;
}

/** The directories the container service works in. */
export class ContainerPaths {
  constructor(
    readonly root: string,
    readonly runDir: string,
  ) {}

  /** `<root>/containers`. */
  get containersDir(): string {
    return join(this.root, 'containers');
  }
  /** The OCI runtime's `--root`. */
  get runtimeState(): string {
    return join(this.runDir, 'runtime');
  }
  /** conmon's `--exit-dir`: one file per container, named by ID, holding the exit code. */
  get exitDir(): string {
    return join(this.runDir, 'exits');
  }
  /** conmon's `--socket-dir-path`. */
  get socketDir(): string {
    return join(this.runDir, 'sockets');
  }
  get netnsDir(): string {
    return join(this.runDir, 'netns');
  }
  get locksDir(): string {
    return join(this.runDir, 'locks');
  }

  dir(id: string): string {
    return join(this.containersDir, id);
  }
  file(id: string, name: 'config.json' | 'hostname' | 'hosts' | 'resolv.conf' | 'ctr.log' | 'exit' | 'oom' | 'conmon.pid' | 'pidfile' | 'ctl'): string {
    return join(this.dir(id), name);
  }
  rootfs(id: string): string {
    return join(this.dir(id), 'rootfs');
  }
  upper(id: string): string {
    return join(this.dir(id), 'upper');
  }
  work(id: string): string {
    return join(this.dir(id), 'work');
  }
  netns(id: string): string {
    return join(this.netnsDir, id);
  }
  exitFile(id: string): string {
    return join(this.exitDir, id);
  }
  lock(id: string): string {
    return join(this.locksDir, id);
  }
}
