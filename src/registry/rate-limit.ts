/**
 * A per-client rate limit: one token bucket per client address, refilled at
 * `requestsPerSecond` up to `burst`. A request finding its bucket empty is refused with 429
 * TOOMANYREQUESTS and a `Retry-After` (whole seconds, at least 1).
 */
import { HubError } from './errors.js';

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Buckets above this many are pruned of full ones (idle clients) on the next refusal or insert. */
const PRUNE_AT = 10_000;

/** The limiter; `requestsPerSecond` 0 disables it. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly requestsPerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `client`; TOOMANYREQUESTS (429) when there is none. */
  take(client: string): void {
    if (this.requestsPerSecond <= 0) return;
    const now = this.now();
    let bucket = this.buckets.get(client);
    if (!bucket) {
      if (this.buckets.size >= PRUNE_AT) this.prune(now);
      bucket = { tokens: this.burst, updatedMs: now };
      this.buckets.set(client, bucket);
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedMs) / 1000) * this.requestsPerSecond);
      bucket.updatedMs = now;
    }
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / this.requestsPerSecond));
      throw new HubError('TOOMANYREQUESTS', 'too many requests', { headers: { 'Retry-After': String(retryAfter) }, detail: { limit: `${this.requestsPerSecond}/s` } });
    }
    bucket.tokens -= 1;
  }

  private prune(now: number): void {
    for (const [client, b] of this.buckets) {
      if (b.tokens + ((now - b.updatedMs) / 1000) * this.requestsPerSecond >= this.burst) this.buckets.delete(client);
    }
  }
}
