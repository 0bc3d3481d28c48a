/**
 * The key that signs the hub's tokens. By default an ECDSA P-256 key (ES256) generated into
 * the data directory on first use (`<dataDir>/auth/token-key.pem`, mode 0600); a configured
 * PEM file may hold an EC P-256 or RSA (≥ 2048 bits, RS256) key instead.
 *
 * The key's ID, the JWT header's `kid`, is libtrust's fingerprint of the public key (SHA-256
 * of its DER SubjectPublicKeyInfo, the first 240 bits in base32, grouped by four with colons):
 * the form distribution's token access controller looks keys up by, so a distribution
 * registry given this key's public half trusts the hub's tokens as well.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { tempSibling } from '../../core/atomic-file.js';
import { errors, isErrno } from '../../core/errors.js';

/** The JWS algorithms the hub signs with. */
export type SigningAlgorithm = 'ES256' | 'RS256';

/** A private key with what signing and verifying need to know about it. */
export interface SigningKey {
  alg: SigningAlgorithm;
  /** libtrust key ID of the public key. */
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Describes `privateKey` for signing; refuses key types the hub does not sign with. */
export function signingKeyFrom(privateKey: KeyObject): SigningKey {
  if (privateKey.type !== 'private') throw errors.invalid('the token signing key is not a private key');
  const details = privateKey.asymmetricKeyDetails ?? {};
  let alg: SigningAlgorithm;
  if (privateKey.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') alg = 'ES256';
  else if (privateKey.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) alg = 'RS256';
  else {
    throw errors.invalid(
      `unsupported token signing key (${privateKey.asymmetricKeyType ?? 'unknown'}${details.namedCurve ? ` ${details.namedCurve}` : ''}${details.modulusLength ? ` ${details.modulusLength} bits` : ''})`,
      { hint: 'use an EC P-256 key (ES256) or an RSA key of at least 2048 bits (RS256)' },
    );
  }
  const publicKey = createPublicKey(privateKey);
  return { alg, kid: libtrustKeyId(publicKey), privateKey, publicKey };
}

/** Reads a PEM private key file (PKCS#8, SEC1 or PKCS#1). */
export async function readSigningKey(path: string): Promise<SigningKey> {
  let pem: Buffer;
  try {
    pem = await readFile(path);
  } catch (err) {
    throw errors.invalid(`cannot read the token signing key ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parsePem(pem, path);
}

function parsePem(pem: Buffer, path: string): SigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw errors.invalid(`the token signing key ${path} is not a PEM private key: ${(err as Error).message}`, { cause: err });
  }
  return signingKeyFrom(key);
}

/**
 * The key at `path`, generated (EC P-256, PKCS#8 PEM, mode 0600) when the file does not exist.
 * Two hubs starting at once on the same data directory end up with the same key: the new key
 * is written to a temporary file and linked into place, and whoever loses the race reads the
 * winner's.
 */
export async function loadOrCreateSigningKey(path: string): Promise<SigningKey> {
  try {
    return parsePem(await readFile(path), path);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tmp = tempSibling(path);
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(privateKey.export({ type: 'pkcs8', format: 'pem' }));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(tmp, 0o600); // whatever the umask
    await link(tmp, path).catch((err: unknown) => {
      if (!isErrno(err, 'EEXIST')) throw err;
    });
  } finally {
    await rm(tmp, { force: true });
  }
  return readSigningKey(path);
}

/** libtrust's key ID: SHA-256 of the DER public key, 30 bytes, base32 in colon-separated groups of four. */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const b32 = base32(createHash('sha256').update(der).digest().subarray(0, 30));
  return b32.match(/.{1,4}/g)?.join(':') ?? b32;
}

/** The public key as a JWK (RFC 7517) with its `kid`, `alg` and `use`, for a JWKS document. */
export function publicJwk(key: SigningKey): JsonWebKey {
  return { ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, alg: key.alg, use: 'sig' };
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding. */
function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}
