/**
 * `image bootstrap busybox`: a small base image made on this machine from Debian's
 * busybox-static binary, for machines that reach no registry (tests, the quick start, CI).
 *
 * The root filesystem is laid out like the official busybox image: the binary at /bin/busybox,
 * every applet a hard link to it at the path `busybox --list-full` names, a minimal
 * /etc/passwd and /etc/group, and the usual empty directories. Every tar header is fixed
 * (owner root, mtime of the binary), so the same binary always yields the same image ID.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { pack } from 'tar-stream';
import { errors } from '../core/errors.js';
import type { OpContext } from '../core/op-context.js';
import type { CommitResult } from './commit.js';
import { type ImportDeps, importRootfs } from './import.js';

/** Where Debian's busybox-static installs the binary. */
export const BUSYBOX_PATH = '/bin/busybox';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;
const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
tty:x:5:
www-data:x:33:
users:x:100:
nogroup:x:65534:
`;
const DIRS: [string, number][] = [
  ['bin', 0o755],
  ['dev', 0o755],
  ['etc', 0o755],
  ['home', 0o755],
  ['proc', 0o755],
  ['root', 0o700],
  ['sbin', 0o755],
  ['sys', 0o755],
  ['tmp', 0o1777],
  ['usr', 0o755],
  ['usr/bin', 0o755],
  ['usr/sbin', 0o755],
  ['var', 0o755],
  ['var/www', 0o755],
];

/** Builds the busybox image and names it `reference` (default `busybox:latest`). */
export async function bootstrapBusybox(
  deps: ImportDeps,
  reference = 'busybox:latest',
  ctx: OpContext = {},
  busybox = BUSYBOX_PATH,
): Promise<CommitResult> {
  const st = await stat(busybox).catch(() => undefined);
  if (!st?.isFile()) {
    throw errors.precondition(`cannot bootstrap busybox: ${busybox} not found`, {
      hint: 'install it with: apt-get install busybox-static',
    });
  }
  const { stdout } = await promisify(execFile)(busybox, ['--list-full']);
  const applets = stdout.split('\n').filter((l) => l && !l.includes('..') && l !== 'bin/busybox');
  const version = (await promisify(execFile)(busybox, []).catch((e: { stdout?: string }) => e)).stdout?.split('\n')[0] ?? 'BusyBox';
  const mtime = new Date(Math.floor(st.mtimeMs / 1000) * 1000);
  const rootfs = rootfsTar(busybox, st.size, applets, mtime);
  return importRootfs(
    deps,
    rootfs,
    {
      reference,
      created: mtime.toISOString(),
      message: `${version.trim()} from ${busybox}`,
      createdBy: 'gantry image bootstrap busybox',
      baseConfig: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
    },
    ctx,
  );
}

function rootfsTar(busybox: string, size: number, applets: string[], mtime: Date): Readable {
  const p = pack();
  const base = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime };
  void (async () => {
    const add = (header: Parameters<typeof p.entry>[0], body = '') =>
      new Promise<void>((resolve, reject) => {
        p.entry({ ...base, ...header }, body, (err) => (err ? reject(err) : resolve()));
      });
    try {
      for (const [name, mode] of DIRS) await add({ name: `${name}/`, type: 'directory', mode });
      await add({ name: 'etc/passwd', mode: 0o644 }, PASSWD);
      await add({ name: 'etc/group', mode: 0o644 }, GROUP);
      await new Promise<void>((resolve, reject) => {
        const entry = p.entry({ ...base, name: 'bin/busybox', mode: 0o755, size }, (err) => (err ? reject(err) : resolve()));
        createReadStream(busybox).on('error', reject).pipe(entry);
      });
      for (const applet of [...new Set(applets)].sort()) {
        await add({ name: applet, type: 'link', linkname: 'bin/busybox', mode: 0o755 });
      }
      p.finalize();
    } catch (err) {
      p.destroy(err as Error);
    }
  })();
  return Readable.from(p, { objectMode: false });
}
