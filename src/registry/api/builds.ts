/**
 * Automated builds over the web API: build settings (owners only; the secret is write-only),
 * the build list and one build with its log, a live log as server-sent events, the manual
 * trigger, and the inbound push webhooks of GitHub and Bitbucket, which are authenticated by
 * their HMAC signature instead of a caller (builds/inbound.ts).
 */
import type { BuildRow } from '../storage/hub-data-store.js';
import { readBody } from '../routes/exchange.js';
import { type Provider, parseInbound, signatureHeader, verifySignature } from '../builds/inbound.js';
import { checkRules, matchRules, targetTag } from '../builds/rules.js';
import { ApiError, denied, invalid, notFound } from './api-error.js';
import { type ApiContext, json, optString, readJson, time } from './context.js';
import { editableRepository, visibleRepository } from './repositories.js';

/** Largest inbound webhook body (GitHub caps theirs at 25 MB; a push of 2048 commits is far less). */
const MAX_INBOUND = 5 * 1024 * 1024;

/** Clone URLs accepted: http(s), ssh, git, file, or scp-like `user@host:path`. */
const CLONE_URL = /^(?:(?:https?|ssh|git|file):\/\/[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$/;

function buildJson(b: BuildRow): Record<string, unknown> {
  return {
    id: b.id,
    status: b.status,
    trigger: b.trigger,
    source_ref: b.sourceRef,
    commit: b.commit ?? null,
    tag: b.tag,
    created_at: time(b.createdMs),
    started_at: time(b.startedMs),
    finished_at: time(b.finishedMs),
    duration_ms: b.startedMs !== undefined && b.finishedMs !== undefined ? b.finishedMs - b.startedMs : null,
    digest: b.digest ?? null,
  };
}

/** GET / PUT .../build-settings. */
export async function buildSettingsRoute(x: ApiContext, full: string): Promise<void> {
  editableRepository(x, full);
  const current = x.data.buildSettings(full);
  if (x.req.method === 'PUT') {
    const body = await readJson(x.req);
    const provider = optString(body, 'provider', 16);
    if (provider !== 'github' && provider !== 'bitbucket') throw invalid('provider must be "github" or "bitbucket"');
    const cloneUrl = optString(body, 'clone_url', 2048) ?? '';
    if (!CLONE_URL.test(cloneUrl) || cloneUrl.startsWith('-')) throw invalid('clone_url must be a git URL (https://, ssh://, git://, file:// or user@host:path)');
    // NOTE: a file:// URL reads the hub host's disk: on a hub with accounts only admins may
    // give one (without accounts only loopback clients can edit anyway).
    if (/^file:/i.test(cloneUrl) && x.accounts && !(x.caller.account && x.accounts.user(x.caller.account)?.admin)) {
      throw denied('only admins may build from file:// URLs');
    }
    const secret = optString(body, 'secret', 1024) ?? current?.secret ?? '';
    if (secret === '') throw invalid('secret is required: inbound webhooks are verified with it');
    const rules = checkRules(body.rules);
    x.data.setBuildSettings(full, { provider, cloneUrl, secret, rules });
  }
  const s = x.data.buildSettings(full);
  if (!s) throw notFound(`${full} has no build settings`);
  json(x.res, 200, { provider: s.provider, clone_url: s.cloneUrl, has_secret: s.secret !== '', rules: s.rules });
}

/** GET / POST .../builds. */
export async function buildsRoute(x: ApiContext, full: string): Promise<void> {
  if (x.req.method === 'GET') {
    visibleRepository(x, full);
    json(x.res, 200, x.data.builds(full).map(buildJson));
    return;
  }
  editableRepository(x, full);
  const settings = x.data.buildSettings(full);
  if (!settings) throw invalid(`${full} has no build settings`);
  const body = await readJson(x.req);
  const index = body.rule ?? 0;
  const rule = typeof index === 'number' && Number.isInteger(index) ? settings.rules[index] : undefined;
  if (!rule) throw invalid('rule must be the index of one of the build rules');
  const isRegex = rule.source.length > 1 && rule.source.startsWith('/') && rule.source.endsWith('/');
  const ref = optString(body, 'ref', 256) ?? (isRegex ? undefined : rule.source);
  if (ref === undefined) throw invalid('ref is required for a rule whose source is a regex');
  const tag = targetTag(rule, { type: rule.source_type, name: ref });
  if (tag === undefined) throw invalid(`${ref} does not match the rule's source ${rule.source}`);
  const build = x.builds.enqueue({ repository: full, trigger: 'manual', sourceRef: ref, tag, rule });
  json(x.res, 202, buildJson(build));
}

/** GET .../builds/:id. */
export async function getBuild(x: ApiContext, full: string, id: number): Promise<void> {
  visibleRepository(x, full);
  const b = x.data.build(full, id);
  if (!b) throw notFound(`build ${id} not found`);
  json(x.res, 200, { ...buildJson(b), log: await x.builds.logText(id) });
}

/** GET .../builds/:id/log: `text/event-stream` of log lines, then `event: end`. */
export async function buildLog(x: ApiContext, full: string, id: number): Promise<void> {
  visibleRepository(x, full);
  if (!x.data.build(full, id)) throw notFound(`build ${id} not found`);
  const res = x.res;
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
  const send = (line: string) => res.write(`data: ${line.replace(/[\r\n]/g, ' ')}\n\n`);
  const end = () => {
    const b = x.data.build(full, id);
    res.end(`event: end\ndata: ${b?.status ?? 'unknown'}\n\n`);
  };
  // NOTE: a comment line every 25 s keeps a quiet build's stream under the hub's idle timeout.
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
  keepAlive.unref();
  const follow = x.builds.follow(id, (line) => {
    if (line !== undefined) return send(line);
    clearInterval(keepAlive);
    end();
  });
  if (!follow) {
    clearInterval(keepAlive);
    for (const line of (await x.builds.logText(id)).split('\n')) if (line) send(line);
    end();
    return;
  }
  for (const line of follow.backlog) send(line);
  res.once('close', () => {
    clearInterval(keepAlive);
    follow.unsubscribe();
  });
}

/** POST /api/webhooks/{github,bitbucket}/:ns/:name. */
export async function inboundWebhook(x: ApiContext, provider: Provider, full: string): Promise<void> {
  const body = await readBody(x.req, MAX_INBOUND);
  const settings = x.data.buildSettings(full);
  if (!settings || settings.provider !== provider) throw notFound(`${full} has no ${provider} builds`);
  const header = x.req.headers[signatureHeader(provider)];
  if (!verifySignature(settings.secret, body, Array.isArray(header) ? header[0] : header)) {
    throw new ApiError('UNAUTHORIZED', 'missing or wrong webhook signature');
  }
  const event = parseInbound(provider, x.req.headers, body);
  if (!event) throw invalid(`not a ${provider} push payload`);
  if (event.kind === 'ignored') return json(x.res, 200, { queued: [], ignored: event.event });
  if (event.sourceUrl && event.sourceUrl !== settings.cloneUrl) {
    x.log(`build of ${full}: the ${provider} payload names ${event.sourceUrl}; cloning the configured ${settings.cloneUrl}`);
  }
  const matches = event.refs.flatMap((ref) => matchRules(settings.rules, ref).map((m) => ({ ref, m })));
  if (matches.length === 0) return json(x.res, 200, { queued: [] });
  x.builds.checkRoom(matches.length);
  const queued = matches.map(({ ref, m }) => x.builds.enqueue({ repository: full, trigger: provider, sourceRef: ref.name, commit: ref.commit, tag: m.tag, rule: m.rule }).id);
  json(x.res, 202, { queued });
}
