/**
 * Content digests as the OCI image spec defines them: `algorithm ":" encoded`.
 * https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests
 *
 * gantry computes sha256 only (what every registry and Docker use); sha512 digests parse so
 * that foreign descriptors can be carried, but content is always verified with its own
 * algorithm.
 */
import { createHash, type Hash } from 'node:crypto';
import { GantryError } from './errors.js';

/** A validated digest string such as `sha256:9f86d0...`. */
export type Digest = `${string}:${string}`;

const ENCODED_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };
const DIGEST_RE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** Parses and validates `value` as a digest; throws INVALID_ARGUMENT with the input on failure. */
export function parseDigest(value: string): Digest {
  const m = DIGEST_RE.exec(value);
  if (!m) throw new GantryError('INVALID_ARGUMENT', `invalid digest: ${JSON.stringify(value)}`);
  const [, algorithm, encoded] = m as unknown as [string, string, string];
  const length = ENCODED_LENGTH[algorithm];
  if (length === undefined) {
    throw new GantryError('INVALID_ARGUMENT', `unsupported digest algorithm: ${JSON.stringify(value)}`);
  }
  if (encoded.length !== length || !/^[a-f0-9]+$/.test(encoded)) {
    throw new GantryError('INVALID_ARGUMENT', `invalid checksum digest format: ${JSON.stringify(value)}`);
  }
  return value as Digest;
}

/** True when `value` is a well-formed digest. */
export function isDigest(value: string): value is Digest {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

/** The algorithm part of a digest (`sha256`). */
export function digestAlgorithm(digest: Digest): string {
  return digest.slice(0, digest.indexOf(':'));
}

/** The encoded (hex) part of a digest. */
export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

/** sha256 digest of a buffer or string. */
export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** An incremental digester: feed chunks, then read the digest. */
export class Digester {
  private readonly hash: Hash;
  private bytes = 0;
  constructor(readonly algorithm: 'sha256' | 'sha512' = 'sha256') {
    this.hash = createHash(algorithm);
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }
  /** Number of bytes fed so far. */
  get size(): number {
    return this.bytes;
  }
  digest(): Digest {
    return `${this.algorithm}:${this.hash.digest('hex')}`;
  }
}

/**
 * The chain ID of a layer stack, as the image spec defines it:
 * ChainID(L0) = DiffID(L0); ChainID(L0|...|Ln) = sha256(ChainID(L0|...|Ln-1) + " " + DiffID(Ln)).
 * https://github.com/opencontainers/image-spec/blob/main/config.md#layer-chainid
 */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const diffId of diffIds) {
    const parent = out[out.length - 1];
    out.push(parent === undefined ? diffId : sha256(`${parent} ${diffId}`));
  }
  return out;
}

/** Docker's short image ID: the first 12 hex characters. */
export function shortId(digestOrId: string): string {
  const hex = digestOrId.includes(':') ? digestOrId.slice(digestOrId.indexOf(':') + 1) : digestOrId;
  return hex.slice(0, 12);
}
