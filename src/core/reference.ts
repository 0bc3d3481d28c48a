/**
 * Image references (`[domain/]path[:tag][@digest]`) parsed and normalised the way Docker
 * does it, so that every name a user types means the same image here as under `docker`.
 *
 * The grammar and the normalisation rules follow github.com/distribution/reference
 * (reference.go, regexp.go, normalize.go, helpers.go, v0.6): the same regular expressions,
 * the same decision of whether the first path component is a registry host, the same
 * `docker.io` / `library/` defaults and the same error messages, because users and scripts
 * match on Docker's wording.
 */
import type { Digest } from './digest.js';
import { GantryError } from './errors.js';

/** A parsed image reference. Always normalised: familiar names get `docker.io` and `library/`. */
export interface Reference {
  /** Registry host (with port), e.g. "docker.io", "localhost:5000". */
  domain: string;
  /** Repository path within the registry, e.g. "library/busybox", "a/b". */
  path: string;
  /** Tag, when the input had one (or `latest` added by {@link normalizeReference}). */
  tag?: string;
  /** Content digest, when the input pinned one with `@algorithm:hex`. */
  digest?: Digest;
}

// Docker Hub's canonical host, the legacy host it is written as, and the namespace of
// official images. "busybox" is short for docker.io/library/busybox.
const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const DEFAULT_TAG = 'latest';
/** Maximum length of the path (distribution/reference v0.6 no longer counts the domain). */
const NAME_MAX = 255;

// The grammar, built from the same pieces as distribution/reference's regexp.go so the two
// can be compared line by line. Path components are lowercase; hosts may be mixed case.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6_HOST = String.raw`\[(?:[a-fA-F0-9:]+)\]`;
const HOST = String.raw`(?:${DOMAIN_COMPONENT}(?:\.${DOMAIN_COMPONENT})*|${IPV6_HOST})`;
const DOMAIN_AND_PORT = `${HOST}(?::[0-9]+)?`;
const TAG = String.raw`[\w][\w.-]{0,127}`;
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}';

/** Whole reference: captures name, tag, digest. */
const REFERENCE_RE = new RegExp(`^((?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
/** A name alone: captures domain (optional) and path. */
const NAME_RE = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
/** A bare image ID: Docker refuses it as a name so that IDs and names never collide. */
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;

// go-digest's view of digests: the algorithms Docker links in and their hex lengths.
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const GO_DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function invalid(message: string): GantryError {
  return new GantryError('INVALID_ARGUMENT', message);
}

/** Validates a digest with go-digest v1's checks and messages (Docker prints them verbatim). */
function validateDigest(value: string): Digest {
  const i = value.indexOf(':');
  if (i <= 0 || i + 1 === value.length) throw invalid('invalid checksum digest format');
  const algorithm = value.slice(0, i);
  const encoded = value.slice(i + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) {
    throw invalid(GO_DIGEST_RE.test(value) ? 'unsupported digest algorithm' : 'invalid checksum digest format');
  }
  if (encoded.length !== length) throw invalid('invalid checksum digest length');
  if (!/^[a-f0-9]+$/.test(encoded)) throw invalid('invalid checksum digest format');
  return value as Digest;
}

/** distribution/reference's `Parse`: the grammar alone, no defaults applied. */
function parseStrict(input: string): Reference {
  const m = REFERENCE_RE.exec(input);
  if (!m) {
    const lower = input.toLowerCase();
    if (lower !== input && REFERENCE_RE.test(lower)) throw invalid('repository name must be lowercase');
    throw invalid('invalid reference format');
  }
  const name = m[1] ?? '';
  // A first component that is not a valid host (e.g. "foo_bar.com") stays part of the
  // path and the domain is empty, exactly as in Go.
  const nm = NAME_RE.exec(name);
  const ref: Reference = { domain: nm?.[1] ?? '', path: nm?.[2] ?? name };
  if (ref.path.length > NAME_MAX) {
    throw invalid(`repository name must not be more than ${NAME_MAX} characters`);
  }
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) ref.digest = validateDigest(m[3]);
  return ref;
}

/**
 * Splits a familiar name into registry host and the rest (`splitDockerDomain`). The first
 * component is a host only when it looks like one: "localhost", contains "." or ":", or has
 * uppercase letters (namespaces cannot, so it must be a hostname). Everything else is on
 * Docker Hub, and single-component Hub names live in `library/`.
 */
function splitDockerDomain(name: string): [domain: string, remainder: string] {
  const slash = name.indexOf('/');
  if (slash < 0) return [DEFAULT_DOMAIN, OFFICIAL_PREFIX + name];
  const first = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (first === LEGACY_DEFAULT_DOMAIN) {
    [domain, remainder] = [DEFAULT_DOMAIN, rest];
  } else if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) {
    [domain, remainder] = [first, rest];
  } else {
    [domain, remainder] = [DEFAULT_DOMAIN, name];
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  return [domain, remainder];
}

/**
 * Parses a full or familiar reference and normalises it like Docker's `ParseNormalizedNamed`:
 * "busybox" → docker.io/library/busybox. No tag is added. Throws INVALID_ARGUMENT with
 * Docker's message.
 */
export function parseReference(input: string): Reference {
  if (IDENTIFIER_RE.test(input)) {
    throw invalid(`invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, remainder] = splitDockerDomain(input);
  // Docker checks case on the part before the first ":" so that tags may be mixed case,
  // and names the offending repository (with "library/" if it added it).
  const colon = remainder.indexOf(':');
  const remote = colon < 0 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) {
    throw invalid(`invalid reference format: repository name (${remote}) must be lowercase`);
  }
  return parseStrict(`${domain}/${remainder}`);
}

