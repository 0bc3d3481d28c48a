/**
 * `/api/repositories/:ns/:name/webhooks`: a repository's outgoing webhooks and their delivery
 * history (webhooks/dispatcher.ts sends them). Owners only; a URL must be http(s).
 */
import { invalid, notFound } from './api-error.js';
import { type ApiContext, json, noContent, optString, readJson, time } from './context.js';
import { editableRepository } from './repositories.js';

/** GET and POST .../webhooks. */
export async function webhooksRoute(x: ApiContext, full: string): Promise<void> {
  editableRepository(x, full);
  if (x.req.method === 'GET') {
    json(x.res, 200, x.data.webhooks(full).map((w) => ({ id: w.id, name: w.name, url: w.url, created_at: time(w.createdMs) })));
    return;
  }
  const body = await readJson(x.req);
  const url = optString(body, 'url', 2048) ?? '';
  const name = optString(body, 'name', 200) ?? '';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('url must be an absolute http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid('url must be an absolute http(s) URL');
  if (x.data.webhooks(full).length >= 50) throw invalid('a repository has at most 50 webhooks');
  const w = x.data.addWebhook(full, name || parsed.host, url);
  json(x.res, 201, { id: w.id, name: w.name, url: w.url, created_at: time(w.createdMs) });
}

/** DELETE .../webhooks/:id. */
export async function deleteWebhook(x: ApiContext, full: string, id: number): Promise<void> {
  editableRepository(x, full);
  if (!x.data.deleteWebhook(full, id)) throw notFound(`webhook ${id} not found`);
  noContent(x.res);
}

/** GET .../webhooks/:id/deliveries. */
export async function deliveries(x: ApiContext, full: string, id: number): Promise<void> {
  editableRepository(x, full);
  if (!x.data.webhook(full, id)) throw notFound(`webhook ${id} not found`);
  json(
    x.res,
    200,
    x.data.deliveries(id).map((d) => ({
      id: d.id,
      event: d.event,
      status: d.status,
      attempts: d.attempts,
      response_status: d.responseStatus ?? null,
      last_error: d.lastError ?? null,
      created_at: time(d.createdMs),
      delivered_at: time(d.deliveredMs),
    })),
  );
}
