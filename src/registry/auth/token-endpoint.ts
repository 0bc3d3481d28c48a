/**
 * The token endpoint: Docker's token protocol over HTTP, both forms clients use.
 *
 * - `GET <realm>?service=S&scope=…&account=A[&offline_token=true&client_id=C]` with Basic
 *   credentials, or none for an anonymous token (the token spec;
 *   https://distribution.github.io/distribution/spec/auth/token/). `offline_token=true` with
 *   credentials adds a `refresh_token`: `docker login` stores it as its identity token.
 * - `POST <realm>` with an OAuth2 form: `grant_type=password` (username, password) or
 *   `grant_type=refresh_token`, plus service, client_id, scope and `access_type=offline` for
 *   a refresh token (https://distribution.github.io/distribution/spec/auth/oauth/).
 *
 * The answer is `{token, access_token, expires_in, issued_at[, refresh_token][, scope]}`.
 * Refusals carry both Docker Hub's `{"details": …}`, which Docker and gantry print
 * ("unauthorized: incorrect username or password"), and OAuth2's `error`/`error_description`.
 * Wrong credentials are a 401, whichever form was used: Docker reads only a 401 as a login
 * failure.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountStore } from './account-store.js';
import type { AuthConfig } from './auth-config.js';
import { parseScopes } from './scope.js';
import type { IssuedToken, TokenIssuer } from './token-issuer.js';

/** Largest OAuth2 form accepted. */
const MAX_FORM_BYTES = 64 * 1024;

/** A refusal: status, OAuth2 error code and a message for people. */
class TokenRequestError extends Error {
  constructor(
    readonly status: number,
    readonly oauthError: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Serves the token endpoint for one service. */
export class TokenEndpoint {
  constructor(
    private readonly store: AccountStore,
    private readonly issuer: TokenIssuer,
    private readonly config: AuthConfig,
  ) {}

  /** Answers one request to the realm's path (any method; GET and POST are served). */
  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      let body: Record<string, unknown>;
      if (req.method === 'GET' || req.method === 'HEAD') body = await this.viaGet(req);
      else if (req.method === 'POST') body = await this.viaPost(req);
      else throw new TokenRequestError(405, 'invalid_request', `method ${req.method} not allowed`, { allow: 'GET, POST' });
      reply(res, 200, body, { 'cache-control': 'no-store', pragma: 'no-cache' });
    } catch (err) {
      if (err instanceof TokenRequestError) {
        reply(res, err.status, { details: err.message, error: err.oauthError, error_description: err.message }, err.headers);
      } else {
        reply(res, 500, { details: 'internal error', error: 'server_error', error_description: 'internal error' });
      }
    }
  }

  private async viaGet(req: IncomingMessage): Promise<Record<string, unknown>> {
    const q = new URL(req.url ?? '/', 'http://hub').searchParams;
    this.checkService(q.get('service'));
    const scopes = this.scopes(q.getAll('scope'));
    const basic = parseBasic(req.headers.authorization);
    const account = q.get('account');
    if (basic && account !== null && account !== '' && account !== basic.user) {
      throw new TokenRequestError(400, 'invalid_request', 'the account parameter does not match the credentials');
    }
    const user = basic ? await this.authenticate(basic.user, basic.password) : this.anonymous();
    const issued = this.issuer.issue(user, scopes);
    const refresh =
      user !== undefined && q.get('offline_token') === 'true'
        ? this.store.issueRefreshToken(user, this.config.token.service, q.get('client_id') || 'unknown', this.config.token.refreshExpirationSeconds)
        : undefined;
    return answer(issued, refresh, false);
  }

