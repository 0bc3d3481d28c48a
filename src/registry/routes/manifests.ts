/**
 * `/v2/<name>/manifests/<reference>`: GET and HEAD by tag or digest, PUT by tag or digest,
 * DELETE of a manifest (by digest) or of a tag (by tag).
 * https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pulling-manifests
 */
import { parseManifestReference } from '../names.js';
import { type Exchange, readBody, sendEmpty } from './exchange.js';

/** GET / HEAD: the exact bytes stored, with their media type and digest. */
export async function getManifest(x: Exchange): Promise<void> {
  const { record, bytes } = await x.registry.manifest(x.name, parseManifestReference(x.param));
  x.res.writeHead(200, {
    'Content-Type': record.mediaType,
    'Content-Length': bytes.length,
    'Docker-Content-Digest': record.digest,
    ETag: `"${record.digest}"`,
  });
  x.res.end(x.req.method === 'HEAD' ? undefined : bytes);
}

/** PUT: 201 with the manifest's Location and digest, and `OCI-Subject` when it has a subject. */
export async function putManifest(x: Exchange): Promise<void> {
  const ref = parseManifestReference(x.param);
  x.registry.checkWritable();
  const bytes = await readBody(x.req, x.config.maxManifestBytes);
  const record = await x.registry.putManifest(x.name, ref, bytes, x.req.headers['content-type']);
  const headers: Record<string, string> = {
    Location: `/v2/${x.name}/manifests/${record.digest}`,
    'Docker-Content-Digest': record.digest,
  };
  if (record.subject) headers['OCI-Subject'] = record.subject;
  sendEmpty(x.res, 201, headers);
}

/** DELETE: 202. */
export async function deleteManifest(x: Exchange): Promise<void> {
  await x.registry.deleteManifest(x.name, parseManifestReference(x.param));
  sendEmpty(x.res, 202);
}
