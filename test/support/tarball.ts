/** Building tar archives in memory for tests (rootfs tarballs, docker/OCI archives, hostile ones). */
import { createHash } from 'node:crypto';
import { pack, type Header } from 'tar-stream';

/** One archive member: a header plus optional content. */
export interface Member extends Partial<Header> {
  name: string;
  body?: string | Buffer;
}

/** Packs members into a tar buffer, with a default mode and mtime for headers that give none. */
export async function tarball(members: Member[]): Promise<Buffer> {
  return tarOf(
    members.map(({ body, ...header }) => ({
      mode: header.type === 'directory' ? 0o755 : 0o644,
      mtime: new Date(1_700_000_000_000),
      ...header,
      data: body,
    })),
  );
}

/** Packs entries into a tar buffer exactly as given (tar-stream's own defaults apply). */
export async function tarOf(entries: (Partial<Header> & { name: string; data?: string | Buffer })[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of p) chunks.push(chunk as Buffer);
  })();
  for (const { data, ...header } of entries) {
    await new Promise<void>((resolve, reject) => p.entry(header, data ?? '', (err) => (err ? reject(err) : resolve())));
  }
  p.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** sha256 digest string of a buffer. */
export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
