/**
 * A client of one OCI Distribution registry (https://github.com/opencontainers/distribution-spec):
 * manifests, blobs, uploads and tags, with authentication resolved once per registry.
 *
 * Before the first request the client pings `/v2/` (as Docker does) to learn the scheme and
 * the auth challenge: HTTPS always for a remote registry; for loopback hosts and registries
 * configured insecure, HTTPS first and plain HTTP when the server does not speak TLS.
 * Every later request then carries the right Authorization up front — Basic credentials, or a
 * bearer token for the request's scope — so a pull costs no 401 round trips.
 */
import type { Readable } from 'node:stream';
import { type Digest, isDigest, sha256 } from '../core/digest.js';
import { errors, type ErrorCode, GantryError } from '../core/errors.js';
import { basicAuth, type Challenge, parseChallenges, TokenRefusedError, TokenSource } from './auth.js';
import type { Credentials } from './credentials.js';
import { type HttpRequest, type HttpResponse, readBody, type Transport } from './transport.js';

/** The media types a pull accepts, best first (Docker's order). */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** A manifest (or index) as fetched: its exact bytes, type and digest. */
export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

/** One error of a registry's error body: `{"errors":[{"code","message","detail"}]}`. */
export interface RegistryErrorDetail {
  code: string;
  message: string;
}

/** An error answer of a registry, with its HTTP status and error codes. */
export class RegistryError extends GantryError {
  constructor(
    readonly status: number,
    readonly details: RegistryErrorDetail[],
    message: string,
  ) {
    super(codeOfStatus(status), message);
  }

  /** True when one of the registry's error codes is `code` (MANIFEST_UNKNOWN, NAME_UNKNOWN, ...). */
  has(code: string): boolean {
    return this.details.some((d) => d.code === code);
  }
}

/** Options of a {@link RegistryClient}. */
export interface RegistryClientOptions {
  transport: Transport;
  /** The host:port requests go to (for Docker Hub, registry-1.docker.io). */
  endpoint: string;
  credentials?: Credentials;
  /** Allow plain HTTP when the registry does not speak TLS. */
  insecure: boolean;
}

/** Scope of pulling from `repo`. */
export const pullScope = (repo: string) => `repository:${repo}:pull`;
/** Scope of pushing to `repo`. */
export const pushScope = (repo: string) => `repository:${repo}:pull,push`;

/** A client of one registry. */
export class RegistryClient {
  private base: URL | undefined;
  private challenge: Challenge | undefined;
  private tokens: TokenSource | undefined;
  private pinging: Promise<void> | undefined;

  constructor(private readonly options: RegistryClientOptions) {}

  /** True when the client sends credentials (stored or given to `login`). */
  get hasCredentials(): boolean {
    return this.options.credentials !== undefined;
  }

  /** The authentication scheme the registry asked for at the ping ('basic', 'bearer'), if any. */
  get authScheme(): string | undefined {
    return this.challenge?.scheme;
  }

  /** Pings `/v2/` (once) to learn scheme and challenge. */
  ping(signal?: AbortSignal): Promise<void> {
    this.pinging ??= this.doPing(signal).catch((err: unknown) => {
      this.pinging = undefined;
      throw err;
    });
    return this.pinging;
  }

  /**
   * Checks the credentials against the registry, as Docker's `login` does: `/v2/` must answer
   * 200 with them — sent as they are (Basic), or exchanged at the token server for a token
   * without scope (Bearer), which the registry then verifies.
   */
  async checkLogin(signal?: AbortSignal): Promise<void> {
    await this.ping(signal);
    if (!this.challenge) return;
    const url = new URL('/v2/', this.base);
    const res = await this.request({ method: 'GET', url, signal }, []);
    res.body.resume();
    if (res.status !== 200) {
      throw new GantryError(codeOfStatus(res.status), `login attempt to ${url.href} failed with status: ${res.status} ${statusText(res.status)}`);
    }
  }

  /** GETs a manifest by tag or digest; a digest reference is verified against the bytes. */
  async getManifest(repo: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const res = await this.request(
      { method: 'GET', url: await this.url(`${repo}/manifests/${reference}`), headers: { accept: MANIFEST_ACCEPT }, signal },
      [pullScope(repo)],
    );
    if (res.status !== 200) throw await errorOf(res);
    const bytes = await readBody(res, 4 << 20);
    const digest = sha256(bytes);
    if (isDigest(reference) && reference !== digest) {
      throw errors.dataLoss(`manifest verification failed for digest ${reference}: the registry sent content with digest ${digest}`);
    }
    const mediaType = (res.headers['content-type'] ?? '').split(';')[0]?.trim() || mediaTypeOf(bytes);
    return { bytes, mediaType, digest };
  }

