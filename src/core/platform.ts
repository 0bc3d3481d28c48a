/**
 * Platforms: the host's, and matching an image's platform against a wanted one.
 * https://github.com/opencontainers/image-spec/blob/main/image-index.md#platform-variants
 */
import { arch } from 'node:os';
import { GantryError } from './errors.js';
import type { Platform } from './oci.js';

const NODE_TO_GOARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** The platform of this machine, in Go's GOOS/GOARCH words as images use them. */
export function hostPlatform(): Platform {
  const architecture = NODE_TO_GOARCH[arch()] ?? arch();
  return architecture === 'arm64' ? { os: 'linux', architecture, variant: 'v8' } : { os: 'linux', architecture };
}

/** Parses `os[/arch[/variant]]` as `--platform` takes it (`linux/amd64`, `linux/arm/v7`). */
export function parsePlatform(value: string): Platform {
  const parts = value.trim().toLowerCase().split('/');
  if (parts.length < 1 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new GantryError('INVALID_ARGUMENT', `invalid platform: "${value}"`, {
      hint: 'use os/arch[/variant], for example linux/amd64',
    });
  }
  const [os, architecture = hostPlatform().architecture, variant] = parts as [string, string?, string?];
  const p: Platform = { os, architecture: normalizeArch(architecture) };
  if (variant) p.variant = variant;
  return p;
}

/** Formats a platform as `os/arch[/variant]`. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function normalizeArch(a: string): string {
  switch (a) {
    case 'x86_64':
    case 'x86-64':
      return 'amd64';
    case 'aarch64':
      return 'arm64';
    default:
      return a;
  }
}

/** True when an image of platform `have` can serve a request for `want` (variant optional). */
export function platformMatches(have: Platform, want: Platform): boolean {
  if (have.os !== want.os || normalizeArch(have.architecture) !== normalizeArch(want.architecture)) return false;
  if (!want.variant || !have.variant) return true;
  return have.variant === want.variant;
}
