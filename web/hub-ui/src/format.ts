/** Display helpers shared by the pages: sizes, times, short digests. */

/** Bytes as B/KB/MB/GB (decimal, as Docker Hub shows them). */
export function formatSize(bytes: number | null | undefined): string {
  if (bytes == null) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** "3 minutes ago" style, with the exact time left to a title attribute. */
export function timeAgo(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((Date.now() - t) / 1000);
  if (s < 45) return 'just now';
  const steps: [number, string][] = [[60, 'minute'], [3600, 'hour'], [86400, 'day'], [2592000, 'month'], [31536000, 'year']];
  let unit = 'minute';
  let div = 60;
  for (const [d, n] of steps) if (s >= d) [div, unit] = [d, n];
  const n = Math.round(s / div);
  return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
}

/** `sha256:0123456789ab` (12 hex digits). */
export function shortDigest(digest: string | null | undefined): string {
  if (!digest) return '—';
  const [alg, hex] = digest.split(':');
  return hex ? `${alg}:${hex.slice(0, 12)}` : digest;
}

/** Milliseconds as "1m 5s" / "3.2s". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null) return '—';
  if (ms < 60000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60000)}m ${Math.round((ms % 60000) / 1000)}s`;
}
