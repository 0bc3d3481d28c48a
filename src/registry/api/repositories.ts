/**
 * `/api/repositories`: listing, creating, reading, editing and deleting repositories, stars,
 * tags (with digest, platforms, size, push time) and the layers of a tag.
 *
 * Addressing: `:ns/:name`; a top-level repository (`busybox`, pushable by admins or on a hub
 * without accounts) is `_/busybox`, as on Docker Hub's pages. Rights: reading needs pull (a
 * private repository is a 404 to those who may not pull it, as in the registry API); editing
 * (descriptions, visibility, webhooks, build settings, builds) and deleting need delete — the
 * owner's right: the user's own namespace, an organisation's owners, admins, or loopback on a
 * hub without accounts. Creating needs push in the namespace.
 */
import { checkRepositoryName } from '../names.js';
import { namespaceOf } from '../auth/names.js';
import type { RepositoryRow } from '../storage/hub-data-store.js';
import { ApiError, denied, invalid, notFound } from './api-error.js';
import { type ApiContext, json, noContent, optBool, optString, readJson, time } from './context.js';
import { layersOf, summarize } from './image-info.js';

/** Longest short description. */
export const MAX_DESCRIPTION = 1000;
/** Longest full description (Markdown). */
export const MAX_FULL_DESCRIPTION = 100_000;

/** The repository name of `:ns/:name` (`_` is no namespace); INVALID for a bad name. */
export function repositoryName(ns: string, name: string): string {
  const full = ns === '_' ? name : `${ns}/${name}`;
  try {
    checkRepositoryName(full);
  } catch {
    throw invalid(`invalid repository name: ${full.slice(0, 300)}`);
  }
  return full;
}

/** `{namespace, name}` of a repository name. */
export function splitName(full: string): { namespace: string; name: string } {
  const slash = full.indexOf('/');
  return slash < 0 ? { namespace: '_', name: full } : { namespace: full.slice(0, slash), name: full.slice(slash + 1) };
}

/** The repository as listed. */
export function summaryOf(x: ApiContext, r: RepositoryRow): Record<string, unknown> {
  return {
    ...splitName(r.name),
    description: r.description,
    is_private: isPrivate(x, r.name),
    star_count: r.starCount,
    pull_count: r.pullCount,
    last_pushed: time(r.lastPushedMs),
  };
}

/** True for a private repository (only with accounts: the account store owns visibility). */
export function isPrivate(x: Pick<ApiContext, 'accounts'>, name: string): boolean {
  return x.accounts ? x.accounts.visibility(name) === 'private' : false;
}

/** The repository `full` if the caller may pull it; NOT_FOUND otherwise (never says it exists). */
export function visibleRepository(x: ApiContext, full: string): RepositoryRow {
  const row = x.data.repository(full);
  if (!row || !x.rights(full).has('pull')) throw notFound(`repository ${full} not found`);
  return row;
}

/** The repository `full`, which the caller must be able to edit. */
export function editableRepository(x: ApiContext, full: string): RepositoryRow {
  const row = visibleRepository(x, full);
  if (!x.rights(full).has('delete')) throw denied(`you may not change ${full}`);
  return row;
}

/** Who stars: the account, or on a hub without accounts the client's address. */
function starrer(x: ApiContext): string {
  if (x.caller.account) return x.caller.account;
  if (x.accounts) throw new ApiError('UNAUTHORIZED', 'sign in to star repositories');
  return `@${x.caller.address}`;
}

/** GET /api/repositories?namespace=NS. */
export async function listRepositories(x: ApiContext): Promise<void> {
  const ns = x.url.searchParams.get('namespace') ?? '';
  let rows: RepositoryRow[];
  if (ns === 'me') {
    if (!x.caller.account || !x.accounts) {
      rows = x.accounts ? [] : x.data.repositories();
    } else {
      const mine = [x.caller.account, ...x.accounts.organizations().filter((o) => o.members.some((m) => m.user === x.caller.account)).map((o) => o.name)];
      rows = mine.flatMap((n) => x.data.repositories(`${n}/`));
    }
  } else if (ns === '_') rows = x.data.repositories().filter((r) => !r.name.includes('/'));
  else rows = ns === '' ? x.data.repositories() : x.data.repositories(`${ns}/`);
  json(
    x.res,
    200,
    rows.filter((r) => x.rights(r.name).has('pull')).slice(0, 1000).map((r) => summaryOf(x, r)),
  );
}

