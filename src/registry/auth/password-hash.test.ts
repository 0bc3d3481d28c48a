import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGantryError } from '../../core/errors.js';
import { DEFAULT_SCRYPT, hashPassword, needsRehash, verifyPassword } from './password-hash.js';

const FAST = { ln: 10, r: 8, p: 1 };

describe('password hashes', () => {
  it('hash with scrypt, a fresh salt each time, and verify only the right password', async () => {
    const a = await hashPassword('correct horse', FAST);
    const b = await hashPassword('correct horse', FAST);
    assert.match(a, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.notEqual(a, b, 'salted');
    assert.ok(!a.includes('correct horse'));
    assert.equal(await verifyPassword('correct horse', a), true);
    assert.equal(await verifyPassword('correct horse', b), true);
    assert.equal(await verifyPassword('correct hors', a), false);
    assert.equal(await verifyPassword('', a), false);
  });

  it('use the default cost (N = 2^15) unless told otherwise, and say when a hash is weaker', async () => {
    const h = await hashPassword('pw');
    assert.ok(h.startsWith(`$scrypt$ln=${DEFAULT_SCRYPT.ln},r=8,p=1$`));
    assert.equal(DEFAULT_SCRYPT.ln >= 15, true);
    assert.equal(needsRehash(h), false);
    assert.equal(needsRehash(await hashPassword('pw', FAST)), true);
  });

  it('never match a malformed or tampered stored string', async () => {
    const h = await hashPassword('pw', FAST);
    assert.equal(await verifyPassword('pw', 'pw'), false);
    assert.equal(await verifyPassword('pw', ''), false);
    assert.equal(await verifyPassword('pw', h.replace('ln=10', 'ln=99')), false);
    // A character inside the hash (the last one carries padding bits).
    const i = h.length - 10;
    const tampered = `${h.slice(0, i)}${h[i] === 'A' ? 'B' : 'A'}${h.slice(i + 1)}`;
    assert.equal(await verifyPassword('pw', tampered), false);
  });

  it('refuse empty and oversized passwords', async () => {
    await assert.rejects(hashPassword('', FAST), (e) => isGantryError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(hashPassword('x'.repeat(1025), FAST), (e) => isGantryError(e, 'INVALID_ARGUMENT'));
  });
});
