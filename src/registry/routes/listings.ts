/**
 * The listings: a repository's tags, the catalog of repositories, and the referrers of a
 * manifest. https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#content-discovery
 */
import { MediaType } from '../../core/media-types.js';
import { parseDigestParam } from '../names.js';
import { type Exchange, nextLink, pageQuery, sendJson } from './exchange.js';

/** Most entries in one page; also the page size of a catalog asked without `n`. */
export const MAX_PAGE = 1000;

/** `GET /v2/<name>/tags/list[?n=&last=]`. */
export async function listTags(x: Exchange): Promise<void> {
  const { n, last } = pageQuery(x.url, MAX_PAGE);
  const tags = await x.registry.tags(x.name, { n: n === undefined ? undefined : n + 1, last });
  const more = n !== undefined && tags.length > n;
  const page = n === undefined ? tags : tags.slice(0, n);
  sendJson(x.res, 200, { name: x.name, tags: page }, nextLink(`/v2/${x.name}/tags/list`, page, n ?? 0, more), x.req.method === 'HEAD');
}

/** `GET /v2/_catalog[?n=&last=]`. */
export async function listCatalog(x: Exchange): Promise<void> {
  const q = pageQuery(x.url, MAX_PAGE);
  const n = q.n ?? MAX_PAGE;
  const repos = await x.registry.metadata.repositories({ n: n + 1, last: q.last });
  const page = repos.slice(0, n);
  sendJson(x.res, 200, { repositories: page }, nextLink('/v2/_catalog', page, n, repos.length > n), x.req.method === 'HEAD');
}

/**
 * `GET /v2/<name>/referrers/<digest>[?artifactType=]`: an image index of the manifests whose
 * subject is `<digest>`, filtered by artifact type when asked (and then says so in
 * `OCI-Filters-Applied`). An unknown subject has no referrers: an empty index, not an error.
 */
export async function listReferrers(x: Exchange): Promise<void> {
  const subject = parseDigestParam(x.param);
  const artifactType = x.url.searchParams.get('artifactType') ?? undefined;
  const records = await x.registry.metadata.referrers(x.name, subject, artifactType);
  const manifests = records.map((r) => {
    const d: Record<string, unknown> = { mediaType: r.mediaType, digest: r.digest, size: r.size };
    if (r.artifactType !== undefined) d.artifactType = r.artifactType;
    if (r.annotations !== undefined) d.annotations = r.annotations;
    return d;
  });
  const headers: Record<string, string> = { 'Content-Type': MediaType.OciIndex };
  if (artifactType !== undefined) headers['OCI-Filters-Applied'] = 'artifactType';
  sendJson(x.res, 200, { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }, headers, x.req.method === 'HEAD');
}
