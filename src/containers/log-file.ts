/**
 * Reading a container's log: the file conmon writes in its "k8s-file" format.
 *
 * conmon (src/ctr_logging.c, `write_k8s_log`) writes one line per chunk of output:
 *
 *     2024-01-02T03:04:05.123456789+01:00 stdout F hello\n
 *     <local time, nanoseconds, offset>   <pipe> <tag> <content>
 *
 * `F` ends a line (the content carries its own newline); `P` is a partial line (output that
 * did not end in a newline when conmon read it, or more than its buffer) and conmon appends a
 * newline of its own. A line of the container's output is therefore its stream's `P`
 * fragments up to and including the next `F`. With `--log-size-max` conmon starts over in a
 * new file renamed over the old one (`reopen_k8s_file`), so a follower must notice when the
 * path names a different file, or the file shrank, and read the new one from its start.
 *
 * What `docker logs` applies on top (moby daemon/logger/loggerutils): `--tail` picks the last
 * N lines first, then `--since` drops lines before it (only until the first one at or after
 * it) and the first line after `--until` ends the stream.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { isErrno } from '../core/errors.js';

export { formatLogTimestamp, parseTimeArg } from './log-time.js';

/** One entry of the log: a fragment as conmon wrote it, or a whole line as readLogs joins them. */
export interface LogEntry {
  /** When conmon read the output (of the last fragment, for a joined line), to the millisecond. */
  time: Date;
  /** The same instant in unix nanoseconds, at conmon's full precision. */
  timeNs: bigint;
  stream: 'stdout' | 'stderr';
  /** The output: with its trailing newline for a complete line, without for a partial one. */
  data: Buffer;
  /** True for a `P` fragment, or a joined line that never got its newline (the output ended). */
  partial: boolean;
}

/** Options of {@link readLogs}. */
export interface ReadLogsOptions {
  /** Unix nanoseconds: lines before this are skipped (inclusive, Docker's `--since`). */
  since?: bigint;
  /** Unix nanoseconds: the first line after this ends the read (Docker's `--until`; 0 = none). */
  until?: bigint;
  /** The last N lines of what is already written; -1 or absent: all. */
  tail?: number;
  /** Keep reading as the container writes (Docker's `--follow`). */
  follow?: boolean;
  /** While following: false once the container stopped writing (its conmon exited). */
  isRunning?: () => boolean;
  /** Ends a follow (or a long read) early; readLogs then returns normally. */
  signal?: AbortSignal;
}

const CHUNK = 64 * 1024;
/** conmon lines are at most its 8 KiB buffer plus the header; anything far longer is not a log line. */
const MAX_CARRY = 4 * 1024 * 1024;
/** A line that keeps growing without a newline is handed out in pieces of about this size. */
const MAX_LINE = 1024 * 1024;
const POLL_MS = 100;
const NL = 0x0a;
const SP = 0x20;
const EMPTY = Buffer.alloc(0);

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** conmon's RFC 3339 timestamp (any offset, or Z) in unix nanoseconds, or undefined. */
function parseTimestamp(text: string): bigint | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', sign, oh = '0', om = '0'] = m;
  const ms = new Date(0).setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  const secs = ms / 1000 + Number(h) * 3600 + Number(mi) * 60 + Number(s);
  const offset = (Number(oh) * 3600 + Number(om) * 60) * (sign === '-' ? -1 : 1);
  return BigInt(secs - offset) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
}

/** The stream and tag of a raw line, without decoding the rest (the backward tail scan). */
function lineHeader(line: Buffer): { stream: string; partial: boolean } | undefined {
  const s1 = line.indexOf(SP);
  if (s1 < 0) return undefined;
  const s2 = line.indexOf(SP, s1 + 1);
  if (s2 < 0) return undefined;
  const tag = line[s2 + 1];
  if (tag !== 0x46 /* F */ && tag !== 0x50 /* P */) return undefined;
  return { stream: line.toString('latin1', s1 + 1, s2), partial: tag === 0x50 };
}

