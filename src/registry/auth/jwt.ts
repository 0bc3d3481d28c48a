/**
 * The hub's bearer tokens: JSON Web Tokens (RFC 7519) in JWS compact form (RFC 7515), signed
 * ES256 or RS256 with node:crypto, carrying distribution's claim set — `iss`, `sub`, `aud`
 * (the registry's service name), `exp`, `nbf`, `iat`, `jti` and `access`, the actions granted.
 * https://distribution.github.io/distribution/spec/auth/jwt/
 *
 * Verification trusts nothing the token says about itself: the algorithm must be the signing
 * key's own (so `alg: none` and HMAC-with-the-public-key confusions are refused), the `kid`
 * must name that key, and keys embedded in the header (`jwk`, `x5c`) are ignored.
 */
import { randomUUID, sign, verify } from 'node:crypto';
import type { ResourceActions } from './scope.js';
import type { SigningKey } from './signing-key.js';

/** The claims of a hub token. */
export interface TokenClaims {
  iss: string;
  /** The account name; empty for an anonymous client. */
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: ResourceActions[];
}

/** Why a token was refused; the message is for logs and tests, never for matching. */
export class InvalidTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

/** What a token must match. */
export interface VerifyOptions {
  issuer: string;
  /** The service name, which must be the `aud` claim. */
  audience: string;
  /** The current time in seconds since the epoch (tests set it). */
  now?: number;
  /** Clock skew allowed on `exp` and `nbf`, in seconds. */
  leewaySeconds?: number;
}

/** The default clock skew allowed on `exp` and `nbf`. */
export const DEFAULT_LEEWAY_SECONDS = 30;

/** Signs claims for `subject` granting `access`, valid `ttlSeconds` from `now`. */
export function issueToken(
  key: SigningKey,
  params: { issuer: string; audience: string; subject: string; access: ResourceActions[]; ttlSeconds: number; now?: number },
): { token: string; claims: TokenClaims } {
  const now = params.now ?? Math.floor(Date.now() / 1000);
  const claims: TokenClaims = {
    iss: params.issuer,
    sub: params.subject,
    aud: params.audience,
    exp: now + params.ttlSeconds,
    nbf: now,
    iat: now,
    jti: randomUUID(),
    access: params.access,
  };
  return { token: signToken(key, claims), claims };
}

/** Signs `claims` (any JSON object) with `key`: `header.claims.signature`, base64url. */
export function signToken(key: SigningKey, claims: object): string {
  const header = { typ: 'JWT', alg: key.alg, kid: key.kid };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  // NOTE: JWS's ES256 signature is r‖s (IEEE P1363), not the DER that OpenSSL produces by default.
  const signature =
    key.alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
      : sign('sha256', Buffer.from(input), key.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

/** Checks `token`'s signature and claims against `key` and `options`; returns its claims or throws {@link InvalidTokenError}. */
export function verifyToken(token: string, key: SigningKey, options: VerifyOptions): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new InvalidTokenError('malformed token');
  const [rawHeader, rawClaims, rawSignature] = parts as [string, string, string];
  const header = parseJson(rawHeader, 'header') as { alg?: unknown; kid?: unknown; typ?: unknown; crit?: unknown };
  if (header.alg !== key.alg) throw new InvalidTokenError(`unexpected signing algorithm ${JSON.stringify(header.alg)}`);
  if (header.kid !== key.kid) throw new InvalidTokenError(`signed by an unknown key ${JSON.stringify(header.kid)}`);
  if (header.typ !== undefined && header.typ !== 'JWT') throw new InvalidTokenError(`unexpected token type ${JSON.stringify(header.typ)}`);
  // RFC 7515 §4.1.11: extensions a verifier does not understand must be refused.
  if (header.crit !== undefined) throw new InvalidTokenError('unsupported critical header parameters');

  const signature = Buffer.from(rawSignature, 'base64url');
  const input = Buffer.from(`${rawHeader}.${rawClaims}`);
  const ok =
    key.alg === 'ES256'
      ? signature.length === 64 && verify('sha256', input, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature)
      : verify('sha256', input, key.publicKey, signature);
  if (!ok) throw new InvalidTokenError('bad signature');

  const claims = parseJson(rawClaims, 'claims') as Partial<Record<keyof TokenClaims, unknown>>;
  if (claims.iss !== options.issuer) throw new InvalidTokenError(`untrusted issuer ${JSON.stringify(claims.iss)}`);
  const aud = claims.aud;
  if (!(aud === options.audience || (Array.isArray(aud) && aud.includes(options.audience)))) {
    throw new InvalidTokenError(`token is for another audience ${JSON.stringify(aud)}`);
  }
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw new InvalidTokenError('token without expiry');
  if (now > claims.exp + leeway) throw new InvalidTokenError('token expired');
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || now < claims.nbf - leeway)) throw new InvalidTokenError('token not yet valid');
  if (claims.sub !== undefined && typeof claims.sub !== 'string') throw new InvalidTokenError('malformed subject');
  const access = claims.access ?? [];
  if (!Array.isArray(access) || !access.every(isResourceActions)) throw new InvalidTokenError('malformed access claim');
  return {
    iss: claims.iss,
    sub: (claims.sub as string | undefined) ?? '',
    aud: options.audience,
    exp: claims.exp,
    nbf: (claims.nbf as number | undefined) ?? 0,
    iat: typeof claims.iat === 'number' ? claims.iat : 0,
    jti: typeof claims.jti === 'string' ? claims.jti : '',
    access,
  };
}

function isResourceActions(v: unknown): v is ResourceActions {
  const r = v as ResourceActions;
  return (
    typeof r === 'object' && r !== null && typeof r.type === 'string' && typeof r.name === 'string' &&
    Array.isArray(r.actions) && r.actions.every((a) => typeof a === 'string')
  );
}

function parseJson(part: string, what: string): object {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidTokenError(`malformed token ${what}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidTokenError(`malformed token ${what}`);
  return v;
}

function b64url(s: string): string {
  return Buffer.from(s).toString('base64url');
}
