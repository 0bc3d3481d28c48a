import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HubDataStore } from '../storage/hub-data-store.js';
import { SqliteMetadataStore } from '../storage/sqlite-metadata-store.js';
import { MAX_ATTEMPTS, type PushPayload, WebhookDispatcher } from './dispatcher.js';

const payload = { push_data: { tag: 'v1' } } as unknown as PushPayload;

describe('WebhookDispatcher', () => {
  let dir: string;
  let meta: SqliteMetadataStore;
  let data: HubDataStore;
  let status = 500;
  let hits: number[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits.push(Date.now());
      res.writeHead(status).end();
    });
  });
  let url: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-hub-hooks-'));
    meta = new SqliteMetadataStore(dir);
    data = new HubDataStore(meta.db);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    server.close();
    meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives up after five attempts with doubling delays, and records the last error', async () => {
    hits = [];
    status = 500;
    const hook = data.addWebhook('a/b', 'x', url);
    const d = new WebhookDispatcher({ store: data, retryBaseMs: 20, log: () => undefined });
    d.pushed('a/b', payload);
    for (let i = 0; i < 100 && data.deliveries(hook.id)[0]?.status === 'pending'; i++) await sleep(20);
    const [delivery] = data.deliveries(hook.id);
    assert.equal(delivery?.status, 'failed');
    assert.equal(delivery?.attempts, MAX_ATTEMPTS);
    assert.equal(delivery?.responseStatus, 500);
    assert.equal(delivery?.lastError, 'HTTP 500');
    assert.equal(hits.length, MAX_ATTEMPTS);
    const gaps = hits.slice(1).map((t, i) => t - (hits[i] as number));
    assert.ok(gaps[3]! >= 150 && gaps[0]! >= 15, `gaps ${gaps.join(',')}`);
    await d.close();
  });

  it('resumes pending deliveries at start and stops retrying at close', async () => {
    hits = [];
    status = 200;
    const hook = data.addWebhook('c/d', 'y', url);
    data.addDelivery(hook.id, 'push', '{}');
    const d = new WebhookDispatcher({ store: data, retryBaseMs: 20, log: () => undefined });
    d.resume();
    for (let i = 0; i < 100 && data.deliveries(hook.id)[0]?.status === 'pending'; i++) await sleep(20);
    assert.equal(data.deliveries(hook.id)[0]?.status, 'delivered');
    assert.equal(hits.length, 1);
    await d.close();
    d.pushed('c/d', payload);
    await sleep(50);
    assert.equal(hits.length, 1); // closed: recorded, not sent
    assert.equal(data.deliveries(hook.id)[0]?.status, 'pending');
  });
});
