/** Building tar archives in memory for tests (rootfs tarballs, docker/OCI archives, hostile ones). */
import { createHash } from 'node:crypto';
import { pack, type Header } from 'tar-stream';

/** One archive member: a header plus optional content. */
export interface Member extends Partial<Header> {
  name: string;
  body?: string | Buffer;
}

/** Packs members into a tar buffer. */
export async function tarball(members: Member[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    p.on('data', (c: unknown) => void chunks.push(c as Buffer));
    p.on('end', () => resolve(Buffer.concat(chunks)));
    p.on('error', reject);
  });
  for (const { body, ...header } of members) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ mode: header.type === 'directory' ? 0o755 : 0o644, mtime: new Date(1_700_000_000_000), ...header }, body ?? '', (e) =>
        e ? reject(e) : resolve(),
      ),
    );
  }
  p.finalize();
  return done;
}

/** sha256 digest string of a buffer. */
export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
