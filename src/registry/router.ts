/**
 * The hub's URL space under /v2/: which route a path names, the repository name in it
 * (checked against the spec's grammar first), and what access the request needs — so that
 * the authorizer is asked before any handler runs.
 * https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#endpoints
 */
import type { AccessNeed, RepositoryAction } from './access.js';
import { HubError } from './errors.js';
import { checkRepositoryName } from './names.js';

/** The resources of the API. */
export type RouteKind = 'base' | 'catalog' | 'tags' | 'manifest' | 'blob' | 'uploads' | 'upload' | 'referrers';

/** A matched path. */
export interface RouteMatch {
  kind: RouteKind;
  /** The repository name ('' for base and catalog). */
  name: string;
  /** The reference, digest or upload ID after the noun ('' when none). */
  param: string;
}

// NOTE: the name is greedy, so that a repository may have a component called `blobs` or
// `manifests` (`/v2/a/blobs/blobs/x` is blob x of repository a/blobs).
const NAMED = /^\/v2\/(.+)\/(manifests|blobs|tags|referrers)\/(.*)$/;

/** Matches a /v2/ path (raw, as sent: nothing is decoded); undefined for unknown paths. NAME_INVALID for a bad name. */
export function matchRoute(pathname: string): RouteMatch | undefined {
  if (pathname === '/v2/' || pathname === '/v2') return { kind: 'base', name: '', param: '' };
  if (pathname === '/v2/_catalog') return { kind: 'catalog', name: '', param: '' };
  const m = NAMED.exec(pathname);
  if (!m) return undefined;
  const [, rawName, noun, rest] = m as unknown as [string, string, string, string];
  let kind: RouteKind;
  let param = rest;
  if (noun === 'tags') {
    if (rest !== 'list') return undefined;
    kind = 'tags';
  } else if (noun === 'blobs' && (rest === 'uploads' || rest === 'uploads/')) {
    kind = 'uploads';
    param = '';
  } else if (noun === 'blobs' && rest.startsWith('uploads/')) {
    kind = 'upload';
    param = rest.slice('uploads/'.length);
  } else {
    kind = noun === 'manifests' ? 'manifest' : noun === 'blobs' ? 'blob' : 'referrers';
  }
  if (kind !== 'tags' && kind !== 'uploads' && (param === '' || param.includes('/'))) return undefined;
  return { kind, name: checkRepositoryName(rawName), param };
}

/** The methods each route answers. */
export const METHODS: Record<RouteKind, readonly string[]> = {
  base: ['GET', 'HEAD'],
  catalog: ['GET', 'HEAD'],
  tags: ['GET', 'HEAD'],
  referrers: ['GET', 'HEAD'],
  manifest: ['GET', 'HEAD', 'PUT', 'DELETE'],
  blob: ['GET', 'HEAD', 'DELETE'],
  uploads: ['POST'],
  upload: ['GET', 'PATCH', 'PUT', 'DELETE'],
};

/** What a request on `route` with `method` needs from the authorizer. */
export function accessNeeds(route: RouteMatch, method: string): AccessNeed[] {
  if (route.kind === 'base') return [{ type: 'base' }];
  if (route.kind === 'catalog') return [{ type: 'catalog' }];
  let actions: RepositoryAction[];
  if (route.kind === 'uploads' || route.kind === 'upload') actions = ['pull', 'push'];
  else if (method === 'DELETE') actions = ['delete'];
  else if (method === 'PUT') actions = ['pull', 'push'];
  else actions = ['pull'];
  return [{ type: 'repository', name: route.name, actions }];
}

/** UNSUPPORTED (405) for a method the route does not answer. */
export function checkMethod(route: RouteMatch, method: string): void {
  const allowed = METHODS[route.kind];
  if (!allowed.includes(method)) {
    throw new HubError('UNSUPPORTED', `the operation is unsupported: ${method} on this endpoint`, { headers: { Allow: allowed.join(', ') } });
  }
}
