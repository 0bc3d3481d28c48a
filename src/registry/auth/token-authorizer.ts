/**
 * Docker's token authentication for the hub: the {@link Authorizer} that accounts, organisations
 * and private repositories turn on.
 *
 * Every /v2/ request must carry `Authorization: Bearer <token>`, a token this hub signed
 * (token-endpoint.ts serves them at the realm), for this service, unexpired, whose `access`
 * claim covers what the request needs. Otherwise the answer is 401 with the challenge that
 * tells the client where to get one — `Bearer realm="…",service="…",scope="…"` naming the
 * scope of the whole request, and `error="invalid_token"` or `error="insufficient_scope"` when
 * a token was sent (RFC 6750 §3.1). One refinement: when a *logged-in* account lacks a right
 * that no new token could give it (bob pushing to alice's namespace), the answer is 403 DENIED,
 * "requested access to the resource is denied" as Docker Hub words it, so the client stops
 * instead of fetching tokens in vain. Anonymous clients always get the 401: logging in may help.
 *
 * Verification is offline (signature and claims); the account store is consulted only to
 * choose between 401 and 403 on a refusal. A deleted account's tokens therefore live out their
 * few minutes; its refresh tokens die with it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { AccessDenied, type AccessNeed, type Authorizer, type Principal } from '../access.js';
import { type AccountStore, openAccountStore } from './account-store.js';
import type { AuthConfig } from './auth-config.js';
import { verifyToken } from './jwt.js';
import { bearerChallenge, covers, scopeOfNeed } from './scope.js';
import { loadOrCreateSigningKey, readSigningKey, type SigningKey } from './signing-key.js';
import { TokenEndpoint } from './token-endpoint.js';
import { TokenIssuer } from './token-issuer.js';

/** Where the generated signing key lives under the data directory. */
export const GENERATED_KEY_PATH = join('auth', 'token-key.pem');

/** What a {@link TokenAuthorizer} is made of. */
export interface TokenAuthorizerOptions {
  store: AccountStore;
  key: SigningKey;
  config: AuthConfig;
  /** The hub's public base URL (`https://hub.example.com`), for a realm configured as a path. */
  publicUrl?: string;
}

/** The hub's token authentication; see the module comment. */
export class TokenAuthorizer implements Authorizer {
  readonly store: AccountStore;
  readonly issuer: TokenIssuer;
  /** The key tokens are signed and verified with. */
  readonly key: SigningKey;
  private readonly endpoint: TokenEndpoint;
  private readonly config: AuthConfig;
  private readonly publicUrl: string | undefined;
  /** The path the token endpoint answers on. */
  private readonly realmPath: string;

  constructor(options: TokenAuthorizerOptions) {
    this.store = options.store;
    this.key = options.key;
    this.config = options.config;
    this.publicUrl = options.publicUrl?.replace(/\/+$/, '');
    this.issuer = new TokenIssuer(this.store, this.key, this.config);
    this.endpoint = new TokenEndpoint(this.store, this.issuer, this.config);
    const realm = this.config.token.realm;
    this.realmPath = realm.startsWith('/') ? realm : new URL(realm).pathname;
  }

  async authorize(req: IncomingMessage, needs: readonly AccessNeed[]): Promise<Principal> {
    const m = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) throw this.unauthorized(req, needs);
    let claims;
    try {
      claims = verifyToken(m[1] as string, this.key, { issuer: this.config.token.issuer, audience: this.config.token.service });
    } catch {
      throw this.unauthorized(req, needs, 'invalid_token');
    }
    const account = claims.sub === '' ? undefined : claims.sub;
    const missing = needs.filter((n) => !covers(claims.access, n));
    if (missing.length === 0) return account === undefined ? {} : { account };
    if (account !== undefined && missing.some((n) => !this.couldGrant(account, n))) {
      throw new AccessDenied(403, 'requested access to the resource is denied', {}, details(needs));
    }
    throw this.unauthorized(req, needs, 'insufficient_scope');
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== this.realmPath) return false;
    await this.endpoint.serve(req, res);
    return true;
  }

  close(): void {
    this.store.close();
  }

  /** The token endpoint's absolute URL as a client that sent `req` reaches it. */
  realm(req: IncomingMessage): string {
    const realm = this.config.token.realm;
    if (!realm.startsWith('/')) return realm;
    return `${this.publicUrl ?? originOf(req)}${realm}`;
  }

  /** True when a token for `account` could cover `need`. */
  private couldGrant(account: string, need: AccessNeed): boolean {
    if (need.type === 'catalog') return this.store.canListCatalog(account);
    if (need.type === 'base') return true;
    const allowed = this.issuer.permissions(account, need.name);
    return need.actions.every((a) => allowed.has(a));
  }

  private unauthorized(req: IncomingMessage, needs: readonly AccessNeed[], error?: 'invalid_token' | 'insufficient_scope'): AccessDenied {
    const scope = needs.map(scopeOfNeed).filter((s): s is string => s !== undefined).join(' ');
    const challenge = bearerChallenge({ realm: this.realm(req), service: this.config.token.service, scope, error });
    return new AccessDenied(401, 'authentication required', { 'www-authenticate': challenge }, details(needs));
  }
}

/** Options of {@link createTokenAuthorizer}. */
export interface CreateTokenAuthorizerOptions {
  /** The hub's data directory: `accounts.db` and the generated key live there. */
  dataDir: string;
  /** The parsed `auth` section ({@link parseAuthConfig}). */
  config: AuthConfig;
  /** The hub's public base URL, when known; else a path realm takes the request's Host. */
  publicUrl?: string;
}

/**
 * Opens the account store and the signing key (read from `config.token.key`, or generated into
 * `<dataDir>/auth/token-key.pem` on first use) and makes the authorizer. `close()` it with the hub.
 */
export async function createTokenAuthorizer(options: CreateTokenAuthorizerOptions): Promise<TokenAuthorizer> {
  const { dataDir, config } = options;
  const key = config.token.key ? await readSigningKey(config.token.key) : await loadOrCreateSigningKey(join(dataDir, GENERATED_KEY_PATH));
  const store = openAccountStore(dataDir, { defaultVisibility: config.defaultVisibility });
  return new TokenAuthorizer({ store, key, config, publicUrl: options.publicUrl });
}

/** The error detail distribution sends with UNAUTHORIZED: one entry per action asked for. */
function details(needs: readonly AccessNeed[]): { Type: string; Class: string; Name: string; Action: string }[] {
  return needs.flatMap((n) =>
    n.type === 'repository'
      ? n.actions.map((a) => ({ Type: 'repository', Class: '', Name: n.name, Action: a }))
      : n.type === 'catalog'
        ? [{ Type: 'registry', Class: '', Name: 'catalog', Action: '*' }]
        : [],
  );
}

/** `scheme://host[:port]` the client used: its Host header when well-formed, else the socket's local address. */
function originOf(req: IncomingMessage): string {
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const host = req.headers.host;
  if (host && /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host)) return `${scheme}://${host}`;
  const addr = req.socket.localAddress ?? '127.0.0.1';
  return `${scheme}://${addr.includes(':') ? `[${addr}]` : addr}:${req.socket.localPort ?? 80}`;
}