/**
 * One line of a k8s-file log (with or without its trailing newline) as an entry, or undefined
 * when it is not one. The entry's data is a copy.
 */
export function parseLogLine(line: Buffer | string): LogEntry | undefined {
  const buf = typeof line === 'string' ? Buffer.from(line) : line;
  const end = buf.length > 0 && buf[buf.length - 1] === NL ? buf.length - 1 : buf.length;
  const s1 = buf.indexOf(SP);
  if (s1 < 0 || s1 >= end) return undefined;
  const s2 = buf.indexOf(SP, s1 + 1);
  if (s2 < 0 || s2 + 1 >= end) return undefined;
  const stream = buf.toString('latin1', s1 + 1, s2);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = buf[s2 + 1];
  if (tag !== 0x46 && tag !== 0x50) return undefined;
  if (s2 + 2 < end && buf[s2 + 2] !== SP) return undefined;
  const timeNs = parseTimestamp(buf.toString('latin1', 0, s1));
  if (timeNs === undefined) return undefined;
  const content = buf.subarray(Math.min(s2 + 3, end), end);
  const partial = tag === 0x50;
  const data = partial ? Buffer.from(content) : Buffer.concat([content, Buffer.from('\n')]);
  return { time: new Date(Number(timeNs / 1_000_000n)), timeNs, stream, data, partial };
}

/** Joins each stream's `P` fragments with the `F` that ends them. */
class LineJoiner {
  private readonly pending = new Map<string, { parts: Buffer[]; size: number; last: LogEntry }>();

  /** Feeds one fragment; returns the line it completes, if any. */
  push(e: LogEntry): LogEntry | undefined {
    const p = this.pending.get(e.stream);
    if (!e.partial) {
      if (!p) return e;
      this.pending.delete(e.stream);
      return { ...e, data: Buffer.concat([...p.parts, e.data]) };
    }
    const next = p ?? { parts: [], size: 0, last: e };
    next.parts.push(e.data);
    next.size += e.data.length;
    next.last = e;
    this.pending.set(e.stream, next);
    if (next.size < MAX_LINE) return undefined;
    this.pending.delete(e.stream);
    return { ...e, data: Buffer.concat(next.parts) };
  }

  /** The lines still waiting for their newline (the output ended without one), oldest first. */
  flush(): LogEntry[] {
    const out = [...this.pending.values()].map((p) => ({ ...p.last, data: Buffer.concat(p.parts) }));
    this.pending.clear();
    return out.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
  }
}

/** Reads whole lines of one open log file from a position, remembering a torn last line. */
class LineReader {
  pos = 0;
  private carry: Buffer = EMPTY;
  private readonly buf = Buffer.allocUnsafe(CHUNK);

  constructor(
    readonly fh: FileHandle,
    readonly ino: number,
    readonly dev: number,
  ) {}

  /** Starts over at `pos` (after a truncation, or for a tail). */
  seek(pos: number): void {
    this.pos = pos;
    this.carry = EMPTY;
  }

  /** Calls `onLine` for every complete line up to `limit` or the end; false when it said stop. */
  async read(onLine: (line: Buffer) => Promise<boolean>, limit = Number.POSITIVE_INFINITY): Promise<boolean> {
    for (;;) {
      const want = Math.min(CHUNK, limit - this.pos);
      if (want <= 0) return true;
      const { bytesRead } = await this.fh.read(this.buf, 0, want, this.pos);
      if (bytesRead === 0) return true;
      this.pos += bytesRead;
      const chunk = this.buf.subarray(0, bytesRead);
      const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
      let start = 0;
      for (let nl = data.indexOf(NL); nl >= 0; nl = data.indexOf(NL, start)) {
        const line = data.subarray(start, nl);
        start = nl + 1;
        if (!(await onLine(line))) return false;
      }
      // NOTE: copied because `buf` is reused by the next read.
      this.carry = data.length - start > MAX_CARRY ? EMPTY : Buffer.from(data.subarray(start));
    }
  }
}

async function openLog(path: string): Promise<LineReader | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  const st = await fh.stat();
  return new LineReader(fh, st.ino, st.dev);
}

async function readAt(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
}

