/**
 * Blob bodies sent with sendfile(2): the bytes go from the page cache to the socket without
 * passing through JavaScript buffers. Reading a big blob into Node and writing it out again
 * capped a 25 MB layer GET at about half of what distribution (Go, which uses sendfile) does
 * on the same machine; this path is for plain-HTTP connections (TLS has to encrypt in user
 * space) to a file-backed store.
 *
 * The headers go out through Node first and are flushed to the kernel; then the body goes out
 * in non-blocking sendfile calls on the event loop's thread, each as big as the socket buffer
 * has room for. When the buffer is full the next call waits: at once (setImmediate) while the
 * client keeps up, backing off to STALL_MAX_MS while it does not (Node cannot wait for a
 * socket it owns to become writable on our behalf, and a thread per transfer would cost more
 * than these retries). `end()` finishes the response (the body already went out, so it adds
 * nothing). A transfer that fails half-way can no longer change the status: the connection is
 * closed, as any server does when a body breaks off; so is one whose client stops reading for
 * STALL_LIMIT_MS.
 */
import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { sendfileSome } from '../../native/native.js';

/** Bodies below this size are cheaper to copy than to hand to a thread. */
const MIN_SENDFILE_BYTES = 256 << 10;
/**
 * The longest wait between two tries on a full socket buffer: short, because a client that
 * reads slowly (one that decompresses as it downloads) still empties a loopback buffer of a
 * few MB in tens of milliseconds, and a longer sleep would leave it idle; a try costs a
 * microsecond.
 */
const STALL_MAX_MS = 4;
/** How long a client may keep the buffer full before the connection is closed. */
const STALL_LIMIT_MS = 120_000;

/** The socket's file descriptor when `res` may use sendfile (plain TCP), else undefined. */
export function sendfileSocket(res: ServerResponse): number | undefined {
  const socket = res.socket;
  // NOTE: `encrypted` marks a TLSSocket (node:tls itself is not imported: the CLI's startup
  // snapshot cannot hold it).
  if (!socket || (socket as { encrypted?: boolean }).encrypted) return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** Sends `length` bytes of `file` from `start` as the body of `res` (headers written), then closes `file`. */
export async function sendFileBody(res: ServerResponse, socketFd: number, file: FileHandle, start: number, length: number): Promise<void> {
  try {
    if (length < MIN_SENDFILE_BYTES) {
      const stream = file.createReadStream({ start, end: start + length - 1, autoClose: false });
      for await (const chunk of stream) if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
      res.end();
      return;
    }
    res.flushHeaders();
    // An empty write completes once everything queued before it (the headers) is in the kernel.
    await new Promise<void>((resolve, reject) => res.socket?.write('', (err) => (err ? reject(err) : resolve())));
    await sendAll(res, socketFd, file.fd, start, length);
    res.end();
  } catch (err) {
    res.destroy(err as Error);
  } finally {
    await file.close();
  }
}

async function sendAll(res: ServerResponse, socketFd: number, fileFd: number, start: number, length: number): Promise<void> {
  let offset = start;
  let left = length;
  let wait = 0;
  let stalledSince = 0;
  while (left > 0) {
    if (res.destroyed) throw new Error('the client closed the connection');
    const n = sendfileSome(socketFd, fileFd, offset, left);
    if (n > 0) {
      offset += n;
      left -= n;
      wait = 0;
      stalledSince = 0;
      continue;
    }
    if (n === 0) throw new Error('the blob file is shorter than its size');
    stalledSince ||= Date.now();
    if (Date.now() - stalledSince > STALL_LIMIT_MS) throw new Error('the client stopped reading');
    if (wait === 0) await nextTurn();
    else await sleep(wait);
    wait = Math.min(STALL_MAX_MS, wait === 0 ? 1 : wait * 2);
  }
}
