/**
 * The hub: an OCI Distribution registry server (`gantry hub serve`). `startHub` opens the
 * stores in the data directory, starts HTTP (or HTTPS) and answers the distribution API; it
 * resolves once the server listens, with its URL and a `close()`.
 *
 * Every /v2/ request goes: rate limit → route match (the repository name checked first) →
 * the authorizer, asked for exactly what the request needs → the route's handler. Answers carry
 * `Docker-Distribution-API-Version: registry/2.0`, and every failure is the spec's error body.
 * A manifest GET counts a pull; a manifest PUT by tag records the push and fires the
 * repository's webhooks (in the background).
 *
 * Outside /v2/: the web API (`/api/`, `/v1/search`, `/v2/search/repositories`; api/), then the
 * authorizer's own paths (the token endpoint), then the web UI for other GETs (ui/static.ts).
 */
import { mkdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors } from '../core/errors.js';
import { mallocTrim } from '../native/native.js';
import { AccessDenied, type AccessNeed, type Authorizer, loopbackAuthorizer, type Principal } from './access.js';
import type { ApiServices } from './api/context.js';
import { ownerOf, splitName } from './api/repositories.js';
import { handleApi, isApiPath } from './api/web-api.js';
import type { AccountStore } from './auth/account-store.js';
import { parseAuthConfig } from './auth/auth-config.js';
import { BuildCredentials } from './builds/build-credentials.js';
import { TokenAuthorizer } from './auth/token-authorizer.js';
import { BuildService, type HubBuilder } from './builds/build-service.js';
import { type HubConfig, resolveHubConfig, type ResolvedHubConfig } from './config.js';
import { errorBody, HubError } from './errors.js';
import { PullThroughCache } from './proxy.js';
import { RateLimiter } from './rate-limit.js';
import { Registry } from './registry.js';
import { accessNeeds, checkMethod, matchRoute, type RouteMatch } from './router.js';
import { getBlob, deleteBlob } from './routes/blobs.js';
import { drainBody, type Exchange, sendError, sendJson } from './routes/exchange.js';
import { listCatalog, listReferrers, listTags } from './routes/listings.js';
import { deleteManifest, getManifest, putManifest } from './routes/manifests.js';
import { cancelUpload, completeUpload, patchUpload, startUpload, uploadStatus } from './routes/uploads.js';
import { FsBlobStore } from './storage/fs-blob-store.js';
import { HubDataStore } from './storage/hub-data-store.js';
import { SqliteMetadataStore } from './storage/sqlite-metadata-store.js';
import { serveUi } from './ui/static.js';
import { WebhookDispatcher } from './webhooks/dispatcher.js';

/** How long the hub waits, idle, before returning freed memory to the kernel. */
const IDLE_TRIM_MS = 200;

/** Options of {@link startHub}. */
export interface HubOptions {
  /** HOST:PORT to listen on; port 0 picks a free port. */
  listen: string;
  /** The data directory (blobs, uploads, registry.db); created when missing. */
  dataDir: string;
  config: HubConfig;
  /** Who may do what; default {@link loopbackAuthorizer}. */
  authorizer?: Authorizer;
  /** Serve HTTPS with this PEM certificate (chain) and key; overrides the config's http.tls files. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Where the hub reports what is not an answer (server errors, purges); default: nowhere. */
  log?: (line: string) => void;
  /** Builds images for automated builds (the CLI's, on gantry's builder); without it builds are off. */
  builder?: HubBuilder;
  /** The account store (default: the token authorizer's, when that is the authorizer). */
  accounts?: AccountStore;
}

/** A running hub. */
export interface Hub {
  /** `http(s)://HOST:PORT` (a wildcard listen address is reported as loopback). */
  url: string;
  port: number;
  /** Stops listening, ends connections and closes the stores. */
  close(): Promise<void>;
}

// NOTE: node:http and node:https cannot be loaded while the CLI's startup snapshot is built
// (see docs/architecture.md), so they are looked up when a hub starts.
const http = () => process.getBuiltinModule('node:http');
const https = () => process.getBuiltinModule('node:https');

type Handler = (x: Exchange) => Promise<void>;