/**
 * Where to start reading so that the last `n` lines before `end` are read whole: scans
 * backwards, counting each `F` (and, when `countTrailing`, each stream's unterminated last
 * line) and going on until every counted line's `P` fragments are covered. The lines read
 * from the result may include a few more (older, possibly cut) lines before the last `n`.
 */
async function tailOffset(fh: FileHandle, end: number, n: number, countTrailing: boolean): Promise<number> {
  // Per stream: absent = not seen yet; open = inside a counted line, its fragments still wanted.
  const status = new Map<string, 'open' | 'closed'>();
  let counted = 0;
  const noneOpen = (): boolean => ![...status.values()].includes('open');
  const visit = (line: Buffer): boolean => {
    const h = lineHeader(line);
    if (!h) return false;
    const st = status.get(h.stream);
    if (h.partial) {
      if (st === undefined) {
        status.set(h.stream, 'open');
        if (countTrailing) counted++;
        return false;
      }
      return st === 'closed' && noneOpen();
    }
    if (counted < n) {
      counted++;
      status.set(h.stream, 'open');
      return false;
    }
    status.set(h.stream, 'closed');
    return noneOpen();
  };

  let pos = end;
  let carry: Buffer = EMPTY;
  let foundEnd = false;
  while (pos > 0) {
    const start = Math.max(0, pos - CHUNK);
    const chunk = Buffer.allocUnsafe(pos - start);
    await readAt(fh, chunk, start);
    pos = start;
    let data: Buffer;
    if (!foundEnd) {
      // NOTE: bytes after the last newline are a line conmon is still writing; skip them.
      const nl = chunk.lastIndexOf(NL);
      if (nl < 0) continue;
      foundEnd = true;
      data = chunk.subarray(0, nl + 1);
    } else {
      data = carry.length > 0 ? Buffer.concat([chunk, carry]) : chunk;
    }
    let lineEnd = data.length;
    while (lineEnd > 0) {
      const nl = lineEnd >= 2 ? data.lastIndexOf(NL, lineEnd - 2) : -1;
      if (nl < 0 && start > 0) break;
      if (visit(data.subarray(nl + 1, lineEnd - 1))) return start + lineEnd;
      lineEnd = nl + 1;
    }
    carry = data.subarray(0, lineEnd);
  }
  return 0;
}

/** The last `n` items pushed. */
class Ring<T> {
  private items: T[] = [];
  private head = 0;
  constructor(private readonly n: number) {}
  push(item: T): void {
    if (this.n <= 0) return;
    this.items.push(item);
    if (this.items.length - this.head > this.n) this.head++;
    if (this.head > 1024 && this.head > this.n) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
  values(): T[] {
    return this.items.slice(this.head);
  }
}

/** Wakes a follower when the file changes (fs.watch) or every {@link POLL_MS} at the latest. */
class ChangeWaiter {
  private watcher: FSWatcher | undefined;
  private dirty = false;
  private wake: (() => void) | undefined;

  /** Watches `path` (again, after a rotation); without inotify the poll alone does. */
  watch(path: string): void {
    this.close();
    try {
      this.watcher = watch(path, { persistent: false }, () => this.notify());
      this.watcher.on('error', () => this.close());
    } catch {
      this.watcher = undefined;
    }
  }

  private notify(): void {
    this.dirty = true;
    this.wake?.();
  }

