/**
 * Unit tests of the UI file server against a real HTTP server on port 0: the SPA fallback,
 * asset caching and types, the security headers, and path traversal refused.
 */
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { uiServer } from './static.js';

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function get(port: number, p: string, method = 'GET', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: p, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('uiServer', () => {
  let dir: string;
  let server: Server;
  let port: number;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hub-ui-'));
    await mkdir(path.join(dir, 'ui', 'assets'), { recursive: true });
    await writeFile(path.join(dir, 'ui', 'index.html'), '<!doctype html><title>hub</title>');
    await writeFile(path.join(dir, 'ui', 'assets', 'index-abc.js'), 'console.log(1)');
    await writeFile(path.join(dir, 'ui', 'assets', 'index-abc.css'), 'body{}');
    await writeFile(path.join(dir, 'secret.txt'), 'secret');
    const serve = uiServer(path.join(dir, 'ui'));
    server = createServer((req, res) => {
      void serve(req, res).then((done) => {
        if (!done) res.writeHead(404).end('hub 404');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers index.html for unknown paths, uncached, with the security headers', async () => {
    for (const p of ['/', '/r/alice/app', '/search?q=x', '/unknown.js']) {
      const a = await get(port, p);
      assert.equal(a.status, 200, p);
      assert.match(a.body, /<title>hub<\/title>/);
      assert.equal(a.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(a.headers['cache-control'], 'no-cache');
      assert.match(String(a.headers['content-security-policy']), /default-src 'self'/);
      assert.doesNotMatch(String(a.headers['content-security-policy']), /unsafe-inline/);
      assert.equal(a.headers['x-content-type-options'], 'nosniff');
      assert.equal(a.headers['x-frame-options'], 'DENY');
    }
  });

  it('serves assets with their type and a long immutable cache; a missing asset is 404', async () => {
    const js = await get(port, '/assets/index-abc.js');
    assert.equal(js.status, 200);
    assert.equal(js.body, 'console.log(1)');
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.match(String(js.headers['cache-control']), /max-age=31536000, immutable/);
    const css = await get(port, '/assets/index-abc.css');
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal((await get(port, '/assets/nope.js')).status, 404);
    const again = await get(port, '/assets/index-abc.js', 'GET', { 'if-none-match': String(js.headers.etag) });
    assert.equal(again.status, 304);
  });

  it('HEAD sends headers only; other methods are left to the hub', async () => {
    const head = await get(port, '/assets/index-abc.js', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], '14');
    assert.equal((await get(port, '/', 'POST')).body, 'hub 404');
  });

  it('never serves a file outside the UI directory', async () => {
    for (const p of ['/assets/../../secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/assets/%5c..%5csecret.txt', '/assets/a%00b']) {
      const a = await get(port, p);
      assert.notEqual(a.body, 'secret', p);
      assert.ok(a.status === 404 || a.status === 400 || (a.status === 200 && a.body.includes('<title>hub')), `${p}: ${a.status}`);
    }
  });
});