  /** True when the registry has the blob in `repo`. */
  async hasBlob(repo: string, digest: Digest, scopes = [pullScope(repo)], signal?: AbortSignal): Promise<boolean> {
    const res = await this.request({ method: 'HEAD', url: await this.url(`${repo}/blobs/${digest}`), signal }, scopes);
    if (res.status !== 200 && res.status !== 404) throw await errorOf(res);
    res.body.resume();
    return res.status === 200;
  }

  /** Opens a blob for reading from byte `start` (HTTP Range), following redirects to storage. */
  async openBlob(repo: string, digest: Digest, start = 0, signal?: AbortSignal): Promise<Readable> {
    const headers: Record<string, string> = start > 0 ? { range: `bytes=${start}-` } : {};
    const res = await this.request({ method: 'GET', url: await this.url(`${repo}/blobs/${digest}`), headers, signal }, [pullScope(repo)]);
    if (start > 0 && res.status === 200) {
      // The server ignored the range: the caller must restart from zero.
      res.body.destroy();
      // Not UNAVAILABLE: asking again would get the same answer.
      throw errors.precondition(`the registry does not support resuming blob ${digest}`, { hint: 'pull again' });
    }
    if (res.status !== 200 && res.status !== 206) throw await errorOf(res);
    return res.body;
  }

  /**
   * Asks the registry to mount `digest` from repository `from` into `repo` (cross-repository
   * blob mount). True when mounted; false when the registry started an upload instead, which
   * is then cancelled.
   */
  async mountBlob(repo: string, digest: Digest, from: string, signal?: AbortSignal): Promise<boolean> {
    const url = await this.url(`${repo}/blobs/uploads/`);
    url.searchParams.set('mount', digest);
    url.searchParams.set('from', from);
    const res = await this.request({ method: 'POST', url, signal }, [pushScope(repo), pullScope(from)]);
    if (![201, 202, 401, 403, 404].includes(res.status)) throw await errorOf(res);
    res.body.resume();
    if (res.status === 202) await this.cancelUpload(repo, res, signal);
    return res.status === 201;
  }

  /**
   * Uploads a blob: one PUT with the body for small blobs (monolithic), a streamed PATCH then a
   * closing PUT for the rest (chunked), as the distribution spec describes both.
   */
  async uploadBlob(repo: string, digest: Digest, size: number, open: () => Promise<Readable>, signal?: AbortSignal): Promise<void> {
    const scopes = [pushScope(repo)];
    const start = await this.request({ method: 'POST', url: await this.url(`${repo}/blobs/uploads/`), signal }, scopes);
    await expectStatus(start, 202);
    let location = this.location(start);
    const contentHeaders = { 'content-type': 'application/octet-stream', 'content-length': String(size) };
    if (size > MONOLITHIC_MAX) {
      const patch = await this.request(
        { method: 'PATCH', url: location, headers: { ...contentHeaders, 'content-range': `0-${size - 1}` }, body: open, signal },
        scopes,
      );
      await expectStatus(patch, 202);
      location = this.location(patch);
      location.searchParams.set('digest', digest);
      const done = await this.request({ method: 'PUT', url: location, headers: { 'content-length': '0' }, signal }, scopes);
      await expectStatus(done, 201);
      return;
    }
    location.searchParams.set('digest', digest);
    const put = await this.request({ method: 'PUT', url: location, headers: contentHeaders, body: open, signal }, scopes);
    await expectStatus(put, 201);
  }

  /** PUTs a manifest under a tag or digest with its exact media type; returns its digest. */
  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<Digest> {
    const res = await this.request(
      {
        method: 'PUT',
        url: await this.url(`${repo}/manifests/${reference}`),
        headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
        body: bytes,
        signal,
      },
      [pushScope(repo)],
    );
    await expectStatus(res, 201);
    return sha256(bytes);
  }

  /** Every tag of a repository (following `Link` pagination). */
  async listTags(repo: string, signal?: AbortSignal): Promise<string[]> {
    const tags: string[] = [];
    let url: URL | undefined = await this.url(`${repo}/tags/list`);
    while (url) {
      const res = await this.request({ method: 'GET', url, signal }, [pullScope(repo)]);
      if (res.status !== 200) throw await errorOf(res);
      const page = JSON.parse((await readBody(res)).toString('utf8')) as { tags?: string[] | null };
      tags.push(...(page.tags ?? []));
      const link = /<([^>]+)>;\s*rel="?next"?/.exec(String(res.headers.link ?? ''));
      url = link ? new URL(link[1] as string, this.base) : undefined;
    }
    return tags;
  }

