/**
 * Password hashes for the hub's accounts: scrypt (RFC 7914) from node:crypto, a random salt per
 * hash, compared in constant time. The parameters travel in the stored string
 * (`$scrypt$ln=15,r=8,p=1$<salt>$<hash>`, PHC string format), so the cost can be raised later
 * without invalidating existing hashes: a hash made with older parameters still verifies and
 * `needsRehash` says when to replace it.
 *
 * Why scrypt: it is memory-hard (2^15 × 8 × 128 bytes = 32 MiB per hash by default) and ships
 * with Node, so the hub needs no native bcrypt/argon2 package. Hashing runs on libuv's thread
 * pool (the callback API), so a login never blocks the event loop that serves pulls.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { errors } from '../../core/errors.js';

/** scrypt's cost parameters. */
export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  ln: number;
  /** Block size r. */
  r: number;
  /** Parallelism p. */
  p: number;
}

/**
 * The default: N = 2^15, r = 8, p = 1 — 32 MiB and about 100 ms per hash on the build machine,
 * twice the cost Django uses. OWASP suggests up to N = 2^17; stored hashes carry their
 * parameters, so raising this later only needs a rehash at the next login.
 */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = { ln: 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const MAX_PASSWORD_BYTES = 1024;
const PHC_RE = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Hashes `password` with a fresh random salt. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  checkPassword(password);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, HASH_BYTES);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

/**
 * True when `password` matches `stored`. A malformed stored string never matches. The
 * comparison of the derived keys is constant-time.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = PHC_RE.exec(stored);
  if (!m || Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return false;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (!saneParams(params)) return false;
  const salt = Buffer.from(m[4] as string, 'base64');
  const expected = Buffer.from(m[5] as string, 'base64');
  const actual = await derive(password, salt, params, expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Spends the time a verification takes, for a user that does not exist: without it, the
 * token endpoint's answer time would tell which user names exist.
 */
export async function spendVerification(password: string): Promise<void> {
  await derive(password.slice(0, MAX_PASSWORD_BYTES), DUMMY_SALT, DEFAULT_SCRYPT, HASH_BYTES);
}

/** True when `stored` was made with parameters weaker than `params`. */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const m = PHC_RE.exec(stored);
  return !m || Number(m[1]) < params.ln || Number(m[2]) < params.r || Number(m[3]) < params.p;
}

/** Throws INVALID_ARGUMENT for a password the hub does not accept (empty, or over 1 KiB). */
export function checkPassword(password: string): void {
  if (password === '') throw errors.invalid('the password is empty');
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
    throw errors.invalid(`the password is longer than ${MAX_PASSWORD_BYTES} bytes`);
  }
}

const DUMMY_SALT = Buffer.alloc(SALT_BYTES);

function saneParams(p: ScryptParams): boolean {
  return p.ln >= 1 && p.ln <= 20 && p.r >= 1 && p.r <= 32 && p.p >= 1 && p.p <= 16;
}

function derive(password: string, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  const N = 2 ** params.ln;
  // NOTE: scrypt needs 128 × N × r bytes; Node refuses anything over `maxmem` (32 MiB by
  // default, exactly the default cost), so allow twice what the parameters need.
  const maxmem = 256 * N * params.r;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, { N, r: params.r, p: params.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function b64(b: Buffer): string {
  return b.toString('base64').replace(/=+$/, '');
}
