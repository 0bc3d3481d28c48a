/**
 * Who is calling the web API, and browser sessions.
 *
 * A caller is identified by, in this order: `Authorization: Basic` (checked against the account
 * store: scripts), `Authorization: Bearer` (a token of this hub), or the `hub_session` cookie
 * (the web UI). A session is 32 random bytes given to the browser as an HttpOnly, SameSite=Strict
 * cookie and stored only as its SHA-256, with a CSRF token and a 12 h expiry. Every
 * state-changing request authenticated by the cookie must repeat the CSRF token in
 * `X-CSRF-Token` (compared in constant time), and any state-changing request whose `Origin`
 * names another host than the one it was sent to is refused — which also guards a hub without
 * accounts, where loopback clients may change everything, from pages of other sites.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopback } from '../access.js';
import { ApiError, denied, invalid } from './api-error.js';
import { type ApiContext, type ApiServices, type Caller, json, noContent, optString, readJson } from './context.js';

/** The session cookie's name. */
export const SESSION_COOKIE = 'hub_session';
/** Session lifetime. */
export const SESSION_TTL_MS = 12 * 3_600_000;

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Works out the caller of `req`; 401 for credentials that are wrong (not for a stale cookie: that is anonymous). */
export async function identify(services: ApiServices, req: IncomingMessage): Promise<Caller> {
  const caller: Caller = { loopback: isLoopback(req), address: req.socket.remoteAddress ?? '' };
  const auth = req.headers.authorization;
  if (auth && services.accounts) {
    const basic = /^basic\s+(\S+)\s*$/i.exec(auth);
    const bearer = /^bearer\s+(\S+)\s*$/i.exec(auth);
    if (basic) {
      const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const [user, password] = colon < 0 ? [decoded, ''] : [decoded.slice(0, colon), decoded.slice(colon + 1)];
      if (!(await services.accounts.verifyCredentials(user, password))) throw new ApiError('UNAUTHORIZED', 'incorrect username or password');
      caller.account = user;
      return caller;
    }
    if (bearer) {
      const account = await services.verifyBearer?.(req);
      if (account === undefined) throw new ApiError('UNAUTHORIZED', 'invalid token');
      if (account !== '') caller.account = account;
      return caller;
    }
    throw new ApiError('UNAUTHORIZED', 'unsupported Authorization scheme (use Basic or Bearer)');
  }
  const token = cookie(req, SESSION_COOKIE);
  if (token && services.accounts) {
    const session = services.data.session(token);
    // A session of a deleted user is dropped.
    if (session && services.accounts.user(session.username)) {
      caller.account = session.username;
      caller.session = { token, csrf: session.csrf };
    }
  }
  return caller;
}

/** Refuses a state-changing request from another origin, or cookie-authenticated without the right CSRF token. */
export function checkCsrf(req: IncomingMessage, caller: Caller): void {
  const method = req.method ?? 'GET';
  if (SAFE.has(method)) return;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      throw denied('cross-origin request refused');
    }
    if (host !== req.headers.host) throw denied('cross-origin request refused');
  } else if (origin === 'null') throw denied('cross-origin request refused');
  if (!caller.session) return;
  const given = Buffer.from(String(req.headers['x-csrf-token'] ?? ''));
  const expected = Buffer.from(caller.session.csrf);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw denied('CSRF token missing or wrong');
}

/** `/api/session`: GET who is signed in, POST sign in, DELETE sign out. */
export async function sessionRoute(x: ApiContext): Promise<void> {
  const method = x.req.method;
  if (method === 'GET') {
    json(x.res, 200, { username: x.caller.account ?? null, csrfToken: x.caller.session?.csrf ?? null, accounts: x.accounts !== undefined });
    return;
  }
  if (method === 'DELETE') {
    if (x.caller.session) x.data.deleteSession(x.caller.session.token);
    noContent(x.res, { 'Set-Cookie': cookieHeader(x, '', 0) });
    return;
  }
  if (method !== 'POST') throw new ApiError('INVALID', `method ${method} not allowed`);
  if (!x.accounts) throw invalid('this hub has no accounts: there is nothing to sign in to');
  const body = await readJson(x.req);
  const username = optString(body, 'username', 64) ?? '';
  const password = optString(body, 'password', 1024) ?? '';
  if (!(await x.accounts.verifyCredentials(username, password))) throw new ApiError('UNAUTHORIZED', 'incorrect username or password');
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  x.data.createSession(token, username, csrfToken, Date.now() + SESSION_TTL_MS);
  json(x.res, 200, { username, csrfToken }, { 'Set-Cookie': cookieHeader(x, token, SESSION_TTL_MS / 1000) });
}

function cookieHeader(x: ApiContext, value: string, maxAge: number): string {
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${x.secure ? '; Secure' : ''}`;
}

/** The value of cookie `name`, or undefined. */
export function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
