/**
 * How an automated build pushes to a hub with accounts. The builder is a registry client like
 * any other: it meets the token challenge and asks the token endpoint for a token with Basic
 * credentials. Each build gets one-off credentials — the repository owner's name and a random
 * 256-bit secret, valid for one hour and only until the build ends — and this class answers the
 * token requests that carry them (GET form, loopback clients only) with a token of that owner,
 * issued by the hub's own issuer (so it grants no more than the owner may). Any other token
 * request goes on to the real endpoint. The owner: the namespace's user, an organisation's
 * first owner, or for a top-level name the first admin; only owners may set build settings.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLoopback } from '../access.js';
import type { AccountStore } from '../auth/account-store.js';
import { namespaceOf } from '../auth/names.js';
import { parseScopes } from '../auth/scope.js';
import type { TokenIssuer } from '../auth/token-issuer.js';

/** Credentials of one build, released when it ends. */
export interface BuildPushCredentials {
  username: string;
  password: string;
  release(): void;
}

const TTL_MS = 3_600_000;

/** One-off push credentials of builds; see the module comment. */
export class BuildCredentials {
  private readonly live = new Map<string, { user: string; expires: number }>();

  constructor(
    private readonly accounts: AccountStore,
    private readonly issuer: TokenIssuer,
    /** The token endpoint's path and service. */
    private readonly realmPath: string,
    private readonly service: string,
  ) {}

  /** Credentials for a build of `repository`, or undefined when no account may push there. */
  issue(repository: string): BuildPushCredentials | undefined {
    const ns = namespaceOf(repository);
    const user =
      ns === undefined
        ? this.accounts.users().find((u) => u.admin)?.name
        : this.accounts.user(ns)
          ? ns
          : this.accounts.organization(ns)?.members.find((m) => m.role === 'owner')?.user;
    if (user === undefined || !this.accounts.permissions(user, repository).has('push')) return undefined;
    const password = randomBytes(32).toString('base64url');
    this.live.set(password, { user, expires: Date.now() + TTL_MS });
    return { username: user, password, release: () => this.live.delete(password) };
  }

  /** Answers a token request made with live build credentials; false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !isLoopback(req)) return false;
    const url = new URL(req.url ?? '/', 'http://hub');
    if (url.pathname !== this.realmPath || url.searchParams.get('service') !== this.service) return false;
    const m = /^basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const [user, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    const entry = this.find(password);
    if (colon < 0 || !entry || entry.user !== user) return false;
    const issued = this.issuer.issue(user, parseScopes(url.searchParams.getAll('scope')).scopes);
    const body = Buffer.from(JSON.stringify({ token: issued.token, access_token: issued.token, expires_in: issued.expiresIn, issued_at: issued.issuedAt }));
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }

  private find(password: string): { user: string; expires: number } | undefined {
    const given = Buffer.from(password);
    for (const [secret, entry] of this.live) {
      if (entry.expires <= Date.now()) {
        this.live.delete(secret);
        continue;
      }
      const s = Buffer.from(secret);
      if (s.length === given.length && timingSafeEqual(s, given)) return entry;
    }
    return undefined;
  }
}
