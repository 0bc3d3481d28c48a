/**
 * HTTP for the registry client: keep-alive connections, redirects that never carry the
 * Authorization header to another host, and retries with backoff for the failures a registry
 * (or the network in front of it) produces transiently — connection resets, 5xx, 429 with its
 * Retry-After, and a small body that breaks off after the headers (see {@link readBody}).
 *
 * node:http rather than fetch: blob bodies stream into the content store with back-pressure,
 * uploads stream from it with a known length, and a response can be abandoned half-read
 * (a resumed download) without leaking the socket.
 */
import type { Agent as HttpAgent, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { errors, GantryError, isGantryError } from '../core/errors.js';

/** One request. A body is a buffer or a function that opens a fresh stream (so it can be retried). */
export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | (() => Promise<Readable>);
  signal?: AbortSignal;
  /** Follow redirects (GET/HEAD only); default true. */
  followRedirects?: boolean;
  /** Retry transient failures; default true for GET and HEAD, false otherwise. */
  retry?: boolean;
}

/** A response whose body has not been read yet. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered (after redirects). */
  url: URL;
  body: IncomingMessage;
}

// NOTE: node:http, node:https and node:tls cannot be loaded while the startup snapshot is built (Node 20
// fails in http's module initialiser), so they are looked up when a transport is made.
const http = () => process.getBuiltinModule('node:http');
const https = () => process.getBuiltinModule('node:https');
const tls = () => process.getBuiltinModule('node:tls');

const MAX_REDIRECTS = 10;
const MAX_ATTEMPTS = 4;
const MAX_RETRY_AFTER_MS = 60_000;

/** Options of a {@link Transport}. */
export interface TransportOptions {
  /** Extra PEM CA certificates (a file), e.g. a registry's self-signed CA. */
  caFile?: string;
  /** Base backoff before the first retry, in ms (tests shorten it). */
  backoffMs?: number;
}

/** The HTTP transport every registry session shares. */
export class Transport {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;
  private readonly backoffMs: number;

  constructor(options: TransportOptions = {}) {
    const ca = [...tls().rootCertificates];
    if (options.caFile) {
      try {
        ca.push(readFileSync(options.caFile, 'utf8'));
      } catch {
        // An unreadable extra CA is the same as none: TLS errors will name the host.
      }
    }
    this.http = new (http().Agent)({ keepAlive: true, maxSockets: 16 });
    this.https = new (https().Agent)({ keepAlive: true, maxSockets: 16, ca });
    this.backoffMs = options.backoffMs ?? 250;
  }

  /** Sends a request, following redirects and retrying transient failures. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const retry = req.retry ?? (req.method === 'GET' || req.method === 'HEAD');
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await this.follow(req);
      } catch (err) {
        if (!retry || attempt >= MAX_ATTEMPTS || !isTransient(err) || req.signal?.aborted) throw err;
        await sleep(this.backoffMs * 2 ** (attempt - 1), req.signal);
        continue;
      }
      const again = retry && attempt < MAX_ATTEMPTS && (res.status === 429 || res.status >= 500);
      if (!again) {
        sent.set(res, {
          method: req.method,
          resend: retry ? (n) => sleep(this.backoffMs * 2 ** (n - 1), req.signal).then(() => this.send(req)) : undefined,
        });
        return res;
      }
      const wait = res.status === 429 ? retryAfter(res.headers['retry-after']) : undefined;
      res.body.resume();
      await sleep(wait ?? this.backoffMs * 2 ** (attempt - 1), req.signal);
    }
  }

  /**
   * Sends a first request to `host` (at `path`, with its query) over HTTPS — and, for an
   * insecure host, over plain HTTP when the server does not speak TLS, as Docker does: a
   * failed handshake, or a 400 (an HTTP server answering TLS bytes), moves on to HTTP. A
   * refused connection is refused for both schemes and fails at once. Returns the answer and
   * the scheme that gave it; the caller reads or discards the body.
   */
  async sendDiscovering(
    host: string,
    insecure: boolean,
    path: string,
    req: Omit<HttpRequest, 'url' | 'retry'>,
  ): Promise<{ res: HttpResponse; scheme: 'https:' | 'http:' }> {
    const schemes = insecure ? (['https:', 'http:'] as const) : (['https:'] as const);
    let lastErr: unknown;
    for (const scheme of schemes) {
      const url = new URL(`${scheme}//${host}${path}`);
      let res: HttpResponse;
      try {
        // NOTE: HTTPS to an insecure host is not retried: a plain-HTTP server answers the
        // handshake with garbage or a reset, and the HTTP attempt is the real one.
        res = await this.send({ ...req, url, retry: scheme === 'http:' || !insecure });
      } catch (err) {
        lastErr = err;
        if (req.signal?.aborted || networkErrno(err) === 'ECONNREFUSED') throw err;
        continue;
      }
      if (scheme === 'https:' && insecure && res.status === 400) {
        res.body.resume();
        continue;
      }
      return { res, scheme };
    }
    throw lastErr;
  }

