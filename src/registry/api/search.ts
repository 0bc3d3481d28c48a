/**
 * The hub's three searches, one query underneath (HubDataStore.search: name match first —
 * exact, prefix, substring of the name, then of the description — then stars, then pulls):
 * - `GET /api/search?q=&page=&page_size=&is_official=&stars=` for the web UI;
 * - `GET /v2/search/repositories?query=&page=&page_size=`, Docker Hub's v2 shape;
 * - `GET /v1/search?q=&n=&page=`, the classic API that `docker search` and `gantry search` use.
 *
 * Private repositories appear only to callers who may pull them. Official means a top-level
 * repository or one under `library/` (what Docker Hub calls official images).
 */
import type { RepositoryRow } from '../storage/hub-data-store.js';
import { invalid } from './api-error.js';
import { type ApiContext, json, time } from './context.js';
import { isPrivate, splitName } from './repositories.js';

/** Most rows one search considers. */
const MAX_ROWS = 1000;

const isOfficial = (name: string) => !name.includes('/') || name.startsWith('library/');

function intParam(x: ApiContext, key: string, fallback: number, max: number): number {
  const v = x.url.searchParams.get(key);
  if (v === null || v === '') return fallback;
  if (!/^\d{1,9}$/.test(v) || Number(v) < 1) throw invalid(`${key} must be a positive integer`);
  return Math.min(Number(v), max);
}

/** Matching repositories the caller may see, best first. */
function find(x: ApiContext, query: string): RepositoryRow[] {
  return x.data.search(query, MAX_ROWS).filter((r) => x.rights(r.name).has('pull'));
}

/** GET /api/search. */
export async function apiSearch(x: ApiContext): Promise<void> {
  const q = x.url.searchParams.get('q') ?? '';
  const page = intParam(x, 'page', 1, 1_000_000);
  const pageSize = intParam(x, 'page_size', 25, 100);
  const official = x.url.searchParams.get('is_official');
  const minStars = x.url.searchParams.get('stars') ? intParam(x, 'stars', 0, 1e9) : 0;
  let rows = find(x, q);
  if (official === 'true' || official === 'false') rows = rows.filter((r) => isOfficial(r.name) === (official === 'true'));
  if (minStars > 0) rows = rows.filter((r) => r.starCount >= minStars);
  const results = rows.slice((page - 1) * pageSize, page * pageSize).map((r) => ({
    ...splitName(r.name),
    description: r.description,
    star_count: r.starCount,
    pull_count: r.pullCount,
    last_pushed: time(r.lastPushedMs),
    is_private: isPrivate(x, r.name),
    is_official: isOfficial(r.name),
  }));
  json(x.res, 200, { count: rows.length, page, page_size: pageSize, results });
}

/** GET /v2/search/repositories. */
export async function v2Search(x: ApiContext): Promise<void> {
  const q = x.url.searchParams.get('query') ?? x.url.searchParams.get('q') ?? '';
  const page = intParam(x, 'page', 1, 1_000_000);
  const pageSize = intParam(x, 'page_size', 25, 100);
  const rows = find(x, q);
  const link = (p: number) => {
    const params = new URLSearchParams({ query: q, page: String(p), page_size: String(pageSize) });
    return `/v2/search/repositories?${params.toString()}`;
  };
  json(x.res, 200, {
    count: rows.length,
    next: page * pageSize < rows.length ? link(page + 1) : null,
    previous: page > 1 ? link(page - 1) : null,
    results: rows.slice((page - 1) * pageSize, page * pageSize).map((r) => ({
      repo_name: r.name,
      short_description: r.description,
      star_count: r.starCount,
      pull_count: r.pullCount,
      is_official: isOfficial(r.name),
      is_automated: x.data.buildSettings(r.name) !== undefined,
    })),
  });
}

/** GET /v1/search. */
export async function v1Search(x: ApiContext): Promise<void> {
  const q = x.url.searchParams.get('q') ?? '';
  const n = intParam(x, 'n', 25, 100);
  const page = intParam(x, 'page', 1, 1_000_000);
  const rows = find(x, q);
  json(x.res, 200, {
    num_results: rows.length,
    query: q,
    page,
    page_size: n,
    num_pages: Math.max(1, Math.ceil(rows.length / n)),
    results: rows.slice((page - 1) * n, page * n).map((r) => ({
      name: r.name,
      description: r.description,
      star_count: r.starCount,
      is_official: isOfficial(r.name),
      is_automated: x.data.buildSettings(r.name) !== undefined,
    })),
  });
}