/**
 * {@link parseReference} plus Docker's `TagNameOnly`: a reference with neither tag nor
 * digest gets `latest`. A digest pins the image, so no tag is invented next to it.
 */
export function normalizeReference(input: string): Reference {
  const ref = parseReference(input);
  if (ref.tag === undefined && ref.digest === undefined) ref.tag = DEFAULT_TAG;
  return ref;
}

/**
 * Parses the target of `docker tag` / `commit` / `import` (`REPO[:TAG]`). Errors are worded
 * as the Docker client words them for such a target, and digests are refused because a
 * tag cannot be created on a content address. No default tag is added.
 */
export function parseRepository(input: string): Reference {
  let ref: Reference;
  try {
    ref = parseReference(input);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new GantryError(
      'INVALID_ARGUMENT',
      `error parsing reference: ${JSON.stringify(input)} is not a valid repository/tag: ${reason}`,
      { cause: err },
    );
  }
  if (ref.digest !== undefined) throw invalid('refusing to create a tag with a digest reference');
  return ref;
}

/** The full repository name without tag or digest: "docker.io/library/busybox". */
export function repositoryName(ref: Reference): string {
  return ref.domain === '' ? ref.path : `${ref.domain}/${ref.path}`;
}

function withSuffixes(name: string, ref: Reference): string {
  return name + (ref.tag === undefined ? '' : `:${ref.tag}`) + (ref.digest === undefined ? '' : `@${ref.digest}`);
}

/** The full reference: "docker.io/library/busybox:latest", "localhost:5000/a/b:t@sha256:…". */
export function formatReference(ref: Reference): string {
  return withSuffixes(repositoryName(ref), ref);
}

/**
 * The repository name as Docker shows it (`FamiliarName`): Docker Hub's domain dropped and,
 * for single-component official images, "library/" too. Other registries keep their host.
 */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  if (ref.path.startsWith(OFFICIAL_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

/** {@link familiarName} with `:tag` and/or `@digest` (`FamiliarString`): "busybox:latest". */
export function familiarString(ref: Reference): string {
  return withSuffixes(familiarName(ref), ref);
}

/**
 * True for a complete image ID: "sha256:<64 hex>" or the bare 64 hex digits, which Docker
 * always treats as an ID and never as a repository name.
 */
export function isFullDigestId(input: string): boolean {
  return IDENTIFIER_RE.test(input.startsWith('sha256:') ? input.slice('sha256:'.length) : input);
}
