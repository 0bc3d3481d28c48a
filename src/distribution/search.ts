/**
 * `search`: repositories matching a term, from a registry's V1 search API
 * (`GET /v1/search?q=TERM&n=LIMIT` answering `{num_results, query, results: [{name,
 * description, star_count, is_official, is_automated}]}`). Docker Hub serves it at
 * index.docker.io, gantry's hub will serve it; a plain OCI Distribution registry does not.
 *
 * The semantics are those of Docker's daemon (moby registry/search.go), which the CLI only
 * formats: a term may start with a registry host (`localhost:5000/busybox` asks that host for
 * `busybox`), otherwise it goes to Docker Hub (without `library/`); the limit is 1..100, 0
 * meaning 25; the filters `stars`, `is-official` and `is-automated` are applied to what the
 * registry returned, so a filtered search may return fewer than `limit` results, as in Docker.
 *
 * It does not go through RegistryClient: that one pings `/v2/`, which a search endpoint
 * need not serve. The scheme rule is the same, and the same code: Transport.sendDiscovering
 * (HTTPS, and for loopback or configured-insecure hosts plain HTTP when TLS is not spoken).
 */
import { errors, GantryError } from '../core/errors.js';
import { basicAuth } from './auth.js';
import type { CredentialStore } from './credentials.js';
import type { Registries } from './registries.js';
import { type HttpResponse, readBody } from './transport.js';

/** The number of results asked for when no limit (or 0) is given, as in Docker. */
export const DEFAULT_SEARCH_LIMIT = 25;

const HUB_DOMAIN = 'docker.io';
/** Docker Hub's V1 index, which answers searches. */
const HUB_INDEX = 'index.docker.io';

/** One repository found (Docker's registry.SearchResult). */
export interface SearchResult {
  name: string;
  description: string;
  starCount: number;
  isOfficial: boolean;
  isAutomated: boolean;
}

/** One `--filter key=value` as the user gave it (key lower-cased and trimmed, value trimmed). */
export interface SearchFilterArg {
  key: string;
  value: string;
}

/** Validated filters: absent fields do not filter. */
export interface SearchFilters {
  /** At least this many stars (the largest of several `stars=` values). */
  minStars?: number;
  isOfficial?: boolean;
  isAutomated?: boolean;
}

/** Options of {@link searchRegistry}. */
export interface SearchOptions {
  /** 1..100; undefined or 0 means {@link DEFAULT_SEARCH_LIMIT}. */
  limit?: number;
  filters?: readonly SearchFilterArg[];
  signal?: AbortSignal;
}

/** Where a term is searched: the registry (as credentials know it), the host asked, the query. */
export interface SearchTarget {
  /** "docker.io" for Docker Hub, else the host[:port] of the term. */
  domain: string;
  /** The host[:port] the request goes to (index.docker.io for Docker Hub). */
  endpoint: string;
  /** The `q` parameter. */
  query: string;
}

/** What a search needs of {@link Registries}. */
export type SearchRegistries = Pick<Registries, 'transport' | 'isInsecure'> & { credentials: Pick<CredentialStore, 'get'> };

const FILTER_KEYS = new Set(['stars', 'is-official', 'is-automated']);

/**
 * Validates filters the way Docker's daemon does: unknown keys are `invalid filter 'key'`,
 * booleans take exactly `true`/`1` or `false`/`0` (conflicting values are invalid), `stars`
 * takes integers and keeps the largest.
 */