  /** Sends a request with the authorization for `scopes` (a token fetched or renewed first when needed). */
  async request(req: HttpRequest, scopes: readonly string[]): Promise<HttpResponse> {
    await this.ping(req.signal);
    let auth: Record<string, string>;
    try {
      auth = await this.authFor(scopes, req.signal);
    } catch (err) {
      // Docker's wording names the registry request, not the token server's URL.
      if (!(err instanceof TokenRefusedError)) throw err;
      const op = req.method.charAt(0) + req.method.slice(1).toLowerCase(); // Go's url.Error: "Get", "Head"
      throw new GantryError(err.code, `${op} "${req.url.href}": ${err.message}`, { cause: err });
    }
    return this.options.transport.send({ ...req, headers: { ...req.headers, ...auth } });
  }

  /** The URL of `path` under `/v2/`, once the ping has settled the scheme. */
  private async url(path: string): Promise<URL> {
    await this.ping();
    return new URL(`/v2/${path}`, this.base);
  }

  private location(res: HttpResponse): URL {
    const loc = res.headers.location;
    if (!loc) throw errors.invalid(`the registry at ${this.options.endpoint} started an upload without a Location`);
    return new URL(loc, res.url);
  }

  private async cancelUpload(repo: string, res: HttpResponse, signal?: AbortSignal): Promise<void> {
    try {
      const del = await this.request({ method: 'DELETE', url: this.location(res), signal }, [pushScope(repo)]);
      del.body.resume();
    } catch {
      // An abandoned upload expires on the registry by itself.
    }
  }

  private authHeader(): Record<string, string> {
    return this.options.credentials ? { authorization: basicAuth(this.options.credentials) } : {};
  }

  private async authFor(scopes: readonly string[], signal?: AbortSignal): Promise<Record<string, string>> {
    if (!this.challenge) return {};
    if (this.challenge.scheme === 'basic') return this.authHeader();
    if (this.challenge.scheme === 'bearer' && this.tokens) {
      return { authorization: `Bearer ${await this.tokens.token(scopes, signal)}` };
    }
    return {};
  }

  private async doPing(signal?: AbortSignal): Promise<void> {
    const { endpoint, insecure, transport } = this.options;
    const { res, scheme } = await transport.sendDiscovering(endpoint, insecure, '/v2/', { method: 'GET', signal });
    res.body.resume();
    if (res.status !== 200 && res.status !== 401) {
      throw new GantryError('UNAVAILABLE', `Get "${res.url.href}": the registry answered ${res.status} ${statusText(res.status)}`, {
        hint: 'is this an OCI Distribution (v2) registry?',
      });
    }
    this.base = new URL(`${scheme}//${endpoint}/`);
    if (res.status === 401) {
      const challenges = parseChallenges(headerString(res.headers['www-authenticate']));
      this.challenge = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
      if (this.challenge?.scheme === 'bearer') {
        this.tokens = new TokenSource(transport, this.challenge, this.options.credentials);
      }
    }
  }
}

// Blobs up to this size go in one PUT; larger ones in a streamed PATCH (chunked upload).
const MONOLITHIC_MAX = 16 << 20;

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Discards the body of an answer with the `expected` status; any other answer is thrown as its error (body read first). */
async function expectStatus(res: HttpResponse, expected: number): Promise<void> {
  if (res.status !== expected) throw await errorOf(res);
  res.body.resume();
}

/** A registry error answer as one Docker-worded error ("manifest unknown: manifest unknown"). */
export async function errorOf(res: HttpResponse): Promise<RegistryError> {
  let details: RegistryErrorDetail[] = [];
  if (res.body.readable && !res.body.readableEnded) {
    try {
      const body = JSON.parse((await readBody(res, 1 << 20)).toString('utf8')) as { errors?: RegistryErrorDetail[] };
      details = (body.errors ?? []).filter((e) => typeof e?.code === 'string');
    } catch {
      // Not a distribution error body (a proxy's page, or empty): fall back to the status.
    }
  }
  // NOTE: a 401 without an error body (the answer to a HEAD has none) reads as Docker reads
  // it: distribution's UNAUTHORIZED error, "authentication required".
  const text =
    details.length > 0
      ? details.map((d) => `${d.code.toLowerCase().replace(/_/g, ' ')}: ${d.message || d.code.toLowerCase()}`).join('; ')
      : res.status === 401
        ? 'unauthorized: authentication required'
        : `${res.status} ${statusText(res.status)}`;
  return new RegistryError(res.status, details, text);
}

function codeOfStatus(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 400) return 'INVALID_ARGUMENT';
  return 'UNAVAILABLE';
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
  };
  return texts[status] ?? '';
}

function mediaTypeOf(bytes: Buffer): string {
  try {
    const m = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown };
    if (m.mediaType) return m.mediaType;
    return m.manifests ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json';
  } catch {
    return '';
  }
}
