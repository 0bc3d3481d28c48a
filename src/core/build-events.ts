/**
 * What a build reports while it runs, modelled on BuildKit's solve status: a build is a set of
 * *vertices* (a step such as `[build 2/5] RUN make`, or an internal one such as
 * `exporting to image`), each started, then completed (done, cached or failed), with log output
 * and status lines in between. The builder emits these; front ends render them (BuildKit's
 * plain `#N` lines on a pipe, a live view on a terminal). Times are milliseconds since the
 * epoch (Date.now()).
 */

/** One build progress event. */
export type BuildEvent =
  /** A vertex starts. `id` numbers vertices from 1 in the order they start. */
  | { type: 'start'; id: number; name: string; at: number }
  /** A step answered from the cache (BuildKit's `CACHED`); no `done` follows. */
  | { type: 'cached'; id: number; at: number }
  /** Output of a RUN, as it was written (not split into lines). */
  | { type: 'log'; id: number; stream: 'stdout' | 'stderr'; data: Buffer; at: number }
  /** A status line of a vertex, e.g. `writing image sha256:… done`. */
  | { type: 'status'; id: number; text: string; at: number }
  /** A vertex ends; `error` when it failed, `canceled` when the build was interrupted. */
  | { type: 'done'; id: number; at: number; error?: string; canceled?: boolean }
  /** A warning not tied to a vertex (unused build args, deprecated syntax). */
  | { type: 'warning'; message: string };

/** A sink for build events. */
export type BuildEventSink = (event: BuildEvent) => void;
