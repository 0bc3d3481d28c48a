/**
 * The hub's JSON API (docs/dev/hub-api.md) as typed calls. Every state-changing request carries
 * the session's CSRF token (`X-CSRF-Token`); errors become {@link ApiError} with the API's code.
 */

/** A failed API call: the HTTP status and the API's `{code, message}`. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface Session { username: string | null; csrfToken: string | null; accounts: boolean }
export interface SearchResult { namespace: string; name: string; description: string; star_count: number; pull_count: number; last_pushed: string | null; is_private: boolean; is_official: boolean }
export interface SearchPage { count: number; page: number; page_size: number; results: SearchResult[] }
export interface RepoSummary { namespace: string; name: string; description: string; is_private: boolean; star_count: number; pull_count: number; last_pushed: string | null }
export interface Repository extends RepoSummary { full_description: string; starred: boolean; can_edit: boolean; pull_command?: string }
export interface Tag { name: string; digest: string; media_type: string; platforms: string[]; size: number; pushed_at: string | null }
export interface Layers { digest: string; platform: string; layers: { digest: string; size: number; media_type: string }[]; history: { created?: string; created_by?: string; empty_layer?: boolean; size: number | null }[] }
export interface Org { name: string; role: string }
export interface Member { username: string; role: 'owner' | 'member'; pull_only?: boolean }
export interface Webhook { id: string | number; name: string; url: string; created_at: string }
export interface Delivery { id: string | number; event: string; status: 'pending' | 'delivered' | 'failed'; attempts: number; response_status: number | null; last_error: string | null; created_at: string; delivered_at: string | null }
export interface BuildRule { source_type: 'branch' | 'tag'; source: string; target_tag: string; dockerfile: string; context: string }
export interface BuildSettings { provider: 'github' | 'bitbucket'; clone_url: string; secret?: string; has_secret?: boolean; rules: BuildRule[] }
export interface Build { id: string | number; status: 'queued' | 'running' | 'success' | 'failed' | 'canceled'; trigger: string; source_ref: string; commit: string | null; tag: string; created_at: string; started_at: string | null; finished_at: string | null; duration_ms: number | null; digest: string | null; log?: string }

let csrfToken: string | null = null;

/** Remembers the session's CSRF token (from GET/POST /api/session) for later writes. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** One API call; resolves the JSON answer (undefined for 204). */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: reported below */
  }
  if (!res.ok) {
    const e = (data ?? {}) as { code?: string; message?: string };
    throw new ApiError(res.status, e.code ?? 'ERROR', e.message ?? `${res.status} ${res.statusText}`);
  }
  return data as T;
}

/** `/api/repositories/:ns/:name` plus a suffix, each part encoded. */
export function repoPath(ns: string, name: string, suffix = ''): string {
  return `/api/repositories/${encodeURIComponent(ns)}/${encodeURIComponent(name)}${suffix}`;
}
