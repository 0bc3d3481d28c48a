/**
 * `/v2/<name>/blobs/<digest>`: GET (with a single `Range: bytes=...`), HEAD and DELETE.
 * https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pulling-blobs
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HubError } from '../errors.js';
import { parseDigestParam } from '../names.js';
import { type Exchange, sendEmpty } from './exchange.js';
import { sendFileBody, sendfileSocket } from './send-file.js';

/** GET / HEAD. */
export async function getBlob(x: Exchange): Promise<void> {
  const digest = parseDigestParam(x.param);
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    'Accept-Ranges': 'bytes',
    ETag: `"${digest}"`,
    'Cache-Control': 'max-age=31536000',
  };
  if (x.req.method === 'HEAD') {
    const stat = await x.registry.statBlob(x.name, digest);
    sendEmpty(x.res, 200, { ...headers, 'Content-Length': stat.size });
    return;
  }
  const rangeHeader = x.req.headers.range;
  const socketFd = sendfileSocket(x.res);
  const blob = await x.registry.openBlob(x.name, digest, (size) => (rangeHeader ? parseRange(rangeHeader, size) : undefined), {
    preferFile: socketFd !== undefined,
  });
  const size = blob.stat.size;
  const { start, end } = blob.range ?? { start: 0, end: size - 1 };
  if (blob.range) {
    x.res.writeHead(206, { ...headers, 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${size}` });
  } else {
    x.res.writeHead(200, { ...headers, 'Content-Length': size });
  }
  if (blob.file) await sendFileBody(x.res, socketFd as number, blob.file, start, end - start + 1);
  else await pipeline(blob.stream as Readable, x.res);
}

/** DELETE: 202; the bytes stay until gc when another repository or manifest uses them. */
export async function deleteBlob(x: Exchange): Promise<void> {
  await x.registry.deleteBlob(x.name, parseDigestParam(x.param));
  sendEmpty(x.res, 202);
}

/**
 * One range of `bytes=a-b`, `bytes=a-` or `bytes=-n` within `size` (RFC 9110 §14.1.2); several
 * ranges or another unit are ignored (the whole blob is sent), an unsatisfiable one is 416.
 */
export function parseRange(header: string, size: number): { start: number; end: number } | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size) throw unsatisfiable(size);
  return { start, end };
}

function unsatisfiable(size: number): HubError {
  return new HubError('BLOB_UNKNOWN', 'requested range not satisfiable', { status: 416, headers: { 'Content-Range': `bytes */${size}` }, detail: { size } });
}