const HANDLERS: Record<string, Handler> = {
  'catalog GET': listCatalog,
  'catalog HEAD': listCatalog,
  'tags GET': listTags,
  'tags HEAD': listTags,
  'referrers GET': listReferrers,
  'referrers HEAD': listReferrers,
  'manifest GET': getManifest,
  'manifest HEAD': getManifest,
  'manifest PUT': putManifest,
  'manifest DELETE': deleteManifest,
  'blob GET': getBlob,
  'blob HEAD': getBlob,
  'blob DELETE': deleteBlob,
  'uploads POST': startUpload,
  'upload GET': uploadStatus,
  'upload PATCH': patchUpload,
  'upload PUT': completeUpload,
  'upload DELETE': cancelUpload,
};

/** Starts a hub; resolves when it listens. */
export async function startHub(options: HubOptions): Promise<Hub> {
  const config = resolveHubConfig(options.config);
  const { host, port } = parseListen(options.listen);
  const authorizer = options.authorizer ?? loopbackAuthorizer;
  const log = options.log ?? (() => undefined);
  const tls = options.tls ?? (config.tls && { cert: await readFile(config.tls.certificate), key: await readFile(config.tls.key) });

  const blobs = new FsBlobStore(options.dataDir);
  const metadata = new SqliteMetadataStore(await ensureDir(options.dataDir));
  const registry = new Registry({
    blobs,
    metadata,
    deleteEnabled: config.deleteEnabled,
    maxManifestBytes: config.maxManifestBytes,
    maxBlobBytes: config.maxBlobBytes,
  });
  if (config.proxy) registry.upstream = new PullThroughCache(registry, config.proxy);
  const limiter = new RateLimiter(config.rateLimit.requestsPerSecond, config.rateLimit.burst);
  const data = new HubDataStore(metadata.db);
  const webhooks = new WebhookDispatcher({ store: data, retryBaseMs: config.webhookRetryBaseMs, log });
  let registryHost = '';
  const accounts = options.accounts ?? (authorizer instanceof TokenAuthorizer ? authorizer.store : undefined);
  const authConfig = authorizer instanceof TokenAuthorizer ? parseAuthConfig(config.auth) : undefined;
  const buildCredentials =
    authorizer instanceof TokenAuthorizer && authConfig
      ? new BuildCredentials(authorizer.store, authorizer.issuer, authConfig.token.realm.startsWith('/') ? authConfig.token.realm : new URL(authConfig.token.realm).pathname, authConfig.token.service)
      : undefined;
  const builds = new BuildService({
    store: data,
    dataDir: options.dataDir,
    builder: config.buildsEnabled ? options.builder : undefined,
    registryHost: () => registryHost,
    maxQueued: config.buildQueueSize,
    pushCredentials: buildCredentials && ((repository) => buildCredentials.issue(repository)),
    log,
  });
  const api: ApiServices = {
    registry,
    data,
    accounts,
    verifyBearer: (req) =>
      authorizer.authorize(req, [{ type: 'base' }]).then(
        (p) => p.account ?? '',
        () => undefined,
      ),
    builds,
    webhooks,
    secure: tls !== undefined,
    log,
  };
  const hubUrl = { value: '' };

  const idle = idleTrimmer();
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    idle.begin();
    res.once('close', idle.end);
    void serve(req, res, { registry, config, authorizer, limiter, log, api, hubUrl, buildCredentials });
  };
  const serverOptions = {
    requestTimeout: config.requestTimeoutMs,
    headersTimeout: config.requestTimeoutMs > 0 ? Math.min(config.headerTimeoutMs, config.requestTimeoutMs) : config.headerTimeoutMs,
    keepAliveTimeout: Math.min(5000, config.idleTimeoutMs || 5000),
  };
  const server: Server = tls ? https().createServer({ ...serverOptions, cert: tls.cert, key: tls.key }, onRequest) : http().createServer(serverOptions, onRequest);
  // A connection with nothing moving for this long is closed (a stalled upload, a dead client).
  server.setTimeout(config.idleTimeoutMs);

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host || undefined, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await builds.close();
    metadata.close();
    throw errors.unavailable(`cannot listen on ${options.listen}: ${(err as Error).message}`, { cause: err });
  }

  // Abandoned uploads go after `age` without activity; checked at start and every `interval`.
  let purging: Promise<unknown> = Promise.resolve();
  const purge = () => {
    purging = registry
      .purgeUploads(Date.now() - config.uploadPurging.ageMs)
      .then((n) => n > 0 && log(`purged ${n} abandoned upload(s)`))
      .catch((err: unknown) => log(`upload purge failed: ${(err as Error).message}`));
  };
  let timer: NodeJS.Timeout | undefined;
  if (config.uploadPurging.enabled) {
    purge();
    timer = setInterval(purge, Math.max(1000, config.uploadPurging.intervalMs)).unref();
  }

  const address = server.address() as AddressInfo;
  const shownHost = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  const url = `${tls ? 'https' : 'http'}://${shownHost}:${address.port}`;
  hubUrl.value = url;
  // NOTE: builds push over loopback, whatever the hub listens on, so the push stays local.
  registryHost = `${host.includes(':') ? '[::1]' : '127.0.0.1'}:${address.port}`;
  webhooks.resume();
  return {
    url,
    port: address.port,
    close: () =>
      (closing ??= (async () => {
        if (timer) clearInterval(timer);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), 2000);
        await closed;
        clearTimeout(force);
        await purging;
        await builds.close();
        await webhooks.close();
        await authorizer.close?.();
        metadata.close();
      })()),
  };
}

