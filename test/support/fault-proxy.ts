/**
 * A reverse proxy for fault-injection tests of the registry client: it listens on
 * 127.0.0.1:<free port> in front of a {@link TestRegistry}, forwards every request unchanged
 * (Host included, so the registry's Location headers name the proxy), and answers the requests
 * a test has programmed a fault for in a way a real registry, CDN or network produces: an
 * error status with a distribution error body, a redirect to blob storage elsewhere, a
 * connection dropped after the headers or halfway through a body. Every request is logged
 * with its headers, so a test can assert what the client sent (a Range, an Authorization).
 *
 * Also here: {@link BlobStorage}, a stand-in for the object storage a registry redirects blob
 * downloads to, which serves a registry's blobs from its storage directory without any
 * authentication — the way a pre-signed URL is served.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TestRegistry } from './registry.js';

/** What the proxy does instead of (or while) forwarding a request. */
export type FaultAction =
  /** Answer with this status; `errors` become a distribution error body `{"errors":[...]}`. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; errors?: { code: string; message: string }[] }
  /** Answer with a redirect (307 unless told) to the URL `location` returns for the request path. */
  | { kind: 'redirect'; status?: number; location: (path: string) => string }
  /** Forward, pass the registry's status and headers on, then close the connection before any body byte. */
  | { kind: 'close-after-headers' }
  /** Forward, pass the headers and `fraction` (0..1) of the body on, then close the connection. */
  | { kind: 'cut-body'; fraction: number };

/** A programmed fault: the requests it applies to, how often, and what happens to them. */
export interface Fault {
  /** The method to match (any when absent). */
  method?: string;
  /** Matched against the request's path and query. */
  path: RegExp;
  /** How many matching requests get the fault (then it is spent); every one when absent. */
  times?: number;
  action: FaultAction;
}

/** One request as the proxy received it. */
export interface LoggedRequest {
  method: string;
  /** Path and query. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The fault applied to it (its kind), if any. */
  fault?: FaultAction['kind'];
  /** When it arrived (ms since the epoch). */
  at: number;
}

interface ArmedFault extends Fault {
  left: number;
}

/** A running proxy in front of one registry. */
export class FaultProxy {
  /** Every request received, in order of arrival. */
  readonly log: LoggedRequest[] = [];
  private faults: ArmedFault[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly upstream: TestRegistry,
  ) {
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  /** Starts a proxy in front of `upstream` on a port the kernel picks. */
  static async start(upstream: TestRegistry): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, upstream);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => proxy.handle(req, res));
    await listen(server);
    return proxy;
  }

  /** `127.0.0.1:PORT`, the proxy's address as an image reference's domain. */
  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Programs a fault; faults are tried in the order they were added, the first match applies. */
  inject(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? Infinity });
  }

  /** Removes every fault and empties the log. */
  reset(): void {
    this.faults = [];
    this.log.length = 0;
  }

  /** The logged requests with this method whose path matches. */
  requests(method: string, path: RegExp): LoggedRequest[] {
    return this.log.filter((r) => r.method === method && path.test(r.path));
  }

  /** Stops listening and drops every open connection. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    const fault = this.faults.find((f) => f.left > 0 && (!f.method || f.method === req.method) && f.path.test(path));
    if (fault) fault.left--;
    this.log.push({ method: req.method ?? '', path, headers: req.headers, fault: fault?.action.kind, at: Date.now() });
    const action = fault?.action;
    if (action?.kind === 'status') {
      req.resume();
      const body = action.errors ? JSON.stringify({ errors: action.errors }) : '';
      res.writeHead(action.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...action.headers });
      res.end(body);
      return;
    }
    if (action?.kind === 'redirect') {
      req.resume();
      res.writeHead(action.status ?? 307, { location: action.location(path), 'content-length': 0 });
      res.end();
      return;
    }
    this.forward(req, res, action);
  }

  private forward(req: IncomingMessage, res: ServerResponse, action: FaultAction | undefined): void {
    const out = request(
      { host: '127.0.0.1', port: this.upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (action?.kind === 'close-after-headers') {
          up.destroy();
          // NOTE: flushHeaders sends the status line and headers now; the socket is closed once
          // they are on the wire, so the client sees a complete head and then end of stream.
          res.flushHeaders();
          res.socket?.end(() => res.socket?.destroy());
          return;
        }
        if (action?.kind === 'cut-body') {
          cutAfter(up, res, Math.floor(Number(up.headers['content-length'] ?? 0) * action.fraction));
          return;
        }
        up.pipe(res);
      },
    );
    out.on('error', () => res.socket?.destroy());
    req.pipe(out);
  }
}

/** Passes `limit` bytes of `up` on to `res`, then closes the client's connection mid-body. */
function cutAfter(up: IncomingMessage, res: ServerResponse, limit: number): void {
  let sent = 0;
  up.on('data', (chunk: Buffer) => {
    if (sent >= limit) return;
    const part = chunk.subarray(0, limit - sent);
    sent += part.length;
    const full = sent >= limit;
    if (full) up.pause();
    res.write(part, () => {
      if (!full) return;
      // NOTE: a short pause lets the bytes already written reach the client before the close,
      // so the client has a non-zero offset to resume from.
      setTimeout(() => {
        res.socket?.destroy();
        up.destroy();
      }, 50);
    });
  });
}

/**
 * Serves `GET /<digest>` from a registry's blob storage (the file its filesystem driver keeps),
 * without authentication, and logs each request's headers.
 */
export class BlobStorage {
  /** Every request received, in order of arrival. */
  readonly log: LoggedRequest[] = [];

  private constructor(
    private readonly server: Server,
    private readonly registry: TestRegistry,
  ) {}

  /** Starts a blob server for `registry` on 127.0.0.1 and a port the kernel picks. */
  static async start(registry: TestRegistry): Promise<BlobStorage> {
    const server = createServer();
    const storage = new BlobStorage(server, registry);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void storage.handle(req, res));
    await listen(server);
    return storage;
  }

  /** The URL of a blob under another host name than the registry's: `http://localhost:PORT/<digest>`. */
  url(digest: string): string {
    return `http://localhost:${(this.server.address() as AddressInfo).port}/${digest}`;
  }

  /** Stops listening and drops every open connection. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.log.push({ method: req.method ?? '', path: req.url ?? '/', headers: req.headers, at: Date.now() });
    req.resume();
    let file: string;
    let size: number;
    try {
      file = this.registry.blobPath((req.url ?? '').slice(1));
      size = (await stat(file)).size;
    } catch {
      res.writeHead(404, { 'content-length': 0 }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  }
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}
