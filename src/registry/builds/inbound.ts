/**
 * Inbound push webhooks of source hosts, verified and reduced to what a build needs: the refs
 * pushed, with their commits.
 *
 * - GitHub (`push` event, https://docs.github.com/en/webhooks/webhook-events-and-payloads#push):
 *   `X-GitHub-Event: push` (`ping` is answered and ignored), `X-Hub-Signature-256:
 *   sha256=<hex HMAC-SHA256(secret, raw body)>`; payload `ref` (`refs/heads/X` or
 *   `refs/tags/Y`), `after` (the commit), `deleted`, `repository.clone_url`.
 * - Bitbucket Cloud (`repo:push`, https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/):
 *   `X-Event-Key: repo:push`, `X-Hub-Signature: sha256=<hex>` (its webhook secret); payload
 *   `push.changes[].new` = `{type: branch|tag, name, target: {hash}}` (`null` for a deleted
 *   ref), `repository.links.html.href`, `repository.full_name`.
 *
 * The signature is checked over the raw bytes before the body is parsed, in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PushedRef } from './rules.js';

/** A source host. */
export type Provider = 'github' | 'bitbucket';

/** A pushed ref with its commit. */
export interface PushedCommit extends PushedRef {
  commit?: string;
}

/** What an inbound webhook said. */
export type InboundEvent =
  /** Not a push (GitHub's `ping` when the hook is made): answered 200, nothing built. */
  | { kind: 'ignored'; event: string }
  | { kind: 'push'; refs: PushedCommit[]; sourceUrl?: string };

/** True when `header` is `sha256=<hex>` of HMAC-SHA256(secret, body). */
export function verifySignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!secret || !header) return false;
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(m[1] as string, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The signature header each provider sends. */
export function signatureHeader(provider: Provider): string {
  return provider === 'github' ? 'x-hub-signature-256' : 'x-hub-signature';
}

/** Parses a verified body; undefined when it is not a payload of the provider's shape. */
export function parseInbound(provider: Provider, headers: Record<string, string | string[] | undefined>, body: Buffer): InboundEvent | undefined {
  const header = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (typeof doc !== 'object' || doc === null) return undefined;
  } catch {
    return undefined;
  }
  if (provider === 'github') {
    const event = header('x-github-event') ?? '';
    if (event !== 'push') return { kind: 'ignored', event };
    const ref = typeof doc.ref === 'string' ? doc.ref : '';
    const repo = (doc.repository ?? {}) as Record<string, unknown>;
    const sourceUrl = typeof repo.clone_url === 'string' ? repo.clone_url : undefined;
    const parsed = parseGitRef(ref);
    if (!parsed || doc.deleted === true) return { kind: 'push', refs: [], sourceUrl };
    return { kind: 'push', refs: [{ ...parsed, commit: typeof doc.after === 'string' ? doc.after : undefined }], sourceUrl };
  }
  const event = header('x-event-key') ?? '';
  if (event !== 'repo:push') return { kind: 'ignored', event };
  const push = (doc.push ?? {}) as { changes?: unknown };
  if (!Array.isArray(push.changes)) return undefined;
  const refs: PushedCommit[] = [];
  for (const change of push.changes as { new?: { type?: unknown; name?: unknown; target?: { hash?: unknown } } | null }[]) {
    const n = change?.new;
    if (!n || (n.type !== 'branch' && n.type !== 'tag') || typeof n.name !== 'string') continue;
    refs.push({ type: n.type, name: n.name, commit: typeof n.target?.hash === 'string' ? n.target.hash : undefined });
  }
  const repo = (doc.repository ?? {}) as { links?: { html?: { href?: unknown } }; full_name?: unknown };
  const href = repo.links?.html?.href;
  return { kind: 'push', refs, sourceUrl: typeof href === 'string' ? href : typeof repo.full_name === 'string' ? repo.full_name : undefined };
}

/** `refs/heads/X` → branch X, `refs/tags/Y` → tag Y. */
export function parseGitRef(ref: string): PushedRef | undefined {
  if (ref.startsWith('refs/heads/') && ref.length > 11) return { type: 'branch', name: ref.slice(11) };
  if (ref.startsWith('refs/tags/') && ref.length > 10) return { type: 'tag', name: ref.slice(10) };
  return undefined;
}
