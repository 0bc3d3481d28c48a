/**
 * What a token grants: the intersection of the scopes a client asks for with what the account
 * store allows the account (or an anonymous client), signed into a token. The token endpoint
 * (token-endpoint.ts) is its HTTP front; tests and tools may issue tokens directly.
 *
 * Per the token spec, a scope that is not granted is left out of the token rather than refused:
 * the registry then answers the request the token was for with its own 401 or 403, which is
 * where Docker expects the refusal ("pull access denied ... may require 'docker login'").
 * https://distribution.github.io/distribution/spec/auth/token/#requesting-a-token
 */
import type { RepositoryAction } from '../access.js';
import type { AccountStore } from './account-store.js';
import type { AuthConfig } from './auth-config.js';
import { issueToken } from './jwt.js';
import { isRepositoryName } from './names.js';
import { formatScope, type ResourceActions } from './scope.js';
import type { SigningKey } from './signing-key.js';

const REPOSITORY_ACTIONS: readonly RepositoryAction[] = ['pull', 'push', 'delete'];

/** A signed token and what the token endpoint answers about it. */
export interface IssuedToken {
  token: string;
  expiresIn: number;
  /** RFC 3339. */
  issuedAt: string;
  access: ResourceActions[];
  /** The granted scopes, space-separated (the OAuth2 answer's `scope`). */
  scope: string;
}

/** Grants and signs tokens for one service. */
export class TokenIssuer {
  constructor(
    private readonly store: AccountStore,
    private readonly key: SigningKey,
    private readonly config: AuthConfig,
  ) {}

  /**
   * The part of `requested` that `account` (undefined: anonymous) is allowed. `*` asks for
   * every action; unknown resource types and malformed repository names grant nothing.
   */
  grant(account: string | undefined, requested: readonly ResourceActions[]): ResourceActions[] {
    const out: ResourceActions[] = [];
    for (const r of requested) {
      if (r.type === 'repository' && isRepositoryName(r.name)) {
        const allowed = this.permissions(account, r.name);
        const wanted = r.actions.includes('*') ? REPOSITORY_ACTIONS : r.actions;
        const actions = REPOSITORY_ACTIONS.filter((a) => wanted.includes(a) && allowed.has(a));
        if (actions.length > 0) out.push({ type: 'repository', name: r.name, actions });
      } else if (r.type === 'registry' && r.name === 'catalog' && r.actions.includes('*') && this.store.canListCatalog(account)) {
        out.push({ type: 'registry', name: 'catalog', actions: ['*'] });
      }
    }
    return out;
  }

  /** What `account` may do on `repository`, anonymous pull switched off by configuration. */
  permissions(account: string | undefined, repository: string): Set<RepositoryAction> {
    if (account === undefined && !this.config.allowAnonymousPull) return new Set();
    return this.store.permissions(account, repository);
  }

  /** A token for `account` with the granted part of `requested`. */
  issue(account: string | undefined, requested: readonly ResourceActions[], now = Math.floor(Date.now() / 1000)): IssuedToken {
    const access = this.grant(account, requested);
    const { token } = issueToken(this.key, {
      issuer: this.config.token.issuer,
      audience: this.config.token.service,
      subject: account ?? '',
      access,
      ttlSeconds: this.config.token.expirationSeconds,
      now,
    });
    return {
      token,
      expiresIn: this.config.token.expirationSeconds,
      issuedAt: new Date(now * 1000).toISOString(),
      access,
      scope: access.map(formatScope).join(' '),
    };
  }
}
