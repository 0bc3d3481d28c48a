/**
 * The `auth` section of the hub's configuration file, which turns on accounts and Docker's
 * token authentication (docs/hub-config.md, section `auth`):
 *
 * ```yaml
 * auth:
 *   token:
 *     realm: https://hub.example.com/token   # default: /token on the host the client used
 *     service: hub.example.com               # the tokens' audience; default "gantry-hub"
 *     issuer: hub.example.com                # default "gantry-hub"
 *     expiration: 5m                         # access tokens, 60s to 24h; default 5m
 *     refreshexpiration: 720h                # refresh tokens (docker login); default 720h
 *     key: /etc/gantry/hub-token-key.pem     # default: generated in <data>/auth/
 *   allowanonymouspull: true                 # default true
 *   defaultvisibility: public                # of repositories never given one; default public
 * ```
 *
 * Keys are matched without regard to case (`allowAnonymousPull` is the same key), as Go's YAML
 * decoding of distribution's configuration does; unknown keys are errors, so that a typo is
 * never a setting silently ignored.
 */
import { errors } from '../../core/errors.js';
import type { Visibility } from './account-store.js';

/** The parsed `auth` section, with every default filled in. */
export interface AuthConfig {
  token: {
    /** Absolute URL of the token endpoint, or a path on the host the client connected to. */
    realm: string;
    service: string;
    issuer: string;
    /** Access token lifetime, seconds. */
    expirationSeconds: number;
    /** Refresh token lifetime, seconds. */
    refreshExpirationSeconds: number;
    /** PEM private key file; undefined: generated into the data directory. */
    key: string | undefined;
  };
  allowAnonymousPull: boolean;
  defaultVisibility: Visibility;
}

/** The default service name (audience) and issuer. */
export const DEFAULT_SERVICE = 'gantry-hub';
/** The default token path. */
export const DEFAULT_REALM_PATH = '/token';

const MIN_EXPIRATION = 60; // the token spec: never less than 60 s to live
const MAX_EXPIRATION = 24 * 3600;

/**
 * Parses the raw `auth` value of a configuration file. `undefined` (no section) gives
 * undefined: no accounts, the hub's default authorizer. An empty section (`auth:` alone) turns
 * token authentication on with the defaults. INVALID_ARGUMENT names the offending key.
 */
export function parseAuthConfig(raw: unknown): AuthConfig | undefined {
  if (raw === undefined) return undefined;
  const auth = section(raw ?? {}, 'auth', ['token', 'allowanonymouspull', 'defaultvisibility']);
  const token = section(auth.token ?? {}, 'auth.token', ['realm', 'service', 'issuer', 'expiration', 'refreshexpiration', 'key']);
  const service = text(token.service, 'auth.token.service') ?? DEFAULT_SERVICE;
  const issuer = text(token.issuer, 'auth.token.issuer') ?? DEFAULT_SERVICE;
  const expirationSeconds = seconds(token.expiration, 'auth.token.expiration') ?? 300;
  if (expirationSeconds < MIN_EXPIRATION || expirationSeconds > MAX_EXPIRATION) {
    throw bad('auth.token.expiration', `must be between 60s and 24h, not ${JSON.stringify(token.expiration)}`);
  }
  const refreshExpirationSeconds = seconds(token.refreshexpiration, 'auth.token.refreshexpiration') ?? 720 * 3600;
  if (refreshExpirationSeconds < MIN_EXPIRATION) {
    throw bad('auth.token.refreshexpiration', `must be at least 60s, not ${JSON.stringify(token.refreshexpiration)}`);
  }
  const visibility = text(auth.defaultvisibility, 'auth.defaultvisibility') ?? 'public';
  if (visibility !== 'public' && visibility !== 'private') {
    throw bad('auth.defaultvisibility', `must be "public" or "private", not ${JSON.stringify(visibility)}`);
  }
  const anonymous = auth.allowanonymouspull ?? true;
  if (typeof anonymous !== 'boolean') throw bad('auth.allowanonymouspull', `must be true or false, not ${JSON.stringify(anonymous)}`);
  return {
    token: {
      realm: realm(text(token.realm, 'auth.token.realm') ?? DEFAULT_REALM_PATH),
      service,
      issuer,
      expirationSeconds,
      refreshExpirationSeconds,
      key: text(token.key, 'auth.token.key'),
    },
    allowAnonymousPull: anonymous,
    defaultVisibility: visibility,
  };
}

/** Parses a duration, `1h30m`, `90s`, `5m` or a number of seconds, into whole seconds. */
export function parseDurationSeconds(value: number | string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw errors.invalid(`invalid duration ${value}`);
    return Math.floor(value);
  }
  const units: Record<string, number> = { s: 1, m: 60, h: 3600 };
  const re = /(\d+(?:\.\d+)?)(h|m|s)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * (units[m[2] as string] as number);
    end = re.lastIndex;
  }
  if (end === 0 || end !== value.length) throw errors.invalid(`invalid duration ${JSON.stringify(value)} (use e.g. 90s, 5m, 1h30m)`);
  return Math.floor(total);
}

/** A mapping with its keys lower-cased; refuses keys outside `known`. */
function section(value: unknown, name: string, known: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(name, 'must be a mapping');
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const lower = key.toLowerCase();
    if (!known.includes(lower)) {
      throw errors.invalid(`invalid hub configuration: unknown key ${name}.${key}`, { hint: `the keys of ${name} are ${known.join(', ')}` });
    }
    if (lower in out) throw bad(`${name}.${key}`, 'is given twice');
    out[lower] = v;
  }
  return out;
}

function text(value: unknown, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw bad(key, `must be a non-empty string, not ${JSON.stringify(value)}`);
  return value.trim();
}

function seconds(value: unknown, key: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' && typeof value !== 'string') throw bad(key, `must be a duration such as 5m, not ${JSON.stringify(value)}`);
  try {
    return parseDurationSeconds(value);
  } catch (err) {
    throw bad(key, (err as Error).message);
  }
}

function realm(value: string): string {
  if (value.startsWith('/')) {
    if (value.startsWith('/v2/') || value === '/v2' || !/^\/[A-Za-z0-9._~\-/]*$/.test(value)) {
      throw bad('auth.token.realm', `${JSON.stringify(value)} is not a usable path (not under /v2/, plain characters only)`);
    }
    return value;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad('auth.token.realm', `must be an http(s) URL or a path, not ${JSON.stringify(value)}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    throw bad('auth.token.realm', `must be an http(s) URL without query, not ${JSON.stringify(value)}`);
  }
  if (url.pathname.startsWith('/v2/') || url.pathname === '/v2') throw bad('auth.token.realm', 'must not be under /v2/');
  return url.href;
}

function bad(key: string, why: string) {
  return errors.invalid(`invalid hub configuration: ${key} ${why}`, { hint: 'see docs/hub-config.md, section "Accounts and tokens"' });
}