  async wait(signal: AbortSignal | undefined): Promise<void> {
    if (this.dirty || signal?.aborted) {
      this.dirty = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, POLL_MS);
      signal?.addEventListener('abort', done);
      this.wake = done;
    });
    this.dirty = false;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

/**
 * Reads the log at `path`, calling `onEntry` (awaited) with each whole line in order.
 *
 * Without `follow` it reads what is written now; a missing file is an empty log. With
 * `follow` it waits for the file to appear, then keeps reading as it grows, across
 * truncations and rotations, until `isRunning()` is false and the file has been read to
 * its end, or `signal` aborts. A line that never got its newline is handed out without one
 * at the end (while following, only once the container has stopped).
 *
 * Memory stays bounded: `tail` scans backwards from the end instead of reading the whole
 * file, and keeps at most `tail` lines.
 */
export async function readLogs(
  path: string,
  opts: ReadLogsOptions,
  onEntry: (e: LogEntry) => void | Promise<void>,
): Promise<void> {
  const { signal, follow = false } = opts;
  const until = opts.until === 0n ? undefined : opts.until;
  let since = opts.since;
  let stopped = false;
  const deliver = async (e: LogEntry): Promise<boolean> => {
    if (stopped || signal?.aborted) return false;
    if (since !== undefined) {
      if (e.timeNs < since) return true;
      // NOTE: as Docker: once a line reaches `since`, later lines are not compared (times
      // need not be monotonic, e.g. after a clock change).
      since = undefined;
    }
    if (until !== undefined && e.timeNs > until) {
      stopped = true;
      return false;
    }
    await onEntry(e);
    return true;
  };

  const joiner = new LineJoiner();
  const lineTo =
    (sink: (e: LogEntry) => Promise<boolean>) =>
    async (line: Buffer): Promise<boolean> => {
      const fragment = parseLogLine(line);
      const whole = fragment && joiner.push(fragment);
      return whole ? sink(whole) : !signal?.aborted;
    };
  const flushPending = async (): Promise<void> => {
    for (const e of joiner.flush()) if (!(await deliver(e))) return;
  };

  if (signal?.aborted) return;
  // NOTE: the follow loop swaps the reader on rotation; whichever is current gets closed here.
  const cur: { reader: LineReader | undefined } = { reader: await openLog(path) };
  try {
    // What is already written.
    const reader = cur.reader;
    if (reader) {
      const end = (await reader.fh.stat()).size;
      const tail = opts.tail ?? -1;
      if (tail < 0) {
        if (!(await reader.read(lineTo(deliver), end))) return;
      } else {
        reader.seek(await tailOffset(reader.fh, end, tail, !follow));
        const ring = new Ring<LogEntry>(tail);
        await reader.read(
          lineTo(async (e) => {
            ring.push(e);
            return !signal?.aborted;
          }),
          end,
        );
        if (!follow) for (const e of joiner.flush()) ring.push(e);
        for (const e of ring.values()) if (!(await deliver(e))) return;
      }
    }
    if (!follow) {
      await flushPending();
      return;
    }
    await followLog(path, cur, opts, lineTo(deliver), () => stopped || signal?.aborted === true);
    if (!stopped && !signal?.aborted) await flushPending();
  } finally {
    await cur.reader?.fh.close();
  }
}

/** The follow loop of readLogs: reads new lines until the container stopped or `done()`. */
async function followLog(
  path: string,
  cur: { reader: LineReader | undefined },
  opts: ReadLogsOptions,
  onLine: (line: Buffer) => Promise<boolean>,
  done: () => boolean,
): Promise<void> {
  const waiter = new ChangeWaiter();
  if (cur.reader) waiter.watch(path);
  try {
    for (;;) {
      if (done()) return;
      // NOTE: sampled before reading: when it says stopped, everything the container wrote
      // is in the file by now, so reading to the end once more loses nothing.
      const running = opts.isRunning ? opts.isRunning() : true;
      for (;;) {
        if (!cur.reader) {
          cur.reader = await openLog(path);
          if (!cur.reader) break;
          waiter.watch(path);
        }
        const reader = cur.reader;
        if ((await reader.fh.stat()).size < reader.pos) reader.seek(0); // truncated in place
        if (!(await reader.read(onLine))) return;
        const now = await stat(path).catch((err: unknown) => {
          if (isErrno(err, 'ENOENT')) return undefined;
          throw err;
        });
        if (!now || (now.ino === reader.ino && now.dev === reader.dev)) break;
        // Rotated: conmon has closed the old file; finish it, then start the new one.
        if (!(await reader.read(onLine))) return;
        cur.reader = undefined;
        await reader.fh.close();
      }
      if (!running) return;
      await waiter.wait(opts.signal);
    }
  } finally {
    waiter.close();
  }
}
