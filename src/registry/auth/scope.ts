/**
 * Token scopes and access claims: the `scope` strings a client asks the token endpoint for
 * (`repository:alice/web:pull,push`, `registry:catalog:*`), the `access` entries a token grants
 * (`{type, name, actions}`), and the scope a 401 challenge names for what a request needs.
 * https://distribution.github.io/distribution/spec/auth/scope/
 */
import type { AccessNeed } from '../access.js';

/** One entry of a token's `access` claim: the actions granted on one resource. */
export interface ResourceActions {
  type: string;
  name: string;
  actions: string[];
}

/**
 * Parses one scope, `resourcetype[(class)]:resourcename:action[,action...]`. The resource
 * name may itself contain colons (a `host:port/name` of other registries), so the type ends
 * at the first colon and the actions start after the last one. Returns undefined for a
 * string that is not a scope.
 */
export function parseScope(scope: string): ResourceActions | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const typeWithClass = scope.slice(0, first);
  const m = /^([a-z0-9]+)(?:\([a-z0-9]+\))?$/.exec(typeWithClass);
  if (!m) return undefined;
  const name = scope.slice(first + 1, last);
  const actions = scope.slice(last + 1).split(',').filter((a) => a !== '');
  if (name === '' || actions.length === 0 || actions.some((a) => !/^(?:[a-z]+|\*)$/.test(a))) return undefined;
  return { type: m[1] as string, name, actions: [...new Set(actions)] };
}

/**
 * The scopes of a token request: every `scope` parameter, each a space-separated list (the
 * OAuth2 form sends one parameter with a list; Docker's GET sends one parameter per scope).
 * Entries for the same resource are merged. Returns the strings that are not scopes apart.
 */
export function parseScopes(params: readonly string[]): { scopes: ResourceActions[]; invalid: string[] } {
  const byResource = new Map<string, ResourceActions>();
  const invalid: string[] = [];
  for (const s of params.flatMap((p) => p.split(' ')).filter((s) => s !== '')) {
    const parsed = parseScope(s);
    if (!parsed) {
      invalid.push(s);
      continue;
    }
    const key = `${parsed.type}:${parsed.name}`;
    const seen = byResource.get(key);
    if (seen) seen.actions = [...new Set([...seen.actions, ...parsed.actions])];
    else byResource.set(key, parsed);
  }
  return { scopes: [...byResource.values()], invalid };
}

/** The scope string of granted or requested actions (`repository:a/b:pull,push`). */
export function formatScope(r: ResourceActions): string {
  return `${r.type}:${r.name}:${r.actions.join(',')}`;
}

/** The scope a challenge names for one need; undefined for `/v2/` itself, which needs none. */
export function scopeOfNeed(need: AccessNeed): string | undefined {
  switch (need.type) {
    case 'repository':
      return `repository:${need.name}:${need.actions.join(',')}`;
    case 'catalog':
      return 'registry:catalog:*';
    case 'base':
      return undefined;
  }
}

/**
 * True when the `access` claim of a token grants every action `need` asks for. `*` in a
 * granted action list stands for every action (distribution's `registry:catalog:*`).
 */
export function covers(access: readonly ResourceActions[], need: AccessNeed): boolean {
  switch (need.type) {
    case 'base':
      return true;
    case 'catalog':
      return granted(access, 'registry', 'catalog', '*');
    case 'repository':
      return need.actions.every((a) => granted(access, 'repository', need.name, a));
  }
}

function granted(access: readonly ResourceActions[], type: string, name: string, action: string): boolean {
  return access.some((r) => r.type === type && r.name === name && (r.actions.includes(action) || r.actions.includes('*')));
}

/**
 * The `WWW-Authenticate` value of a Bearer challenge (RFC 6750 §3), values quoted and
 * escaped: `Bearer realm="…",service="…",scope="…"[,error="…"]`.
 */
export function bearerChallenge(params: { realm: string; service: string; scope?: string; error?: string }): string {
  const parts = [`realm=${quote(params.realm)}`, `service=${quote(params.service)}`];
  if (params.scope) parts.push(`scope=${quote(params.scope)}`);
  if (params.error) parts.push(`error=${quote(params.error)}`);
  return `Bearer ${parts.join(',')}`;
}

function quote(v: string): string {
  return `"${v.replace(/["\\]/g, '\\$&')}"`;
}
