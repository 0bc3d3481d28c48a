/**
 * Finding an image by what a user types: a name (`busybox`, `busybox:1.36`,
 * `localhost:5000/a/b@sha256:...`), a full ID (`sha256:<hex>` or 64 hex) or an ID prefix.
 * The order is Docker's: a name that resolves wins over an ID prefix that happens to match.
 */
import { type Digest, parseDigest } from '../core/digest.js';
import { errors, isGantryError } from '../core/errors.js';
import { familiarString, formatReference, normalizeReference, type Reference } from '../core/reference.js';
import type { ImageStore } from './image-store.js';

/** How the user named the image, and what it resolved to. */
export interface Resolved {
  id: Digest;
  /** The parsed name when the user gave one (not an ID). */
  ref?: Reference;
}

/** Resolves `input` to an image ID; throws NOT_FOUND with Docker's wording. */
export function resolveImage(store: ImageStore, input: string): Resolved {
  const found = tryResolve(store, input);
  if (found) return found;
  throw errors.notFound(`No such image: ${displayName(input)}`);
}

/** Like {@link resolveImage} but returns undefined when nothing matches. */
export function tryResolve(store: ImageStore, input: string): Resolved | undefined {
  const full = asFullId(input);
  if (full) return store.get(full) ? { id: full } : undefined;
  let ref: Reference | undefined;
  try {
    ref = normalizeReference(input);
  } catch (err) {
    if (!isGantryError(err, 'INVALID_ARGUMENT')) throw err;
  }
  if (ref) {
    if (ref.digest) {
      // name@digest: a stored digest name, or the image whose manifest or ID is that digest.
      const id = store.idByName(formatReference({ ...ref, tag: undefined }));
      if (id) return { id, ref };
    } else {
      const id = store.idByName(formatReference(ref));
      if (id) return { id, ref };
    }
  }
  if (/^[a-f0-9]{1,64}$/.test(input)) {
    const ids = store.idsByPrefix(input);
    if (ids.length > 1) throw errors.invalid(`ambiguous image ID prefix: ${input}`, { hint: 'give more characters' });
    if (ids[0]) return { id: ids[0] };
  }
  if (ref === undefined) throw errors.invalid(`invalid reference format: ${JSON.stringify(input)}`);
  return undefined;
}

/** `sha256:<64 hex>` or a bare 64-hex ID, as a digest; else undefined. */
function asFullId(input: string): Digest | undefined {
  if (/^[a-f0-9]{64}$/.test(input)) return `sha256:${input}`;
  if (input.startsWith('sha256:')) return parseDigest(input);
  return undefined;
}

/** The name as Docker echoes it in "No such image": familiar, with `:latest` added. */
export function displayName(input: string): string {
  try {
    if (asFullId(input)) return input;
    return familiarString(normalizeReference(input));
  } catch {
    return input;
  }
}