  private async viaPost(req: IncomingMessage): Promise<Record<string, unknown>> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      req.resume();
      throw new TokenRequestError(400, 'invalid_request', 'the token request must be a form (application/x-www-form-urlencoded)');
    }
    const form = new URLSearchParams(await readForm(req));
    this.checkService(form.get('service'));
    if (!form.get('client_id')) throw new TokenRequestError(400, 'invalid_request', 'client_id is required');
    const scopes = this.scopes(form.getAll('scope'));
    const offline = form.get('access_type') === 'offline';
    switch (form.get('grant_type')) {
      case 'password': {
        const username = form.get('username');
        const password = form.get('password');
        if (!username || password === null) throw new TokenRequestError(400, 'invalid_request', 'username and password are required');
        const user = await this.authenticate(username, password);
        const refresh = offline
          ? this.store.issueRefreshToken(user, this.config.token.service, form.get('client_id') as string, this.config.token.refreshExpirationSeconds)
          : undefined;
        return answer(this.issuer.issue(user, scopes), refresh, true);
      }
      case 'refresh_token': {
        const token = form.get('refresh_token');
        if (!token) throw new TokenRequestError(400, 'invalid_request', 'refresh_token is required');
        const grant = this.store.redeemRefreshToken(token);
        if (!grant || grant.service !== this.config.token.service) {
          throw new TokenRequestError(401, 'invalid_grant', 'invalid or expired refresh token', { 'www-authenticate': this.basicChallenge() });
        }
        // The spec: a refresh grant returns the same refresh token, never a new one.
        return answer(this.issuer.issue(grant.user, scopes), token, true);
      }
      case null:
      case '':
        throw new TokenRequestError(400, 'invalid_request', 'grant_type is required');
      default:
        throw new TokenRequestError(400, 'unsupported_grant_type', `unsupported grant_type ${JSON.stringify(form.get('grant_type'))}`);
    }
  }

  /** The user behind a name and password; 401 when they do not match. */
  private async authenticate(user: string, password: string): Promise<string> {
    if (!(await this.store.verifyCredentials(user, password))) {
      throw new TokenRequestError(401, 'invalid_grant', 'incorrect username or password', { 'www-authenticate': this.basicChallenge() });
    }
    return user;
  }

  /** An anonymous client: undefined, unless the hub requires a login for everything. */
  private anonymous(): undefined {
    if (!this.config.allowAnonymousPull) {
      throw new TokenRequestError(401, 'invalid_client', 'authentication required', { 'www-authenticate': this.basicChallenge() });
    }
    return undefined;
  }

  private checkService(service: string | null): void {
    if (service !== this.config.token.service) {
      throw new TokenRequestError(400, 'invalid_request', service ? `unknown service ${JSON.stringify(service)}` : 'service is required');
    }
  }

  private scopes(params: string[]) {
    const { scopes, invalid } = parseScopes(params);
    if (invalid.length > 0) throw new TokenRequestError(400, 'invalid_scope', `invalid scope ${JSON.stringify(invalid[0])}`);
    return scopes;
  }

  private basicChallenge(): string {
    return `Basic realm="${this.config.token.service.replace(/["\\]/g, '\\$&')}"`;
  }
}

function answer(issued: IssuedToken, refreshToken: string | undefined, oauth: boolean): Record<string, unknown> {
  return {
    token: issued.token,
    access_token: issued.token,
    expires_in: issued.expiresIn,
    issued_at: issued.issuedAt,
    ...(oauth ? { scope: issued.scope } : {}),
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
  };
}

/** Basic credentials: undefined when the header is absent or another scheme; 400 when malformed. */
function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (!header || !/^basic\s/i.test(header)) return undefined;
  const m = /^basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(header);
  const decoded = m ? Buffer.from(m[1] as string, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new TokenRequestError(400, 'invalid_request', 'malformed Basic credentials');
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function readForm(req: IncomingMessage): Promise<string> {
  const tooLarge = () => new TokenRequestError(413, 'invalid_request', `the token request is larger than ${MAX_FORM_BYTES} bytes`, { connection: 'close' });
  if (Number(req.headers['content-length'] ?? 0) > MAX_FORM_BYTES) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_FORM_BYTES) return void chunks.push(chunk);
      // NOTE: stop keeping the body but let it drain: destroying the request would take the
      // socket, and the answer, with it.
      req.off('data', onData);
      req.resume();
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
