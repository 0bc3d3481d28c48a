/**
 * Registry authentication as the distribution spec's token flow and Docker define it: the
 * registry answers `/v2/` with 401 and a `WWW-Authenticate` challenge; a Basic challenge takes
 * the stored username and password on every request, a Bearer challenge sends the client to
 * the token server named by `realm` for a token valid for one `scope` ("repository:a/b:pull").
 * https://distribution.github.io/distribution/spec/auth/token/
 */
import { errors, GantryError } from '../core/errors.js';
import type { Credentials } from './credentials.js';
import { readBody, type Transport } from './transport.js';

/** One parsed challenge of a WWW-Authenticate header. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="...",service="...",scope="..."` (one or more challenges, quoted or bare values). */
export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  const challenge = /([A-Za-z][\w-]*)(?:\s+|$)((?:[\w-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^\s,]*)\s*(?:,\s*|$))*)/g;
  const param = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (const m of header.matchAll(challenge)) {
    const params: Record<string, string> = {};
    for (const p of (m[2] ?? '').matchAll(param)) {
      params[(p[1] as string).toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
    }
    out.push({ scheme: (m[1] as string).toLowerCase(), params });
  }
  return out;
}

/** The Authorization header value for Basic credentials. */
export function basicAuth(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

/**
 * The token server refused the credentials (401) or the request (403). The message is the
 * reason as Docker words it ("unauthorized: incorrect username or password"); the registry
 * client prefixes the registry request the token was for, as Docker does
 * (`Get "https://host/v2/": unauthorized: ...`), since that is what the user asked for.
 */
export class TokenRefusedError extends GantryError {}

interface CachedToken {
  token: string;
  expires: number;
}

/** Gets and caches bearer tokens for one registry. */
export class TokenSource {
  private readonly cache = new Map<string, CachedToken>();

  constructor(
    private readonly transport: Transport,
    private readonly challenge: Challenge,
    private readonly credentials: Credentials | undefined,
  ) {}

  /** A token for `scopes` (space-joined in the cache key), fetched when missing or expired. */
  async token(scopes: readonly string[], signal?: AbortSignal): Promise<string> {
    const key = scopes.join(' ');
    const hit = this.cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.token;
    const realm = this.challenge.params.realm;
    if (!realm) throw errors.invalid('the registry sent a Bearer challenge without a realm');
    const url = new URL(realm);
    if (this.challenge.params.service) url.searchParams.set('service', this.challenge.params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    if (this.credentials?.username) url.searchParams.set('account', this.credentials.username);
    const headers: Record<string, string> = {};
    if (this.credentials) headers.authorization = basicAuth(this.credentials);
    const res = await this.transport.send({ method: 'GET', url, headers, signal });
    const body = await readBody(res, 1 << 20);
    if (res.status === 401 || res.status === 403) {
      throw new TokenRefusedError(res.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', `unauthorized: ${refusalReason(body) ?? 'authentication required'}`);
    }
    if (res.status !== 200) {
      throw new GantryError('UNAVAILABLE', `token server ${url.origin}${url.pathname} answered ${res.status}`);
    }
    let parsed: { token?: string; access_token?: string; expires_in?: number };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch (err) {
      throw errors.invalid(`token server ${url.origin}${url.pathname} sent a response that is not JSON`, { cause: err });
    }
    const token = parsed.access_token || parsed.token;
    if (!token) throw errors.invalid(`token server ${url.origin}${url.pathname} sent no token`);
    // Tokens live at least 60 s by the spec; renew 10 s early.
    const ttl = Math.max(parsed.expires_in ?? 60, 60);
    this.cache.set(key, { token, expires: Date.now() + (ttl - 10) * 1000 });
    return token;
  }
}

/**
 * The reason in a token server's error body: `{"details": "..."}` (Docker Hub, docker_auth) or
 * a distribution error body `{"errors": [{"message": "..."}]}`.
 */
function refusalReason(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { details?: unknown; errors?: { message?: unknown }[] };
    const reason = parsed.details ?? parsed.errors?.[0]?.message;
    return typeof reason === 'string' && reason !== '' ? reason : undefined;
  } catch {
    return undefined;
  }
}
