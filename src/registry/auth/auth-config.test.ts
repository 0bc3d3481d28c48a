import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGantryError } from '../../core/errors.js';
import { parseAuthConfig, parseDurationSeconds } from './auth-config.js';

const invalid = (raw: unknown, re: RegExp) =>
  assert.throws(() => parseAuthConfig(raw), (e) => isGantryError(e, 'INVALID_ARGUMENT') && re.test(e.message), JSON.stringify(raw));

describe('auth configuration', () => {
  it('is off without a section and on with defaults for an empty one', () => {
    assert.equal(parseAuthConfig(undefined), undefined);
    const defaults = {
      token: { realm: '/token', service: 'gantry-hub', issuer: 'gantry-hub', expirationSeconds: 300, refreshExpirationSeconds: 720 * 3600, key: undefined },
      allowAnonymousPull: true,
      defaultVisibility: 'public',
    };
    assert.deepEqual(parseAuthConfig(null), defaults);
    assert.deepEqual(parseAuthConfig({}), defaults);
    assert.deepEqual(parseAuthConfig({ token: null }), defaults);
  });

  it('reads every key, in any case', () => {
    const c = parseAuthConfig({
      token: { Realm: 'https://hub.example.com/auth/token', service: 'hub.example.com', issuer: 'hub-issuer', expiration: '15m', refreshExpiration: 86400, key: '/etc/k.pem' },
      allowAnonymousPull: false,
      defaultvisibility: 'private',
    });
    assert.deepEqual(c, {
      token: { realm: 'https://hub.example.com/auth/token', service: 'hub.example.com', issuer: 'hub-issuer', expirationSeconds: 900, refreshExpirationSeconds: 86400, key: '/etc/k.pem' },
      allowAnonymousPull: false,
      defaultVisibility: 'private',
    });
  });

  it('refuses unknown keys and bad values, naming the key', () => {
    invalid({ tokens: {} }, /unknown key auth\.tokens/);
    invalid({ token: { rootcertbundle: 'x' } }, /unknown key auth\.token\.rootcertbundle/);
    invalid({ token: { service: 'a', Service: 'b' } }, /auth\.token\.Service is given twice/);
    invalid('yes', /auth must be a mapping/);
    invalid({ token: [] }, /auth\.token must be a mapping/);
    invalid({ token: { service: '' } }, /auth\.token\.service must be a non-empty string/);
    invalid({ token: { issuer: 5 } }, /auth\.token\.issuer must be a non-empty string/);
    invalid({ token: { expiration: '30s' } }, /auth\.token\.expiration must be between 60s and 24h/);
    invalid({ token: { expiration: '48h' } }, /between 60s and 24h/);
    invalid({ token: { expiration: 'soon' } }, /auth\.token\.expiration invalid duration "soon"/);
    invalid({ token: { expiration: true } }, /auth\.token\.expiration must be a duration/);
    invalid({ token: { refreshexpiration: '10s' } }, /refreshexpiration must be at least 60s/);
    invalid({ token: { realm: 'ftp://x/token' } }, /auth\.token\.realm must be an http\(s\) URL/);
    invalid({ token: { realm: 'token' } }, /auth\.token\.realm must be an http\(s\) URL or a path/);
    invalid({ token: { realm: '/v2/token' } }, /auth\.token\.realm/);
    invalid({ token: { realm: 'http://h/t?x=1' } }, /without query/);
    invalid({ allowanonymouspull: 'yes' }, /auth\.allowanonymouspull must be true or false/);
    invalid({ defaultvisibility: 'internal' }, /auth\.defaultvisibility must be "public" or "private"/);
  });

  it('parses Go-style durations and seconds', () => {
    assert.equal(parseDurationSeconds('1h30m'), 5400);
    assert.equal(parseDurationSeconds('90s'), 90);
    assert.equal(parseDurationSeconds('1.5m'), 90);
    assert.equal(parseDurationSeconds(120), 120);
    for (const bad of ['', '5', '5 m', 'm', '5d', '-5m']) assert.throws(() => parseDurationSeconds(bad), /invalid duration/, bad);
  });
});
