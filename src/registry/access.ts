/**
 * Access control of the hub: the one seam between the registry protocol (server, routes,
 * storage) and accounts and tokens. The server works out what a request needs — which
 * actions on which repository, or the catalog — and asks the `Authorizer`; it never looks at
 * credentials itself. The default authorizer (`loopbackAuthorizer`) lets anyone pull and
 * lets clients on loopback push and delete, so that a hub started with no configuration
 * takes a push a second later; the token authorizer (registry/auth/) implements Docker's
 * token authentication with accounts, organisations and private repositories.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An action on a repository, as token scopes name them (`repository:<name>:pull,push`). */
export type RepositoryAction = 'pull' | 'push' | 'delete';

/** What one request needs. */
export type AccessNeed =
  | { type: 'repository'; name: string; actions: RepositoryAction[] }
  /** `GET /v2/_catalog` (scope `registry:catalog:*`). */
  | { type: 'catalog' }
  /** `GET /v2/`: only that the client is authenticated when the hub requires it. */
  | { type: 'base' };

/** Who made a request. */
export interface Principal {
  /** The account name; undefined for an anonymous client. */
  account?: string;
}

/**
 * The answer to a request the authorizer refuses: the server sends the spec's error body
 * (UNAUTHORIZED with status 401, or DENIED with 403) and these headers (WWW-Authenticate).
 */
export class AccessDenied extends Error {
  constructor(
    readonly status: 401 | 403,
    message: string,
    readonly headers: Record<string, string> = {},
    /** The scope that was asked for, for the error's detail. */
    readonly detail?: unknown,
  ) {
    super(message);
    this.name = 'AccessDenied';
  }
}

/** Decides who may do what. */
export interface Authorizer {
  /**
   * Checks `req`'s credentials against `needs` (all of them must be granted); resolves the
   * principal, or rejects with {@link AccessDenied}.
   */
  authorize(req: IncomingMessage, needs: readonly AccessNeed[]): Promise<Principal>;
  /**
   * Routes of its own outside /v2/ (the token endpoint, account APIs); resolves true when it
   * answered the request, false to let the server route it.
   */
  handle?(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Releases what it holds (databases) when the hub stops. */
  close?(): Promise<void> | void;
}

/** True for a client connected over loopback (127.0.0.0/8, ::1, IPv4-mapped loopback). */
export function isLoopback(req: IncomingMessage): boolean {
  const a = req.socket.remoteAddress ?? '';
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}

/** The default: anonymous pull for everyone; push and delete for loopback clients only. */
export const loopbackAuthorizer: Authorizer = {
  async authorize(req, needs) {
    const writes = needs.some((n) => n.type === 'repository' && n.actions.some((a) => a !== 'pull'));
    if (writes && !isLoopback(req)) {
      throw new AccessDenied(403, 'requested access to the resource is denied: push is allowed from loopback only without accounts');
    }
    return {};
  },
};
