/**
 * One request and its answer as the routes see them: the parsed URL, the repository name, the
 * registry, and the few ways a route answers (JSON, an empty status with headers, the spec's
 * error body). Bodies are read with a limit, so an oversized request is refused early.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessNeed } from '../access.js';
import type { ResolvedHubConfig } from '../config.js';
import { errorBody, HubError } from '../errors.js';
import type { Registry } from '../registry.js';

/** What a route handler gets. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The repository name of the URL (validated), '' for /v2/ and the catalog. */
  name: string;
  /** The last part of the URL after the route's noun (a reference, digest or upload ID). */
  param: string;
  registry: Registry;
  config: ResolvedHubConfig;
  /** Asks the authorizer for more (a mount's source repository); false when refused. */
  mayAlso(needs: AccessNeed[]): Promise<boolean>;
}

/** Sends `status` with headers and no body (HEAD answers keep their Content-Length). */
export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string | number> = {}): void {
  res.writeHead(status, { 'Content-Length': 0, ...headers });
  res.end();
}

/** Sends a JSON body. */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string | number> = {}, head = false): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length, ...headers });
  res.end(head ? undefined : body);
}

/** Sends the spec's error body for `err`. */
export function sendError(res: ServerResponse, err: HubError, head = false): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(errorBody(err.ociCode, err.message, err.detail));
  res.writeHead(err.status, { 'Content-Type': 'application/json', 'Content-Length': body.length, ...err.headers });
  res.end(head ? undefined : body);
}

/** Reads a whole request body of at most `limit` bytes; SIZE_INVALID (413) beyond it. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = contentLength(req);
  if (declared !== undefined && declared > limit) {
    await drainBody(req);
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      await drainBody(req);
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  if (declared !== undefined && size !== declared) {
    throw new HubError('SIZE_INVALID', 'provided length did not match content length', { detail: { declared, received: size } });
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): HubError {
  return new HubError('SIZE_INVALID', `request body is larger than ${limit} bytes`, { status: 413, detail: { limit } });
}

/** The request's Content-Length, or undefined when it has none (chunked). */
export function contentLength(req: IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new HubError('SIZE_INVALID', 'invalid Content-Length', { detail: { contentLength: v } });
  return Number(v);
}

/** The `n` and `last` of a paginated list (`n` capped at `max`). */
export function pageQuery(url: URL, max: number): { n: number | undefined; last: string | undefined } {
  const nParam = url.searchParams.get('n');
  let n: number | undefined;
  if (nParam !== null && nParam !== '') {
    if (!/^\d+$/.test(nParam)) throw new HubError('PAGINATION_NUMBER_INVALID', 'invalid number of results requested', { detail: { n: nParam } });
    n = Math.min(Number(nParam), max);
  }
  return { n, last: url.searchParams.get('last') ?? undefined };
}

/**
 * The `Link` header to the next page when there is one (RFC 5988, as distribution sends it):
 * `</v2/...?n=N&last=X>; rel="next"`.
 */
export function nextLink(path: string, items: readonly string[], n: number, more: boolean, extra: Record<string, string> = {}): Record<string, string> {
  const last = items[items.length - 1];
  if (!more || last === undefined) return {};
  const q = new URLSearchParams({ ...extra, n: String(n), last });
  return { Link: `<${path}?${q.toString()}>; rel="next"` };
}

/** Most bytes of an unread request body discarded after an error before the connection is dropped. */
const DISCARD_LIMIT = 64 * 1024 * 1024;

/**
 * Reads and drops the rest of a request body, so that a client still sending it (an
 * oversized manifest refused from its Content-Length) then reads the answer rather than a
 * broken pipe; beyond DISCARD_LIMIT the connection is closed instead. Resolves when the body
 * ended or the connection closed.
 */
export function drainBody(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > DISCARD_LIMIT) req.socket.destroy();
    });
    req.once('end', resolve);
    req.once('close', resolve);
    req.resume();
  });
}
