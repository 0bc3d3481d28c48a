/**
 * Media types of the OCI image spec and of Docker's image manifest v2 schema 2.
 * https://github.com/opencontainers/image-spec/blob/main/media-types.md
 * https://distribution.github.io/distribution/spec/manifest-v2-2/
 */
export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayout: 'application/vnd.oci.layout.header.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  OciLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export type MediaTypeName = (typeof MediaType)[keyof typeof MediaType];

/** True for an image manifest media type (OCI or Docker). */
export function isManifestType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.OciManifest || mediaType === MediaType.DockerManifest;
}

/** True for an index / manifest list media type (OCI or Docker). */
export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList;
}

/** Compression of a layer media type, or undefined when it is not a layer type gantry knows. */
export function layerCompression(mediaType: string): 'none' | 'gzip' | 'zstd' | undefined {
  switch (mediaType) {
    case MediaType.OciLayer:
    case MediaType.OciLayerNondistributable:
    case MediaType.DockerLayer:
      return 'none';
    case MediaType.OciLayerGzip:
    case MediaType.OciLayerNondistributableGzip:
    case MediaType.DockerLayerGzip:
    case MediaType.DockerLayerForeignGzip:
      return 'gzip';
    case MediaType.OciLayerZstd:
      return 'zstd';
    default:
      return undefined;
  }
}
