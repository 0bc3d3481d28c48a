/**
 * The pull-through cache (`proxy.remoteurl`): a hub that serves pulls of another registry,
 * fetching what it lacks on the first pull and keeping it, as distribution's proxy mode and
 * Harbor's proxy cache do. Pushes are refused (UNSUPPORTED, see Registry.checkWritable).
 *
 * Manifests by tag are asked upstream every time (a tag moves), by digest only when missing;
 * what upstream serves is verified against its digest before it is stored. A blob is
 * streamed to the client while it is written to the store, whose digest check decides
 * whether it is kept. Upstream authentication: Basic, or Docker's bearer tokens fetched with
 * the configured credentials (or anonymously), one per repository, reused until they expire.
 */
import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { type Digest, Digester } from '../core/digest.js';
import { MediaType } from '../core/media-types.js';
import { HubError } from './errors.js';
import type { ManifestReference } from './names.js';
import type { ContentSource, Registry, ServedManifest } from './registry.js';
import type { BlobStat } from './storage/blob-store.js';

const MANIFEST_ACCEPT = [MediaType.OciIndex, MediaType.DockerManifestList, MediaType.OciManifest, MediaType.DockerManifest].join(', ');
const TIMEOUT_MS = 30_000;

/** The `proxy` section, resolved. */
export interface UpstreamConfig {
  remoteUrl: string;
  username?: string;
  password?: string;
}

interface CachedToken {
  header: string;
  expiresMs: number;
}

/** The cache; `Registry.upstream` when configured. */
export class PullThroughCache implements ContentSource {
  private readonly tokens = new Map<string, CachedToken>();

  constructor(
    private readonly registry: Registry,
    private readonly upstream: UpstreamConfig,
  ) {}

  async manifest(repository: string, ref: ManifestReference): Promise<ServedManifest | undefined> {
    const reference = ref.tag ?? ref.digest;
    const res = await this.request(repository, `/manifests/${reference}`, { headers: { Accept: MANIFEST_ACCEPT } });
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    await this.check(res, 'manifest');
    const bytes = Buffer.from(await res.arrayBuffer());
    const claimed = res.headers.get('docker-content-digest') ?? ref.digest;
    const d = new Digester(claimed?.startsWith('sha512:') ? 'sha512' : 'sha256');
    d.update(bytes);
    if (claimed && d.digest() !== claimed) {
      throw new HubError('DIGEST_INVALID', 'the upstream registry served a manifest that does not match its digest', { status: 502, detail: { expected: claimed, actual: d.digest() } });
    }
    const contentType = res.headers.get('content-type') ?? undefined;
    const record = await this.registry.putManifest(repository, ref, bytes, contentType, { trusted: true });
    return { record, bytes };
  }

  async blobStat(repository: string, digest: Digest): Promise<BlobStat | undefined> {
    const res = await this.request(repository, `/blobs/${digest}`, { method: 'HEAD' });
    if (res.status === 404) return undefined;
    await this.check(res, 'blob');
    const length = res.headers.get('content-length');
    if (length === null || !/^\d+$/.test(length)) return undefined;
    const size = Number(length);
    // Known upstream and already here (pulled through another repository): link it.
    if (await this.registry.blobs.stat(digest)) await this.registry.metadata.linkBlob(repository, digest);
    return { digest, size };
  }

