/**
 * What travels through every long operation: a signal that cancels it (Ctrl-C) and a sink for
 * progress events. The engine never prints; front ends render these events (live lines on a
 * terminal, plain lines on a pipe, JSON on the API).
 */

/** A progress event. `id` groups events that update one line (a layer, a blob). */
export type ProgressEvent =
  | { kind: 'progress'; id: string; action: string; current?: number; total?: number }
  | { kind: 'done'; id: string; action: string }
  | { kind: 'message'; text: string };

/** Context of one operation. */
export interface OpContext {
  signal?: AbortSignal;
  progress?: (event: ProgressEvent) => void;
}

/** Throws CANCELED-style AbortError when the context's signal has fired. */
export function throwIfAborted(ctx: OpContext | undefined): void {
  ctx?.signal?.throwIfAborted();
}
