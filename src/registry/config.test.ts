import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isGantryError } from '../core/errors.js';
import { packageRoot } from '../core/package-root.js';
import { parseDuration, parseHubConfig, parseSize, resolveHubConfig } from './config.js';

describe('hub configuration', () => {
  it('has the documented defaults', () => {
    const c = resolveHubConfig({});
    assert.equal(c.listen, '127.0.0.1:5000');
    assert.equal(c.maxManifestBytes, 4 * 1024 * 1024);
    assert.equal(c.maxBlobBytes, 0);
    assert.equal(c.deleteEnabled, true);
    assert.equal(c.gcGracePeriodMs, 3_600_000);
    assert.equal(c.rateLimit.requestsPerSecond, 0);
    assert.equal(c.proxy, undefined);
    assert.equal(c.tls, undefined);
    assert.equal(c.webhookRetryBaseMs, 1000);
    assert.equal(c.buildsEnabled, true);
    assert.equal(c.buildQueueSize, 20);
  });

  it('reads the web API keys, naming a bad one', () => {
    const c = resolveHubConfig(parseHubConfig('webhooks: {retrybase: 250ms}\nbuilds: {enabled: false, queuesize: 3}\n'));
    assert.equal(c.webhookRetryBaseMs, 250);
    assert.equal(c.buildsEnabled, false);
    assert.equal(c.buildQueueSize, 3);
    assert.throws(() => parseHubConfig('builds: {queue: 3}'), /unknown key builds\.queue/);
    assert.throws(() => resolveHubConfig({ webhooks: { retrybase: 'soon' } }), /webhooks\.retrybase/);
  });

  it('reads the example file of examples/hub/config.yml', () => {
    const text = readFileSync(join(packageRoot(), 'examples/hub/config.yml'), 'utf8');
    const c = resolveHubConfig(parseHubConfig(text));
    assert.equal(c.listen, '127.0.0.1:5000');
    assert.equal(c.maxManifestBytes, 4 * 1024 * 1024);
    assert.equal(c.uploadPurging.ageMs, 168 * 3_600_000);
    assert.equal(c.rateLimit.requestsPerSecond, 50);
  });

  it('parses durations and sizes', () => {
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration(90), 90_000);
    assert.equal(parseDuration('0'), 0);
    assert.throws(() => parseDuration('soon'));
    assert.throws(() => parseDuration('5 m'));
    assert.equal(parseSize('4MiB'), 4 * 1024 * 1024);
    assert.equal(parseSize('10GB'), 10e9);
    assert.equal(parseSize(512), 512);
    assert.throws(() => parseSize('4 parsecs'));
  });

  it('refuses unknown keys and bad values, naming them', () => {
    assert.throws(() => parseHubConfig('http:\n  adr: x\n'), (e) => isGantryError(e, 'INVALID_ARGUMENT') && /unknown key http\.adr/.test(e.message));
    assert.throws(() => parseHubConfig('http: [1'), (e) => isGantryError(e, 'INVALID_ARGUMENT'));
    assert.throws(() => resolveHubConfig({ proxy: { remoteurl: 'ftp://x' } }), /proxy\.remoteurl/);
    assert.throws(() => resolveHubConfig({ ratelimit: { requestspersecond: -1 } }), /ratelimit\.requestspersecond/);
    assert.throws(() => resolveHubConfig({ http: { tls: { certificate: 'c' } as never } }), /http\.tls/);
  });

  it('carries the auth section through untouched', () => {
    const auth = { token: { realm: 'x', anything: [1, 2] } };
    assert.deepEqual(resolveHubConfig(parseHubConfig(JSON.stringify({ auth }))).auth, auth);
  });
});
