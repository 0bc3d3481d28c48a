/**
 * Unpacking a layer while it downloads. A pull streams each layer blob into the content store
 * (which verifies digest and size) and, through a {@link LayerTee}, into the layer's unpack at
 * the same time, so a layer is on disk as files about when its last byte arrives.
 *
 * The download waits for the unpack (back-pressure through the tee) but never the other way
 * round, and an unpack that needs no bytes — its snapshot is already there — or that failed
 * releases the tee, after which the download goes on into the store alone.
 *
 * {@link PullProgress} keeps the per-layer lines in Docker's order although the two overlap:
 * "Extracting" and "Pull complete" wait for "Download complete".
 */
import { PassThrough, type Readable } from 'node:stream';
import { errors } from '../core/errors.js';
import type { OpContext, ProgressEvent } from '../core/op-context.js';

// The unpack may lag this far behind the download before the download waits.
const TEE_BUFFER = 4 << 20;

/** The bytes of one layer download, passed on to its unpack as they arrive. */
export class LayerTee {
  private readonly stream = new PassThrough({ highWaterMark: TEE_BUFFER });
  private released = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor() {
    // An error reaches the unpack through its own listeners; unread, it must not crash the process.
    this.stream.on('error', () => undefined);
  }

  /** For the unpack: the compressed bytes, ending when the download ends. */
  open(): Readable {
    if (this.failure) throw this.failure;
    if (this.released) throw errors.canceled('the download of this layer was abandoned');
    return this.stream;
  }

  /**
   * Nothing more is passed on: the unpack is over (done, failed or not needed), or, with
   * `reason`, the pull failed and an unpack still reading fails with it.
   */
  release(reason?: unknown): void {
    this.released = true;
    if (reason !== undefined) this.failure ??= reason instanceof Error ? reason : new Error(String(reason));
    // NOTE: destroyed without an error, a stream the unpack still reads would leave it waiting
    // forever, with nothing left in the event loop.
    this.stream.destroy(this.failure);
    this.wake?.();
  }

  /** Passes `source`'s chunks on, in step with the unpack, while yielding them to the store. */
  async *feed(source: AsyncIterable<Buffer>, signal: AbortSignal): AsyncGenerator<Buffer> {
    let failure: unknown = errors.canceled();
    try {
      for await (const chunk of source) {
        if (!this.released && !this.stream.write(chunk)) await this.drained(signal);
        yield chunk;
      }
      if (!this.released) this.stream.end();
      failure = undefined;
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      // A failed download (or a store that stopped reading) fails the unpack too.
      if (failure !== undefined && !this.stream.destroyed) {
        this.failure ??= failure instanceof Error ? failure : new Error(String(failure));
        this.stream.destroy(this.failure);
      }
    }
  }

  private drained(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (err?: unknown) => {
        this.stream.off('drain', ok).off('close', ok);
        signal.removeEventListener('abort', aborted);
        this.wake = undefined;
        if (err === undefined) resolve();
        else reject(err);
      };
      const ok = () => finish();
      const aborted = () => finish(signal.reason ?? errors.canceled());
      if (signal.aborted) return aborted();
      this.stream.on('drain', ok).on('close', ok);
      signal.addEventListener('abort', aborted, { once: true });
      this.wake = ok;
    });
  }
}

/**
 * Progress of a pull in Docker's words and order. `commit` is the sink for the commit's
 * events (unpacking is "Loading layer" there); a layer's unpack events are held while its
 * download is still going, and follow "Download complete".
 */
export class PullProgress {
  private readonly downloading = new Set<string>();
  private readonly held = new Map<string, ProgressEvent[]>();

  constructor(private readonly sink: NonNullable<OpContext['progress']>) {}

  /** Download events, passed straight on. */
  readonly download = (e: ProgressEvent): void => {
    if (e.kind !== 'message' && e.action === 'Pulling fs layer') this.downloading.add(e.id);
    this.sink(e);
  };

  /** The download of layer `id` is verified and stored. */
  downloaded(id: string): void {
    this.downloading.delete(id);
    this.sink({ kind: 'progress', id, action: 'Download complete' });
    for (const e of this.held.get(id) ?? []) this.sink(e);
    this.held.delete(id);
  }

  /** The commit's events, reworded (and held while their layer still downloads). */
  readonly commit = (e: ProgressEvent): void => {
    let out = e;
    if (e.kind !== 'message' && e.action === 'Loading layer') out = { ...e, action: e.kind === 'done' ? 'Pull complete' : 'Extracting' };
    if (out.kind !== 'message' && this.downloading.has(out.id)) {
      const list = this.held.get(out.id) ?? [];
      // Only the latest "Extracting" matters; "Pull complete" is kept.
      if (out.kind === 'progress' && list.at(-1)?.kind === 'progress') list.pop();
      list.push(out);
      this.held.set(out.id, list);
      return;
    }
    this.sink(out);
  };
}
