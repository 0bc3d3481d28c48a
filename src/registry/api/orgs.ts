/**
 * `/api/orgs`: the caller's organisations, creating one (the caller its first owner), and
 * members — listed by members and admins, changed by owners and admins. The account store
 * enforces its own rules (an organisation keeps an owner; names). Without accounts there are
 * no organisations: the list is empty and creating one is INVALID.
 */
import { denied, invalid, notFound } from './api-error.js';
import { type ApiContext, json, noContent, optBool, optString, readJson } from './context.js';
import { ApiError } from './api-error.js';

function signedIn(x: ApiContext): string {
  if (!x.accounts) throw invalid('this hub has no accounts, hence no organisations');
  if (!x.caller.account) throw new ApiError('UNAUTHORIZED', 'sign in first');
  return x.caller.account;
}

/** GET /api/orgs. */
export async function listOrgs(x: ApiContext): Promise<void> {
  if (!x.accounts || !x.caller.account) return json(x.res, 200, []);
  const me = x.caller.account;
  const out = x.accounts.organizations().flatMap((o) => {
    const m = o.members.find((mm) => mm.user === me);
    return m ? [{ name: o.name, role: m.role }] : [];
  });
  json(x.res, 200, out);
}

/** POST /api/orgs. */
export async function createOrg(x: ApiContext): Promise<void> {
  const me = signedIn(x);
  const name = optString(await readJson(x.req), 'name', 64) ?? '';
  x.accounts!.createOrganization(name, me);
  json(x.res, 201, { name, role: 'owner' });
}

function orgFor(x: ApiContext, org: string, manage: boolean) {
  const me = signedIn(x);
  const o = x.accounts!.organization(org);
  const admin = x.accounts!.user(me)?.admin === true;
  const member = o?.members.find((m) => m.user === me);
  if (!o || (!member && !admin)) throw notFound(`organization ${org} not found`);
  if (manage && !admin && member?.role !== 'owner') throw denied(`only owners may change the members of ${org}`);
  return o;
}

/** GET /api/orgs/:org/members. */
export async function listMembers(x: ApiContext, org: string): Promise<void> {
  const o = orgFor(x, org, false);
  json(x.res, 200, o.members.map((m) => ({ username: m.user, role: m.role, pull_only: !m.push })));
}

/** POST /api/orgs/:org/members. */
export async function addMember(x: ApiContext, org: string): Promise<void> {
  orgFor(x, org, true);
  const body = await readJson(x.req);
  const username = optString(body, 'username', 64) ?? '';
  const role = optString(body, 'role', 16) ?? 'member';
  if (role !== 'owner' && role !== 'member') throw invalid('role must be "owner" or "member"');
  const pullOnly = optBool(body, 'pull_only') ?? false;
  x.accounts!.addMember(org, username, { role, push: !pullOnly });
  json(x.res, 201, { username, role, pull_only: role === 'member' && pullOnly });
}

/** DELETE /api/orgs/:org/members/:user. */
export async function removeMember(x: ApiContext, org: string, user: string): Promise<void> {
  orgFor(x, org, x.caller.account !== user);
  x.accounts!.removeMember(org, user);
  noContent(x.res);
}
