/**
 * `push`: a local image to a registry.
 *
 * The image's stored manifest is pushed byte for byte, so pushing the same image twice (or
 * from two machines) gives the same manifest digest. Each blob is checked with HEAD first and
 * uploaded only when the registry lacks it — a re-push uploads nothing; a blob the image was
 * pulled with from another repository of the same registry is mounted from there instead of
 * uploaded. Blobs go concurrently; the manifest goes last, when everything it names is there.
 */
import type { Digest } from '../core/digest.js';
import { shortId } from '../core/digest.js';
import { errors, GantryError } from '../core/errors.js';
import type { ImageManifest } from '../core/oci.js';
import type { OpContext } from '../core/op-context.js';
import { formatReference, normalizeReference, type Reference, repositoryName } from '../core/reference.js';
import type { ContentStore } from '../content/content-store.js';
import { mapLimit } from '../images/commit.js';
import type { ImageRecord, ImageStore } from '../images/image-store.js';
import { pushScope, RegistryError } from './registry-client.js';
import type { Registries } from './registries.js';

/** What a push did. */
export interface PushResult {
  tag: string;
  digest: Digest;
  size: number;
}

/** Services a push uses. */
export interface PushDeps {
  content: ContentStore;
  images: ImageStore;
  registries: Registries;
}

// Five blobs upload at once, as Docker's default max-concurrent-uploads.
const UPLOADS = 5;

/** Pushes the local image `rec` as `ref` (normalized, with a tag). */
export async function pushImage(deps: PushDeps, rec: ImageRecord, ref: Reference, ctx: OpContext = {}): Promise<PushResult> {
  const client = await deps.registries.client(ref.domain);
  const repo = repositoryName({ ...ref, tag: undefined, digest: undefined });
  const manifestBytes = await deps.content.readBytes(rec.manifestDigest);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
  const tag = ref.tag ?? 'latest';
  const mountFrom = mountSources(rec, ref);

  try {
    const blobs = [...manifest.layers, manifest.config];
    await mapLimit(blobs, UPLOADS, async (blob, i) => {
      const isLayer = i < manifest.layers.length;
      const id = shortId(blob.digest);
      if (isLayer) ctx.progress?.({ kind: 'progress', id, action: 'Preparing' });
      if (await client.hasBlob(ref.path, blob.digest, [pushScope(ref.path)], ctx.signal)) {
        if (isLayer) ctx.progress?.({ kind: 'done', id, action: 'Layer already exists' });
        return;
      }
      for (const from of mountFrom) {
        if (await client.mountBlob(ref.path, blob.digest, from, ctx.signal)) {
          if (isLayer) ctx.progress?.({ kind: 'done', id, action: `Mounted from ${from}` });
          return;
        }
      }
      const info = await deps.content.info(blob.digest);
      if (!info) {
        throw errors.precondition(`blob ${blob.digest} of ${formatReference(ref)} is not in the local store`, {
          hint: 'pull or load the image again',
        });
      }
      let sent = 0;
      await client.uploadBlob(
        ref.path,
        blob.digest,
        info.size,
        async () => {
          sent = 0;
          const stream = await deps.content.read(blob.digest);
          if (isLayer) {
            stream.on('data', (chunk: Buffer) => {
              sent += chunk.length;
              ctx.progress?.({ kind: 'progress', id, action: 'Pushing', current: sent, total: info.size });
            });
          }
          return stream;
        },
        ctx.signal,
      );
      if (isLayer) ctx.progress?.({ kind: 'done', id, action: 'Pushed' });
    });
    const digest = await client.putManifest(ref.path, tag, manifestBytes, rec.manifestType, ctx.signal);
    // As Docker records it: the pushed digest becomes one of the image's RepoDigests.
    deps.images.setName({ name: `${repo}@${digest}`, kind: 'digest' }, rec.id);
    return { tag, digest, size: manifestBytes.length };
  } catch (err) {
    throw pushError(err, ref, client.authScheme === 'basic' && !client.hasCredentials);
  }
}

// Repositories of the same registry the image came from: candidates for a cross-repo mount.
function mountSources(rec: ImageRecord, ref: Reference): string[] {
  const out = new Set<string>();
  for (const n of rec.names) {
    if (n.kind !== 'digest') continue;
    const r = normalizeReference(n.name);
    if (r.domain === ref.domain && r.path !== ref.path) out.add(r.path);
  }
  return [...out];
}

function pushError(err: unknown, ref: Reference, anonymousBasic: boolean): unknown {
  if (!(err instanceof RegistryError) || (err.status !== 401 && err.status !== 403)) return err;
  // Docker's wording: without stored credentials a Basic registry's 401 is "no basic auth
  // credentials"; otherwise the registry's own error ("unauthorized: authentication required").
  const message = err.status === 401 && anonymousBasic ? 'no basic auth credentials' : err.message;
  return new GantryError(err.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', message, { hint: `log in with: gantry login ${ref.domain}` });
}
