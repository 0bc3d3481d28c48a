/**
 * Attaching to a container's stdio through conmon's attach socket (SOCK_SEQPACKET): each
 * message conmon sends is one chunk of output prefixed with its stream (2 = stdout,
 * 3 = stderr); what we send is written to the container's stdin; shutting down our writing
 * side closes the container's stdin. Terminal resizes go through the `ctl` FIFO.
 */
import { closeSync, openSync, read, writeSync, constants } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { seqpacketConnect, shutdown } from '../native/native.js';

/** conmon's stream tags. */
const STDOUT = 2;
const STDERR = 3;
/** conmon sends at most 8192 bytes of data per message, plus the tag. */
const MESSAGE = 8192 + 1;
/** What we send per message (conmon reads 32 KiB; stay well below). */
const CHUNK = 8192;

/** The streams an attached client relays. */
export interface AttachStreams {
  stdout: Writable;
  stderr: Writable;
  /** Relayed to the container's stdin when given; its end closes the container's stdin. */
  stdin?: Readable;
}

/** One connection to a container's attach socket. */
export class AttachSession {
  private closed = false;

  private constructor(
    private readonly fd: number,
    private readonly bundle: string,
  ) {}

  /** Connects to the attach socket in the container's bundle directory. */
  static connect(bundle: string): AttachSession {
    return new AttachSession(seqpacketConnect(bundle, 'attach'), bundle);
  }

  /** Sets the terminal size of a `-t` container. */
  resize(rows: number, cols: number): void {
    if (!(rows > 0 && cols > 0)) return;
    let fd: number;
    try {
      fd = openSync(`${this.bundle}/ctl`, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch {
      return; // the container is gone
    }
    try {
      writeSync(fd, `1 ${Math.min(rows, 1000)} ${Math.min(cols, 1000)}\n`);
    } catch {
      // a full or closed FIFO: the next resize will do
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Relays until the container's output ends (conmon closes the socket when the container
   * exits), then closes the connection.
   */
  async pump(streams: AttachStreams): Promise<void> {
    const onData = (chunk: Buffer) => {
      for (let off = 0; off < chunk.length && !this.closed; off += CHUNK) {
        try {
          writeSync(this.fd, chunk.subarray(off, off + CHUNK));
        } catch {
          return;
        }
      }
    };
    const onEnd = () => {
      if (!this.closed) shutdown(this.fd, 1);
    };
    if (streams.stdin) {
      streams.stdin.on('data', onData);
      streams.stdin.once('end', onEnd);
    }
    try {
      const buf = Buffer.allocUnsafe(MESSAGE);
      let reset = false;
      for (;;) {
        const n = await new Promise<number>((resolve) =>
          read(this.fd, buf, 0, MESSAGE, null, (err, bytes) => resolve(err ? (err.code === 'ECONNRESET' && !reset ? -1 : 0) : bytes)),
        );
        // NOTE: conmon closing its end with input of ours unread in it (a key typed, the EOF
        // of a closed stdin, as the container exits) makes the kernel report ECONNRESET here
        // once, ahead of the output still queued for us. It is not the end: read on.
        if (n < 0) {
          reset = true;
          continue;
        }
        if (n === 0) break;
        const data = Buffer.from(buf.subarray(1, n));
        const target = buf[0] === STDERR ? streams.stderr : buf[0] === STDOUT ? streams.stdout : undefined;
        if (target && !target.write(data)) await new Promise((r) => target.once('drain', r));
      }
    } finally {
      if (streams.stdin) {
        streams.stdin.off('data', onData);
        streams.stdin.off('end', onEnd);
      }
      this.close();
    }
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