/** What {@link serve} needs. */
interface ServeContext {
  registry: Registry;
  config: ResolvedHubConfig;
  authorizer: Authorizer;
  limiter: RateLimiter;
  log: (line: string) => void;
  api: ApiServices;
  /** The hub's URL (for webhook payloads), set once it listens. */
  hubUrl: { value: string };
  /** Token requests of automated builds (hubs with accounts). */
  buildCredentials: BuildCredentials | undefined;
}

/** Answers one request; never rejects. */
async function serve(req: IncomingMessage, res: ServerResponse, ctx: ServeContext): Promise<void> {
  const method = req.method ?? 'GET';
  res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
  try {
    ctx.limiter.take(req.socket.remoteAddress ?? '');
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    // NOTE: the raw path, not `new URL()`'s: URL parsing would resolve `a/../b` into `b` and
    // serve another repository than the one named; the name check refuses it instead.
    const pathname = q < 0 ? raw : raw.slice(0, q);
    const url = new URL(`http://hub${pathname.replace(/[^\x21-\x7e]/g, '')}${q < 0 ? '' : raw.slice(q)}`);
    if (isApiPath(pathname)) {
      await handleApi(ctx.api, req, res, pathname, url);
      return;
    }
    if (pathname !== '/v2' && !pathname.startsWith('/v2/')) {
      if (ctx.buildCredentials?.handle(req, res)) return;
      if (await ctx.authorizer.handle?.(req, res)) return;
      if ((method === 'GET' || method === 'HEAD') && !pathname.startsWith('/v1/') && (await serveUi(req, res))) return;
      throw new HubError('UNSUPPORTED', 'not found', { status: 404, detail: { path: pathname.slice(0, 200) } });
    }
    const route = matchRoute(pathname);
    if (!route) throw new HubError('UNSUPPORTED', 'not found', { status: 404, detail: { path: pathname.slice(0, 200) } });
    checkMethod(route, method);
    const principal = await ctx.authorizer.authorize(req, accessNeeds(route, method));
    if (route.kind === 'base') {
      sendJson(res, 200, {}, {}, method === 'HEAD');
      return;
    }
    const handler = HANDLERS[`${route.kind} ${method}`] as Handler;
    const x = exchange(req, res, url, route, ctx);
    await handler(x);
    if (route.kind === 'manifest') afterManifest(x, principal, ctx);
  } catch (err) {
    await answerError(req, res, err, ctx.log);
  }
}

