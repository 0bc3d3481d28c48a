/**
 * Names in the hub's URLs, checked against the distribution spec's grammar before anything
 * uses them: a repository name can never climb out of its place (`../x`, `a/../b`, `%2e`),
 * and a tag never reaches the metadata store unless it is one.
 * https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pulling-manifests
 */
import { type Digest, parseDigest } from '../core/digest.js';
import { HubError } from './errors.js';

/** `<name>`: path components of lowercase alphanumerics joined by `.`, `_`, `__` or dashes. */
const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
/** `<reference>` as a tag. */
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** Distribution's limit on a repository name's length. */
export const MAX_NAME_LENGTH = 255;

/** True when `name` is a valid repository name. */
export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_RE.test(name);
}

/** Returns `name` when it is a valid repository name; NAME_INVALID otherwise. */
export function checkRepositoryName(name: string): string {
  if (!isRepositoryName(name)) {
    throw new HubError('NAME_INVALID', 'invalid repository name', { detail: { name: name.slice(0, MAX_NAME_LENGTH + 1) } });
  }
  return name;
}

/** True when `tag` is a valid tag. */
export function isTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** A manifest reference from a URL: a tag or a digest. */
export type ManifestReference = { tag: string; digest?: undefined } | { digest: Digest; tag?: undefined };

/** Parses the `<reference>` of a manifest URL; MANIFEST_INVALID / DIGEST_INVALID when it is neither. */
export function parseManifestReference(value: string): ManifestReference {
  if (value.includes(':')) return { digest: parseDigestParam(value) };
  if (!isTag(value)) throw new HubError('MANIFEST_INVALID', 'invalid tag', { detail: { tag: value.slice(0, 200) } });
  return { tag: value };
}

/** Parses a digest from a URL or query; DIGEST_INVALID when malformed or of an unsupported algorithm. */
export function parseDigestParam(value: string): Digest {
  try {
    return parseDigest(value);
  } catch {
    throw new HubError('DIGEST_INVALID', 'provided digest did not match uploaded content', { detail: { digest: value.slice(0, 200), reason: 'malformed or unsupported digest' } });
  }
}
