import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isGantryError } from '../../core/errors.js';
import { InvalidTokenError, issueToken, signToken, verifyToken } from './jwt.js';
import { libtrustKeyId, loadOrCreateSigningKey, readSigningKey, type SigningKey, signingKeyFrom } from './signing-key.js';

const OPTS = { issuer: 'iss', audience: 'svc' };
const ACCESS = [{ type: 'repository', name: 'alice/web', actions: ['pull'] }];
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const part = (token: string, i: number) => JSON.parse(Buffer.from(token.split('.')[i]!, 'base64url').toString()) as Record<string, unknown>;
const refused = (fn: () => unknown, why: RegExp) => assert.throws(fn, (e) => e instanceof InvalidTokenError && why.test(e.message));

describe('tokens (JWT)', () => {
  let dir: string;
  let ec: SigningKey;
  let rsa: SigningKey;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-jwt-'));
    ec = await loadOrCreateSigningKey(join(dir, 'auth', 'key.pem'));
    rsa = signingKeyFrom(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generate an EC P-256 key once, mode 0600, and read the same key back', async () => {
    const path = join(dir, 'auth', 'key.pem');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(ec.alg, 'ES256');
    assert.match(ec.kid, /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/, 'libtrust key ID form');
    const again = await loadOrCreateSigningKey(path);
    assert.equal(again.kid, ec.kid);
    const [a, b] = await Promise.all([loadOrCreateSigningKey(join(dir, 'race.pem')), loadOrCreateSigningKey(join(dir, 'race.pem'))]);
    assert.equal(a.kid, b.kid, 'racing starts agree on one key');
  });

  it('compute the libtrust key ID of a known key', () => {
    // Expected value computed apart: openssl pkey -pubout -outform DER | sha256, 30 bytes, base32.
    const pem = [
      '-----BEGIN PRIVATE KEY-----',
      'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbvSeDU+SIk05TrYR',
      'VZhJ+NVpEfOn+KnF8tNByTY+CL2hRANCAARbPL8QNzvXZHXnrzzPO8sDbGIc8fv9',
      'SEkoJRwmBXQIgvh8zgyaZ4JBtToBA3MqjHWTaUNtHEfryADZ8Mq4vxd3',
      '-----END PRIVATE KEY-----',
    ].join('\n');
    const key = signingKeyFrom(createPrivateKey(pem));
    assert.equal(key.kid, 'UBEE:P3NI:3PMG:OY7W:CXVP:NMMQ:IZYN:VLD6:AQ7T:XCBE:U3EH:PDPM');
    assert.equal(libtrustKeyId(key.publicKey), key.kid);
  });

  it('read configured PEM keys and refuse the ones it cannot sign with', async () => {
    const rsaFile = join(dir, 'rsa.pem');
    await writeFile(rsaFile, rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }));
    assert.equal((await readSigningKey(rsaFile)).alg, 'RS256');
    const p384 = join(dir, 'p384.pem');
    await writeFile(p384, generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await assert.rejects(readSigningKey(p384), (e) => isGantryError(e, 'INVALID_ARGUMENT') && /secp384r1/.test(e.message));
    const small = join(dir, 'small.pem');
    await writeFile(small, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await assert.rejects(readSigningKey(small), (e) => isGantryError(e, 'INVALID_ARGUMENT'));
    await writeFile(join(dir, 'junk.pem'), 'not a key');
    await assert.rejects(readSigningKey(join(dir, 'junk.pem')), (e) => isGantryError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(readSigningKey(join(dir, 'missing.pem')), (e) => isGantryError(e, 'INVALID_ARGUMENT'));
  });

  for (const which of ['ES256', 'RS256'] as const) {
    it(`sign ${which} tokens with distribution's claims and verify them`, () => {
      const key = which === 'ES256' ? ec : rsa;
      const { token, claims } = issueToken(key, { issuer: 'iss', audience: 'svc', subject: 'alice', access: ACCESS, ttlSeconds: 300 });
      assert.deepEqual(part(token, 0), { typ: 'JWT', alg: which, kid: key.kid });
      const body = part(token, 1);
      assert.deepEqual(Object.keys(body).sort(), ['access', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'sub']);
      assert.equal(body.exp, (body.iat as number) + 300);
      assert.deepEqual(verifyToken(token, key, OPTS), claims);
      if (which === 'ES256') assert.equal(Buffer.from(token.split('.')[2]!, 'base64url').length, 64, 'r‖s, not DER');
    });
  }

  it('refuse forged, re-signed, unsigned and alg-swapped tokens', () => {
    const { token } = issueToken(ec, { issuer: 'iss', audience: 'svc', subject: 'bob', access: ACCESS, ttlSeconds: 300 });
    const [h, c, s] = token.split('.') as [string, string, string];
    // Same signature, more access.
    const more = { ...part(token, 1), access: [{ type: 'repository', name: 'alice/web', actions: ['pull', 'push'] }] };
    refused(() => verifyToken(`${h}.${b64(more)}.${s}`, ec, OPTS), /bad signature/);
    // Signed by another key that claims to be ours.
    const other = signingKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const impostor = signToken({ ...other, kid: ec.kid }, part(token, 1));
    refused(() => verifyToken(impostor, ec, OPTS), /bad signature/);
    refused(() => verifyToken(signToken(other, part(token, 1)), ec, OPTS), /unknown key/);
    // alg none, with and without a signature.
    const none = b64({ typ: 'JWT', alg: 'none', kid: ec.kid });
    refused(() => verifyToken(`${none}.${c}.`, ec, OPTS), /algorithm/);
    refused(() => verifyToken(`${none}.${c}.${s}`, ec, OPTS), /algorithm/);
    // RS256 claimed for an EC key; HS256 with the public key as secret.
    refused(() => verifyToken(`${b64({ typ: 'JWT', alg: 'RS256', kid: ec.kid })}.${c}.${s}`, ec, OPTS), /algorithm/);
    refused(() => verifyToken(`${b64({ typ: 'JWT', alg: 'HS256', kid: ec.kid })}.${c}.${s}`, ec, OPTS), /algorithm/);
    refused(() => verifyToken(`${b64({ typ: 'JWT', alg: 'ES256', kid: ec.kid, crit: ['x'] })}.${c}.${s}`, ec, OPTS), /critical/);
    // Empty or truncated signature; structure.
    refused(() => verifyToken(`${h}.${c}.`, ec, OPTS), /bad signature/);
    refused(() => verifyToken(`${h}.${c}.${s.slice(0, 40)}`, ec, OPTS), /bad signature/);
    refused(() => verifyToken(`${h}.${c}`, ec, OPTS), /malformed/);
    refused(() => verifyToken(`${h}.${c}.${s}.x`, ec, OPTS), /malformed/);
    refused(() => verifyToken(`!!.${c}.${s}`, ec, OPTS), /malformed/);
    refused(() => verifyToken(`${b64([1])}.${c}.${s}`, ec, OPTS), /malformed token header/);
  });

  it('refuse another issuer or audience', () => {
    const { token } = issueToken(ec, { issuer: 'iss', audience: 'svc', subject: 'a', access: [], ttlSeconds: 300 });
    refused(() => verifyToken(token, ec, { ...OPTS, issuer: 'other' }), /issuer/);
    refused(() => verifyToken(token, ec, { ...OPTS, audience: 'other' }), /audience/);
    const multi = signToken(ec, { ...part(token, 1), aud: ['x', 'svc'] });
    assert.equal(verifyToken(multi, ec, OPTS).aud, 'svc', 'an audience list naming the service');
  });

  it('refuse expired and not-yet-valid tokens, with a small leeway', () => {
    const now = 1_700_000_000;
    const { token } = issueToken(ec, { issuer: 'iss', audience: 'svc', subject: 'a', access: [], ttlSeconds: 300, now });
    assert.ok(verifyToken(token, ec, { ...OPTS, now: now + 300 }));
    assert.ok(verifyToken(token, ec, { ...OPTS, now: now + 320 }), 'within the leeway');
    refused(() => verifyToken(token, ec, { ...OPTS, now: now + 331 }), /expired/);
    assert.ok(verifyToken(token, ec, { ...OPTS, now: now - 20 }), 'within the leeway');
    refused(() => verifyToken(token, ec, { ...OPTS, now: now - 31 }), /not yet valid/);
    const noExp = signToken(ec, { iss: 'iss', aud: 'svc', sub: 'a', access: [] });
    refused(() => verifyToken(noExp, ec, { ...OPTS, now }), /without expiry/);
    const badAccess = signToken(ec, { ...part(token, 1), access: [{ type: 'repository', name: 'x', actions: 'pull' }] });
    refused(() => verifyToken(badAccess, ec, { ...OPTS, now }), /access/);
  });
});
