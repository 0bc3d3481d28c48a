/**
 * `/v2/<name>/blobs/uploads/[<id>]`: pushing blobs.
 *   POST                        start an upload (202, Location)
 *   POST ?digest=               the whole blob in one request (201)
 *   POST ?mount=&from=          cross-repository mount (201), or a new upload (202) when `from`
 *                               lacks the blob or may not be read
 *   PATCH <id>                  a chunk, in order (Content-Range; 416 when out of order)
 *   GET <id>                    the upload's progress (204, Range: 0-<last byte>)
 *   PUT <id>?digest=            completes it, with an optional last chunk (201)
 *   DELETE <id>                 cancels it (204)
 * https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pushing-blobs
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HubError } from '../errors.js';
import { checkRepositoryName, parseDigestParam } from '../names.js';
import type { UploadInfo } from '../storage/blob-store.js';
import { contentLength, type Exchange, sendEmpty } from './exchange.js';

/** POST. */
export async function startUpload(x: Exchange): Promise<void> {
  x.registry.checkWritable();
  const mount = x.url.searchParams.get('mount');
  const from = x.url.searchParams.get('from');
  if (mount !== null && from !== null) {
    const digest = parseDigestParam(mount);
    const source = checkRepositoryName(from);
    if (await x.mayAlso([{ type: 'repository', name: source, actions: ['pull'] }])) {
      const stat = await x.registry.mount(x.name, digest, source);
      if (stat) return created(x.res, x.name, digest);
    }
  }
  const single = x.url.searchParams.get('digest');
  if (single !== null) {
    const digest = parseDigestParam(single);
    await x.registry.writeBlob(x.name, digest, x.req, contentLength(x.req));
    return created(x.res, x.name, digest);
  }
  const upload = await x.registry.startUpload(x.name);
  sendEmpty(x.res, 202, progressHeaders(x.name, upload));
}

/** PATCH: one chunk. */
export async function patchUpload(x: Exchange): Promise<void> {
  try {
    const upload = await x.registry.appendUpload(x.name, x.param, x.req, chunkOptions(x.req, false));
    sendEmpty(x.res, 202, progressHeaders(x.name, upload));
  } catch (err) {
    // A refused range says where the upload stands, so the client can resume from there.
    if (err instanceof HubError && err.status === 416) {
      const upload = await x.registry.upload(x.name, x.param).catch(() => undefined);
      if (upload) Object.assign(err.headers, progressHeaders(x.name, upload));
    }
    throw err;
  }
}

/** GET: progress. */
export async function uploadStatus(x: Exchange): Promise<void> {
  const upload = await x.registry.upload(x.name, x.param);
  sendEmpty(x.res, 204, progressHeaders(x.name, upload));
}

/** PUT ?digest=: completes the upload, appending the request's body first when it has one. */
export async function completeUpload(x: Exchange): Promise<void> {
  const param = x.url.searchParams.get('digest');
  if (param === null) throw new HubError('DIGEST_INVALID', 'digest missing: completing an upload needs ?digest=', { detail: { reason: 'no digest parameter' } });
  const digest = parseDigestParam(param);
  const upload = await x.registry.upload(x.name, x.param);
  const options = chunkOptions(x.req, true);
  if (options.length !== 0 || x.req.headers['transfer-encoding'] !== undefined) {
    await x.registry.appendUpload(x.name, upload.id, x.req, options);
  }
  try {
    await x.registry.completeUpload(x.name, upload.id, digest);
  } catch (err) {
    if (err instanceof HubError && err.ociCode === 'DIGEST_INVALID') {
      // The upload is gone (nothing of it is stored); say which one it was.
      err.headers['Docker-Upload-UUID'] = upload.id;
    }
    throw err;
  }
  created(x.res, x.name, digest);
}

/** DELETE: cancels. */
export async function cancelUpload(x: Exchange): Promise<void> {
  await x.registry.cancelUpload(x.name, x.param);
  sendEmpty(x.res, 204, { 'Docker-Upload-UUID': x.param });
}

/** The upload headers every answer about an upload carries (the spec's and distribution's). */
function progressHeaders(name: string, upload: UploadInfo): Record<string, string> {
  return {
    Location: `/v2/${name}/blobs/uploads/${upload.id}`,
    // NOTE: distribution's form: the last byte's offset, `0-0` for an empty upload.
    Range: `0-${Math.max(0, upload.size - 1)}`,
    'Docker-Upload-UUID': upload.id,
  };
}

function created(res: ServerResponse, name: string, digest: string): void {
  sendEmpty(res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}

/**
 * Offset and length of a chunk from Content-Range (`<start>-<end>`, inclusive) and
 * Content-Length. A malformed range is 416, as an out-of-order one.
 */
function chunkOptions(req: IncomingMessage, final: boolean): { offset?: number; length?: number } {
  const length = contentLength(req);
  const header = req.headers['content-range'];
  if (header === undefined) return { length };
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m || Number(m[2]) < Number(m[1])) {
    throw new HubError('BLOB_UPLOAD_INVALID', 'invalid content range', { status: 416, detail: { contentRange: header } });
  }
  const start = Number(m[1]);
  const rangeLength = Number(m[2]) - start + 1;
  if (length !== undefined && length !== rangeLength && !(final && length === 0)) {
    throw new HubError('BLOB_UPLOAD_INVALID', 'Content-Range and Content-Length disagree', { status: 416, detail: { contentRange: header, contentLength: length } });
  }
  return { offset: start, length: length ?? rangeLength };
}