/** POST /api/repositories. */
export async function createRepository(x: ApiContext): Promise<void> {
  const body = await readJson(x.req);
  const namespace = optString(body, 'namespace', 255) ?? '';
  const name = optString(body, 'name', 255) ?? '';
  const full = repositoryName(namespace || '_', name);
  const description = optString(body, 'description', MAX_DESCRIPTION) ?? '';
  const priv = optBool(body, 'is_private');
  if (!x.rights(full).has('push')) throw denied(`you may not create repositories in ${namespace || 'the top level'}`);
  if (priv && !x.accounts) throw invalid('private repositories need accounts (an auth section in the hub configuration)');
  if (!x.data.createRepository(full, description)) throw new ApiError('CONFLICT', `repository ${full} already exists`);
  if (x.accounts && priv !== undefined) x.accounts.setVisibility(full, priv ? 'private' : 'public');
  json(x.res, 201, summaryOf(x, x.data.repository(full) as RepositoryRow));
}

/** GET /api/repositories/:ns/:name. */
export async function getRepository(x: ApiContext, full: string): Promise<void> {
  const r = visibleRepository(x, full);
  json(x.res, 200, detailOf(x, r));
}

function detailOf(x: ApiContext, r: RepositoryRow): Record<string, unknown> {
  const host = /^[A-Za-z0-9.:[\]-]{1,300}$/.test(x.req.headers.host ?? '') ? (x.req.headers.host as string) : 'localhost';
  let starred = false;
  try {
    starred = x.data.isStarred(r.name, starrer(x));
  } catch {
    // anonymous with accounts: nothing starred
  }
  return {
    ...summaryOf(x, r),
    full_description: r.fullDescription,
    starred,
    can_edit: x.rights(r.name).has('delete'),
    pull_command: `gantry pull ${host}/${r.name}`,
  };
}

/** PATCH /api/repositories/:ns/:name. */
export async function patchRepository(x: ApiContext, full: string): Promise<void> {
  editableRepository(x, full);
  const body = await readJson(x.req);
  const description = optString(body, 'description', MAX_DESCRIPTION);
  const fullDescription = optString(body, 'full_description', MAX_FULL_DESCRIPTION);
  const priv = optBool(body, 'is_private');
  if (priv && !x.accounts) throw invalid('private repositories need accounts (an auth section in the hub configuration)');
  x.data.updateInfo(full, { description, fullDescription });
  if (x.accounts && priv !== undefined) x.accounts.setVisibility(full, priv ? 'private' : 'public');
  json(x.res, 200, detailOf(x, x.data.repository(full) as RepositoryRow));
}

/** DELETE /api/repositories/:ns/:name. */
export async function deleteRepository(x: ApiContext, full: string): Promise<void> {
  editableRepository(x, full);
  if (!x.registry.options.deleteEnabled) throw invalid('deletes are disabled on this hub');
  x.data.deleteRepository(full);
  noContent(x.res);
}

/** PUT / DELETE /api/repositories/:ns/:name/star. */
export async function star(x: ApiContext, full: string): Promise<void> {
  visibleRepository(x, full);
  const who = starrer(x);
  const count = x.data.setStar(full, who, x.req.method === 'PUT');
  json(x.res, 200, { star_count: count, starred: x.req.method === 'PUT' });
}

/** GET /api/repositories/:ns/:name/tags. */
export async function listTags(x: ApiContext, full: string): Promise<void> {
  visibleRepository(x, full);
  const out = [];
  for (const t of x.data.tags(full).slice(0, 500)) {
    const record = await x.registry.metadata.manifest(full, t.digest as never);
    const summary = await summarize(x.registry, t.digest);
    out.push({ name: t.tag, digest: t.digest, media_type: record?.mediaType ?? '', platforms: summary.platforms, size: summary.size, pushed_at: time(t.updatedMs) });
  }
  json(x.res, 200, out);
}

/** DELETE /api/repositories/:ns/:name/tags/:tag. */
export async function deleteTag(x: ApiContext, full: string, tag: string): Promise<void> {
  visibleRepository(x, full);
  if (!x.rights(full).has('delete')) throw denied(`you may not delete tags of ${full}`);
  await x.registry.deleteManifest(full, { tag }).catch((err: unknown) => {
    throw (err as { ociCode?: string }).ociCode === 'MANIFEST_UNKNOWN' ? notFound(`tag ${tag} not found`) : err;
  });
  noContent(x.res);
}

/** GET /api/repositories/:ns/:name/tags/:tag/layers?platform=. */
export async function tagLayers(x: ApiContext, full: string, tag: string): Promise<void> {
  visibleRepository(x, full);
  const digest = await x.registry.metadata.resolveTag(full, tag);
  if (!digest) throw notFound(`tag ${tag} not found`);
  json(x.res, 200, await layersOf(x.registry, digest, x.url.searchParams.get('platform') || undefined));
}

/** The owner of a repository's namespace (for webhook payloads): the namespace, or `library`. */
export function ownerOf(full: string): string {
  return namespaceOf(full) ?? 'library';
}
