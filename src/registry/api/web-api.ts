/**
 * The hub's web API (docs/dev/hub-api.md): `/api/...`, plus the two search paths clients know
 * (`/v1/search`, `/v2/search/repositories`). `handle` routes one request — caller first
 * (session.ts), then the CSRF and origin check for anything that changes state, then the
 * resource's handler — and answers every failure as `{"message", "code"}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { drainBody } from '../routes/exchange.js';
import { ApiError, invalid, notFound, toApiError } from './api-error.js';
import { addMember, createOrg, listMembers, listOrgs, removeMember } from './orgs.js';
import { buildLog, buildSettingsRoute, buildsRoute, getBuild, inboundWebhook } from './builds.js';
import { type ApiContext, type ApiServices, json, rightsOf } from './context.js';
import {
  createRepository,
  deleteRepository,
  deleteTag,
  getRepository,
  listRepositories,
  listTags,
  patchRepository,
  repositoryName,
  star,
  tagLayers,
} from './repositories.js';
import { apiSearch, v1Search, v2Search } from './search.js';
import { checkCsrf, identify, sessionRoute } from './session.js';
import { deleteWebhook, deliveries, webhooksRoute } from './webhooks.js';

/** True for the paths the web API answers. */
export function isApiPath(pathname: string): boolean {
  return pathname === '/api' || pathname.startsWith('/api/') || pathname === '/v1/search' || pathname === '/v2/search/repositories';
}

type Route = [method: string, pattern: RegExp, run: (x: ApiContext, m: string[]) => Promise<void>];

const SEG = '([^/]+)';
const REPO = `/api/repositories/${SEG}/${SEG}`;
const repo = (m: string[]) => repositoryName(m[1] as string, m[2] as string);
const id = (s: string | undefined) => {
  if (!/^\d{1,15}$/.test(s ?? '')) throw notFound('not found');
  return Number(s);
};
const re = (s: string) => new RegExp(`^${s}$`);

const ROUTES: Route[] = [
  ['GET', re('/v1/search'), (x) => v1Search(x)],
  ['GET', re('/v2/search/repositories'), (x) => v2Search(x)],
  ['GET', re('/api/search'), (x) => apiSearch(x)],
  ['*', re('/api/session'), (x) => sessionRoute(x)],
  ['GET', re('/api/repositories'), (x) => listRepositories(x)],
  ['POST', re('/api/repositories'), (x) => createRepository(x)],
  ['GET', re(REPO), (x, m) => getRepository(x, repo(m))],
  ['PATCH', re(REPO), (x, m) => patchRepository(x, repo(m))],
  ['DELETE', re(REPO), (x, m) => deleteRepository(x, repo(m))],
  ['PUT', re(`${REPO}/star`), (x, m) => star(x, repo(m))],
  ['DELETE', re(`${REPO}/star`), (x, m) => star(x, repo(m))],
  ['GET', re(`${REPO}/tags`), (x, m) => listTags(x, repo(m))],
  ['DELETE', re(`${REPO}/tags/${SEG}`), (x, m) => deleteTag(x, repo(m), m[3] as string)],
  ['GET', re(`${REPO}/tags/${SEG}/layers`), (x, m) => tagLayers(x, repo(m), m[3] as string)],
  ['GET', re(`${REPO}/webhooks`), (x, m) => webhooksRoute(x, repo(m))],
  ['POST', re(`${REPO}/webhooks`), (x, m) => webhooksRoute(x, repo(m))],
  ['DELETE', re(`${REPO}/webhooks/${SEG}`), (x, m) => deleteWebhook(x, repo(m), id(m[3]))],
  ['GET', re(`${REPO}/webhooks/${SEG}/deliveries`), (x, m) => deliveries(x, repo(m), id(m[3]))],
  ['GET', re(`${REPO}/build-settings`), (x, m) => buildSettingsRoute(x, repo(m))],
  ['PUT', re(`${REPO}/build-settings`), (x, m) => buildSettingsRoute(x, repo(m))],
  ['GET', re(`${REPO}/builds`), (x, m) => buildsRoute(x, repo(m))],
  ['POST', re(`${REPO}/builds`), (x, m) => buildsRoute(x, repo(m))],
  ['GET', re(`${REPO}/builds/${SEG}`), (x, m) => getBuild(x, repo(m), id(m[3]))],
  ['GET', re(`${REPO}/builds/${SEG}/log`), (x, m) => buildLog(x, repo(m), id(m[3]))],
  ['POST', re(`/api/webhooks/(github|bitbucket)/${SEG}/${SEG}`), (x, m) => inboundWebhook(x, m[1] as 'github' | 'bitbucket', repositoryName(m[2] as string, m[3] as string))],
  ['GET', re('/api/orgs'), (x) => listOrgs(x)],
  ['POST', re('/api/orgs'), (x) => createOrg(x)],
  ['GET', re(`/api/orgs/${SEG}/members`), (x, m) => listMembers(x, m[1] as string)],
  ['POST', re(`/api/orgs/${SEG}/members`), (x, m) => addMember(x, m[1] as string)],
  ['DELETE', re(`/api/orgs/${SEG}/members/${SEG}`), (x, m) => removeMember(x, m[1] as string, m[2] as string)],
];

/** Inbound webhooks carry their own proof (a signature), not a caller's credentials. */
const INBOUND = /^\/api\/webhooks\//;

/** Answers one web API request; never rejects. */
export async function handleApi(services: ApiServices, req: IncomingMessage, res: ServerResponse, pathname: string, url: URL): Promise<void> {
  try {
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    let found: { route: Route; m: string[] } | undefined;
    let pathKnown = false;
    for (const route of ROUTES) {
      const m = route[1].exec(pathname);
      if (!m) continue;
      pathKnown = true;
      if (route[0] === '*' || route[0] === method) {
        found = { route, m: m.map((s) => safeDecode(s)) };
        break;
      }
    }
    if (!found) {
      if (pathKnown) throw new ApiError('INVALID', `method ${method} not allowed on ${pathname.slice(0, 200)}`);
      throw notFound(`no such API: ${pathname.slice(0, 200)}`);
    }
    const caller = INBOUND.test(pathname) ? { loopback: false, address: req.socket.remoteAddress ?? '' } : await identify(services, req);
    if (!INBOUND.test(pathname)) checkCsrf(req, caller);
    const x: ApiContext = { ...services, req, res, url, caller, rights: (name) => rightsOf(services, caller, name) };
    await found.route[2](x, found.m);
  } catch (err) {
    await answer(services, req, res, err);
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw invalid('malformed percent-encoding in the path');
  }
}

async function answer(services: ApiServices, req: IncomingMessage, res: ServerResponse, err: unknown): Promise<void> {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  await drainBody(req);
  const e = toApiError(err);
  if (!e) services.log(`error: ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
  json(res, e?.status ?? 500, { message: e?.message ?? 'internal error', code: e?.apiCode ?? 'INTERNAL' });
}