  async blob(repository: string, digest: Digest): Promise<{ stat: BlobStat; stream: Readable } | undefined> {
    if (await this.registry.blobs.stat(digest)) {
      // The bytes are here; serve them once upstream confirms this repository has them.
      const stat = await this.blobStat(repository, digest);
      if (!stat) return undefined;
      return { stat, stream: await this.registry.blobs.read(digest) };
    }
    const res = await this.request(repository, `/blobs/${digest}`, {});
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    await this.check(res, 'blob');
    if (!res.body) throw new HubError('BLOB_UNKNOWN', 'the upstream registry sent no body', { status: 502 });
    const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    const length = res.headers.get('content-length');
    if (length === null || !/^\d+$/.test(length)) {
      // No length to announce to the client: store it whole first, then serve the stored blob.
      const stat = await this.registry.writeBlob(repository, digest, body, undefined, { trusted: true });
      return { stat, stream: await this.registry.blobs.read(digest) };
    }
    const size = Number(length);
    const toClient = new PassThrough();
    const toStore = new PassThrough();
    // NOTE: one source, two readers: the client and the store each get every chunk, at the
    // pace of the slower one. A client that goes away leaves the store to finish the blob.
    body.pipe(toClient);
    body.pipe(toStore);
    body.on('error', (err) => {
      toClient.destroy(err);
      toStore.destroy(err);
    });
    toClient.on('close', () => body.unpipe(toClient));
    this.registry
      .writeBlob(repository, digest, toStore, size, { trusted: true })
      .catch(() => body.unpipe(toStore));
    return { stat: { digest, size }, stream: toClient };
  }

  /** A request to upstream for `repository`, authenticated (retried once after a 401 challenge). */
  private async request(repository: string, path: string, init: RequestInit): Promise<Response> {
    const url = `${this.upstream.remoteUrl}/v2/${repository}${path}`;
    const send = async (authorization?: string) => {
      const headers = new Headers(init.headers);
      if (authorization) headers.set('Authorization', authorization);
      try {
        return await fetch(url, { ...init, headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
      } catch (err) {
        throw new HubError('UNSUPPORTED', `the upstream registry ${this.upstream.remoteUrl} cannot be reached`, { status: 502, detail: { reason: String((err as Error).cause ?? err) }, cause: err });
      }
    };
    const cached = this.tokens.get(repository);
    let res = await send(cached && cached.expiresMs > Date.now() ? cached.header : this.basic());
    if (res.status === 401) {
      const challenge = res.headers.get('www-authenticate') ?? '';
      await res.body?.cancel();
      const header = await this.authorize(repository, challenge);
      if (header) res = await send(header);
    }
    return res;
  }

  private basic(): string | undefined {
    const { username, password } = this.upstream;
    return username !== undefined ? `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` : undefined;
  }

  /** The Authorization header answering `challenge`: Basic credentials, or a bearer token from the realm. */
  private async authorize(repository: string, challenge: string): Promise<string | undefined> {
    if (/^basic\b/i.test(challenge)) return this.basic();
    if (!/^bearer\b/i.test(challenge)) return undefined;
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
    if (!params.realm) return undefined;
    const tokenUrl = new URL(params.realm);
    if (params.service) tokenUrl.searchParams.set('service', params.service);
    tokenUrl.searchParams.set('scope', `repository:${repository}:pull`);
    const headers: Record<string, string> = {};
    const basic = this.basic();
    if (basic) headers.Authorization = basic;
    const res = await fetch(tokenUrl, { headers, signal: AbortSignal.timeout(TIMEOUT_MS) }).catch(() => undefined);
    if (!res?.ok) {
      await res?.body?.cancel();
      return undefined;
    }
    const body = (await res.json()) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) return undefined;
    const header = `Bearer ${token}`;
    // Reused until shortly before it expires (default lifetime 60 s, as the token spec says).
    this.tokens.set(repository, { header, expiresMs: Date.now() + Math.max(0, (body.expires_in ?? 60) - 10) * 1000 });
    return header;
  }

  /** Maps an upstream failure to the answer a client of the cache gets. */
  private async check(res: Response, what: string): Promise<void> {
    if (res.ok) return;
    await res.body?.cancel();
    if (res.status === 401 || res.status === 403) {
      throw new HubError('DENIED', `the upstream registry refused access to the ${what}`, { status: 403, detail: { upstreamStatus: res.status } });
    }
    if (res.status === 429) throw new HubError('TOOMANYREQUESTS', 'the upstream registry is rate limiting the cache', { headers: { 'Retry-After': res.headers.get('retry-after') ?? '10' } });
    throw new HubError('UNSUPPORTED', `the upstream registry answered ${res.status} for the ${what}`, { status: 502, detail: { upstreamStatus: res.status } });
  }
}