export function parseSearchFilters(args: readonly SearchFilterArg[]): SearchFilters {
  const byKey = new Map<string, string[]>();
  for (const { key, value } of args) {
    const values = byKey.get(key) ?? [];
    if (!values.includes(value)) values.push(value);
    byKey.set(key, values);
  }
  for (const key of byKey.keys()) {
    if (!FILTER_KEYS.has(key)) throw errors.invalid(`invalid filter '${key}'`);
  }
  const out: SearchFilters = {};
  const automated = boolFilter(byKey, 'is-automated');
  if (automated !== undefined) out.isAutomated = automated;
  const official = boolFilter(byKey, 'is-official');
  if (official !== undefined) out.isOfficial = official;
  const stars = byKey.get('stars');
  if (stars) {
    out.minStars = 0;
    for (const s of stars) {
      if (!/^[+-]?\d+$/.test(s)) {
        throw errors.invalid(`invalid filter 'stars=${s}': strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
      }
      out.minStars = Math.max(out.minStars, Number(s));
    }
  }
  return out;
}

// Docker's filters.Args.GetBoolOrDefault: only "true"/"1" and "false"/"0", and not both.
function boolFilter(byKey: Map<string, string[]>, key: string): boolean | undefined {
  const values = byKey.get(key);
  if (!values) return undefined;
  const isTrue = values.some((v) => v === 'true' || v === '1');
  const isFalse = values.some((v) => v === 'false' || v === '0');
  if (isTrue === isFalse) throw errors.invalid(`invalid filter '${key}=${values.join(',')}'`);
  return isTrue;
}

/** Keeps the results that pass every filter, in the registry's order. */
export function applySearchFilters(results: readonly SearchResult[], filters: SearchFilters): SearchResult[] {
  return results.filter(
    (r) =>
      (filters.isOfficial === undefined || r.isOfficial === filters.isOfficial) &&
      (filters.isAutomated === undefined || r.isAutomated === filters.isAutomated) &&
      (filters.minStars === undefined || r.starCount >= filters.minStars),
  );
}

/**
 * Splits a term into registry and query, as Docker does: the part before the first `/` is a
 * registry host when it contains `.` or `:` or is `localhost`; otherwise (or without a `/`)
 * the term is a Docker Hub query, whose `library/` prefix is dropped.
 */
export function parseSearchTerm(term: string): SearchTarget {
  if (/^https?:\/\//.test(term)) {
    throw errors.invalid(`invalid repository name: repository name (${term}) should not have a scheme`);
  }
  const slash = term.indexOf('/');
  const head = slash < 0 ? '' : term.slice(0, slash);
  const hasHost = slash >= 0 && (head.includes('.') || head.includes(':') || head === 'localhost');
  const domain = !hasHost || head === HUB_INDEX ? HUB_DOMAIN : head;
  let query = hasHost ? term.slice(slash + 1) : term;
  if (domain === HUB_DOMAIN) query = query.replace(/^library\//, '');
  return { domain, endpoint: domain === HUB_DOMAIN ? HUB_INDEX : domain, query };
}

/** Checks a limit (Docker: 0 means the default, otherwise 1..100) and returns the one to send. */
export function searchLimit(limit: number | undefined): number {
  const n = limit === undefined || limit === 0 ? DEFAULT_SEARCH_LIMIT : limit;
  if (!Number.isInteger(n) || n < 1 || n > 100) throw errors.invalid(`limit ${limit} is outside the range of [1, 100]`);
  return n;
}

/**
 * Decodes a V1 search answer. Missing fields are zero values (Go's decoder); a body that is
 * not a search answer is an error naming the registry.
 */
export function parseSearchResults(body: string, endpoint: string): SearchResult[] {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (err) {
    throw errors.unavailable(`error decoding registry search results from ${endpoint}: ${(err as Error).message}`, { cause: err });
  }
  const results = (raw as { results?: unknown } | null)?.results;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || (results !== undefined && results !== null && !Array.isArray(results))) {
    throw errors.unavailable(`error decoding registry search results from ${endpoint}: not a search answer`);
  }
  return ((results ?? []) as unknown[]).map((r) => {
    const o = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
    return {
      name: typeof o.name === 'string' ? o.name : '',
      description: typeof o.description === 'string' ? o.description : '',
      starCount: typeof o.star_count === 'number' && Number.isFinite(o.star_count) ? Math.trunc(o.star_count) : 0,
      isOfficial: o.is_official === true,
      isAutomated: o.is_automated === true,
    };
  });
}

/**
 * Searches the registry a term names. Filters and limit are checked before any request;
 * the stored credentials of the registry, if any, are sent as Basic authentication.
 */
export async function searchRegistry(registries: SearchRegistries, term: string, options: SearchOptions = {}): Promise<SearchResult[]> {
  const filters = parseSearchFilters(options.filters ?? []);
  const target = parseSearchTerm(term);
  const limit = searchLimit(options.limit);
  const headers: Record<string, string> = { accept: 'application/json', 'x-docker-token': 'true' };
  const creds = await registries.credentials.get(target.domain).catch(() => undefined);
  // NOTE: Docker's CLI also searches anonymously when the credentials cannot be read
  // (a failing helper); the registry then decides.
  if (creds) headers.authorization = basicAuth(creds);
  const res = await send(registries, target, limit, headers, options.signal);
  if (res.status !== 200) {
    res.body.resume();
    throw statusError(res.status, target.endpoint);
  }
  const body = (await readBody(res, 16 << 20)).toString('utf8');
  return applySearchFilters(parseSearchResults(body, target.endpoint), filters);
}

async function send(
  registries: SearchRegistries,
  target: SearchTarget,
  limit: number,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
): Promise<HttpResponse> {
  const query = new URLSearchParams({ q: target.query, n: String(limit) });
  const insecure = registries.isInsecure(target.endpoint);
  const { res } = await registries.transport.sendDiscovering(target.endpoint, insecure, `/v1/search?${query}`, { method: 'GET', headers, signal });
  return res;
}

// Docker's words are "Unexpected status code N"; the host is added so that the line says
// which registry refused.
function statusError(status: number, endpoint: string): GantryError {
  const what = `Unexpected status code ${status}`;
  if (status === 404) {
    return errors.notFound(`${endpoint} does not support search: ${what}`, {
      hint: 'the registry has no V1 search API (GET /v1/search); OCI Distribution registries such as registry:2 do not implement one',
    });
  }
  if (status === 401 || status === 403) {
    return new GantryError(status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', `search on ${endpoint} refused: ${what}`, {
      hint: `log in with \`gantry login${endpoint === HUB_INDEX ? '' : ` ${endpoint}`}\``,
    });
  }
  return errors.unavailable(`search on ${endpoint} failed: ${what}`);
}
