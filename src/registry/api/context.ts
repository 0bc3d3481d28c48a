/**
 * What every handler of the hub's web API gets: the stores and services, the request and its
 * caller, and small helpers to read JSON and answer it. The caller (caller.ts) is worked out
 * once per request; handlers ask {@link ApiContext.rights} what it may do on a repository.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RepositoryAction } from '../access.js';
import type { AccountStore } from '../auth/account-store.js';
import type { BuildService } from '../builds/build-service.js';
import type { Registry } from '../registry.js';
import { readBody } from '../routes/exchange.js';
import type { HubDataStore } from '../storage/hub-data-store.js';
import type { WebhookDispatcher } from '../webhooks/dispatcher.js';
import { invalid } from './api-error.js';

/** Who made a request. */
export interface Caller {
  /** The account (accounts on); undefined when anonymous. */
  account?: string;
  /** Set when the caller was authenticated by the session cookie. */
  session?: { token: string; csrf: string };
  loopback: boolean;
  address: string;
}

/** The services the API works on. */
export interface ApiServices {
  registry: Registry;
  data: HubDataStore;
  /** The account store; undefined when the hub runs without accounts. */
  accounts?: AccountStore;
  /** Verifies the request's Bearer token (of this hub); resolves its account ('' anonymous) or undefined when invalid. */
  verifyBearer?: (req: IncomingMessage) => Promise<string | undefined>;
  builds: BuildService;
  webhooks: WebhookDispatcher;
  /** True when the hub serves HTTPS (cookies get Secure). */
  secure: boolean;
  log: (line: string) => void;
}

/** One API request. */
export interface ApiContext extends ApiServices {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  caller: Caller;
  /** What the caller may do on `repository`. */
  rights(repository: string): Set<RepositoryAction>;
}

const ALL: RepositoryAction[] = ['pull', 'push', 'delete'];

/** What `caller` may do on `repository`: the account store's rules, or, without accounts, everything on loopback and pull elsewhere. */
export function rightsOf(services: ApiServices, caller: Caller, repository: string): Set<RepositoryAction> {
  if (services.accounts) return services.accounts.permissions(caller.account, repository);
  return new Set(caller.loopback ? ALL : ['pull']);
}

/** Largest JSON body the API reads. */
const MAX_JSON = 1024 * 1024;

/** Reads a JSON object body; INVALID when it is not one. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req, MAX_JSON);
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('the body must be a JSON object');
  return value as Record<string, unknown>;
}

/** Sends JSON with no caching (answers depend on the caller). */
export function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string | string[]> = {}): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

/** Sends 204. */
export function noContent(res: ServerResponse, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(204, { 'Cache-Control': 'no-store', ...headers });
  res.end();
}

/** RFC 3339 of ms since the epoch, or null. */
export function time(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** An optional string field of a body; INVALID when present and not a string of at most `max` characters. */
export function optString(body: Record<string, unknown>, key: string, max: number): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw invalid(`${key} must be a string of at most ${max} characters`);
  return v;
}

/** An optional boolean field. */
export function optBool(body: Record<string, unknown>, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(`${key} must be true or false`);
  return v;
}