/** Counts a pull (GET, not HEAD) and, for a push by tag, records it and fires the webhooks. */
function afterManifest(x: Exchange, principal: Principal, ctx: ServeContext): void {
  const method = x.req.method;
  try {
    if (method === 'GET' && x.res.statusCode === 200) ctx.api.data.countPull(x.name);
    if (method !== 'PUT' || x.res.statusCode !== 201 || x.param.includes(':')) return;
    const now = Date.now();
    ctx.api.data.recordPush(x.name, now);
    const row = ctx.api.data.repository(x.name);
    const { namespace, name } = splitName(x.name);
    const base = ctx.hubUrl.value;
    ctx.api.webhooks.pushed(x.name, {
      callback_url: `${base}/api/repositories/${namespace}/${name}`,
      push_data: { pushed_at: Math.floor(now / 1000), pusher: principal.account ?? '', tag: x.param },
      repository: {
        repo_name: x.name,
        name,
        namespace: namespace === '_' ? 'library' : namespace,
        owner: ownerOf(x.name),
        is_private: ctx.api.accounts?.visibility(x.name) === 'private',
        status: 'Active',
        star_count: row?.starCount ?? 0,
        description: row?.description ?? '',
        full_description: row?.fullDescription ?? '',
        date_created: Math.floor((row?.createdMs ?? now) / 1000),
        repo_url: `${base}/r/${namespace}/${name}`,
      },
    });
  } catch (err) {
    ctx.log(`recording ${method} of ${x.name}:${x.param}: ${(err as Error).message}`);
  }
}

function exchange(req: IncomingMessage, res: ServerResponse, url: URL, route: RouteMatch, ctx: ServeContext): Exchange {
  let param = route.param;
  try {
    param = decodeURIComponent(param);
  } catch {
    // left as sent: the reference or digest check refuses it
  }
  return {
    req,
    res,
    url,
    name: route.name,
    param,
    registry: ctx.registry,
    config: ctx.config,
    mayAlso: (needs: AccessNeed[]) =>
      ctx.authorizer.authorize(req, needs).then(
        () => true,
        (err: unknown) => {
          if (err instanceof AccessDenied) return false;
          throw err;
        },
      ),
  };
}

/** Sends the spec's error for `err`, or drops the connection when the answer was already under way. */
async function answerError(req: IncomingMessage, res: ServerResponse, err: unknown, log: (line: string) => void): Promise<void> {
  const head = req.method === 'HEAD';
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  // NOTE: the rest of the request body is read first: a client still sending it would get a
  // broken pipe instead of the answer.
  await drainBody(req);
  if (res.destroyed) return;
  if (err instanceof HubError) return sendError(res, err, head);
  if (err instanceof AccessDenied) {
    const code = err.status === 401 ? 'UNAUTHORIZED' : 'DENIED';
    const body = Buffer.from(errorBody(code, err.message, err.detail));
    res.writeHead(err.status, { 'Content-Type': 'application/json', 'Content-Length': body.length, ...err.headers });
    res.end(head ? undefined : body);
    return;
  }
  if (req.destroyed || (err as NodeJS.ErrnoException)?.code === 'ECONNRESET' || (err as Error)?.message === 'aborted') {
    // The client went away mid-request (a truncated upload): nobody is left to answer.
    res.destroy();
    return;
  }
  log(`error: ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
  const body = Buffer.from(errorBody('UNKNOWN', 'unknown error'));
  res.writeHead(500, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(head ? undefined : body);
}

/** Splits `HOST:PORT` (`[::1]:5000`, `:5000` for every interface). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen.trim());
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw errors.invalid(`invalid listen address ${JSON.stringify(listen)}: use HOST:PORT, e.g. 127.0.0.1:5000`);
  return { host: m[1] ?? m[2] ?? '', port };
}

async function ensureDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Gives memory back once the hub falls idle. Request and upload buffers come from the C heap,
 * which glibc keeps after they are freed: after a 200 MB push the process would hold some
 * 40 MB it no longer uses. IDLE_TRIM_MS after the last request ends, malloc_trim returns it.
 */
function idleTrimmer(): { begin(): void; end(): void } {
  let active = 0;
  let timer: NodeJS.Timeout | undefined;
  return {
    begin() {
      active++;
      clearTimeout(timer);
    },
    end() {
      if (--active > 0) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        try {
          mallocTrim();
        } catch {
          // no native addon: the memory stays with the process
        }
      }, IDLE_TRIM_MS).unref();
    },
  };
}