  /** Closes idle connections. */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }

  private async follow(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    let headers = { ...req.headers };
    for (let hop = 0; ; hop++) {
      const res = await this.once(req, url, headers);
      const location = res.headers.location;
      const redirect = [301, 302, 303, 307, 308].includes(res.status) && location;
      if (!redirect || req.followRedirects === false || (req.method !== 'GET' && req.method !== 'HEAD')) return res;
      res.body.resume();
      if (hop >= MAX_REDIRECTS) throw errors.invalid(`${req.method} ${req.url.href}: stopped after ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, url);
      // A redirect to blob storage elsewhere must not receive the registry's credentials.
      if (next.host !== url.host || next.protocol !== url.protocol) {
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
      }
      url = next;
    }
  }

  private async once(req: HttpRequest, url: URL, headers: Record<string, string>): Promise<HttpResponse> {
    const body = typeof req.body === 'function' ? await req.body() : req.body;
    return new Promise<HttpResponse>((resolve, reject) => {
      const isHttps = url.protocol === 'https:';
      const send = isHttps ? https().request : http().request;
      const out = send(
        url,
        { method: req.method, headers, agent: isHttps ? this.https : this.http, signal: req.signal },
        (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, url, body: res }),
      );
      out.on('error', (err) => {
        if (body && !Buffer.isBuffer(body)) body.destroy();
        reject(describeNetworkError(err, req.method, url));
      });
      if (body === undefined) out.end();
      else if (Buffer.isBuffer(body)) out.end(body);
      else {
        body.on('error', (err) => out.destroy(err));
        body.pipe(out);
      }
    });
  }
}

/** How a response was asked for: its method, and how to ask again when its request may be retried. */
interface Sent {
  method: string;
  /** Sends the request again after the backoff of retry `n` (1, 2, ...). */
  resend?: (n: number) => Promise<HttpResponse>;
}

// NOTE: kept beside the responses rather than in them so that HttpResponse stays plain data.
const sent = new WeakMap<HttpResponse, Sent>();

/**
 * Reads a whole (small) response body; refuses more than `limit` bytes.
 *
 * A body that breaks off (the connection closed or reset after the headers) is fetched again,
 * with backoff and as often as a failed request is sent again, when its request may be retried;
 * `res` then describes the answer whose body was read. Otherwise the failure is one network
 * error, worded as Go words it ("unexpected EOF").
 */
export async function readBody(res: HttpResponse, limit = 8 << 20): Promise<Buffer> {
  const { method, resend } = sent.get(res) ?? { method: 'GET' };
  for (let retry = 1; ; retry++) {
    try {
      return await readAll(res, limit);
    } catch (err) {
      if (isGantryError(err)) throw err; // over the limit
      const failure = describeNetworkError(err, method, res.url);
      if (!resend || retry >= MAX_ATTEMPTS || failure.name === 'AbortError') throw failure;
      const again = await resend(retry);
      if (again.status !== res.status) {
        again.body.resume();
        throw failure;
      }
      Object.assign(res, again);
    }
  }
}

async function readAll(res: HttpResponse, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.body.destroy();
      throw errors.invalid(`response from ${res.url.href} is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

// Go's wording for the network errors Docker users know ("dial tcp ...: connect: connection refused").
function describeNetworkError(err: unknown, method: string, url: URL): Error {
  if (err instanceof Error && err.name === 'AbortError') return err;
  const e = err as NodeJS.ErrnoException;
  const what = `${method === 'HEAD' ? 'Head' : method === 'GET' ? 'Get' : method.charAt(0) + method.slice(1).toLowerCase()} "${url.href}"`;
  const reason =
    e.code === 'ECONNREFUSED'
      ? `dial tcp ${url.host}: connect: connection refused`
      : e.code === 'ENOTFOUND'
        ? `dial tcp: lookup ${url.hostname}: no such host`
        : e.message === 'aborted' // node:http's word for a body cut short
          ? 'unexpected EOF'
          : e.message;
  const wrapped = new GantryError('UNAVAILABLE', `${what}: ${reason}`, { cause: err });
  (wrapped as GantryError & { errno?: string }).errno = e.code;
  return wrapped;
}

/** The errno of a network failure wrapped by the transport, if any. */
export function networkErrno(err: unknown): string | undefined {
  return (err as { errno?: string } | undefined)?.errno;
}

function isTransient(err: unknown): boolean {
  const code = networkErrno(err);
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT' || code === 'EAI_AGAIN' || code === 'ECONNABORTED';
}

function retryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const seconds = Number(v);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(v) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
