/**
 * Outgoing webhooks: on every tag push, a POST of Docker Hub's payload to each URL the
 * repository registered. Deliveries are recorded first (status `pending`), then sent in the
 * background, so a push never waits for a receiver; a failure (no answer within 10 s, or a
 * status other than 2xx) is retried with exponential backoff — `base`, 2 × base, 4 × base …
 * capped at 5 minutes — up to 5 attempts, then the delivery is `failed`. A hub stopped
 * mid-retry resumes its pending deliveries at the next start.
 * https://docs.docker.com/docker-hub/repos/manage/webhooks/
 */
import type { DeliveryRow, HubDataStore } from '../storage/hub-data-store.js';

/** Attempts per delivery. */
export const MAX_ATTEMPTS = 5;
const MAX_DELAY_MS = 5 * 60_000;
const TIMEOUT_MS = 10_000;

/** Docker Hub's push webhook payload. */
export interface PushPayload {
  callback_url: string;
  push_data: { pushed_at: number; pusher: string; tag: string };
  repository: {
    repo_name: string;
    name: string;
    namespace: string;
    owner: string;
    is_private: boolean;
    status: 'Active';
    star_count: number;
    description: string;
    full_description?: string;
    date_created: number;
    repo_url: string;
  };
}

/** Options of {@link WebhookDispatcher}. */
export interface WebhookDispatcherOptions {
  store: HubDataStore;
  /** First retry delay in ms (then doubled). */
  retryBaseMs: number;
  log: (line: string) => void;
}

/** Sends and retries deliveries; see the module comment. */
export class WebhookDispatcher {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly o: WebhookDispatcherOptions) {}

  /** Resumes deliveries a previous run left pending. */
  resume(): void {
    for (const d of this.o.store.pendingDeliveries()) this.schedule(d, d.url, 0);
  }

  /** Records and sends `payload` to every webhook of `repository`; returns at once. */
  pushed(repository: string, payload: PushPayload): void {
    const body = JSON.stringify(payload);
    for (const hook of this.o.store.webhooks(repository)) {
      const delivery = this.o.store.addDelivery(hook.id, 'push', body);
      this.schedule(delivery, hook.url, 0);
    }
  }

  /** Stops retrying (pending deliveries stay pending for the next start). */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private schedule(d: DeliveryRow, url: string, delayMs: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const p = this.attempt(d, url).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  private async attempt(d: DeliveryRow, url: string): Promise<void> {
    let responseStatus: number | undefined;
    let error: string | undefined;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'gantry-hub-webhook' },
        body: d.payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      responseStatus = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) {
        this.o.store.recordAttempt(d.id, { status: 'delivered', responseStatus });
        return;
      }
      error = `HTTP ${res.status}`;
    } catch (err) {
      error = (err as Error).message;
    }
    d.attempts++;
    const last = d.attempts >= MAX_ATTEMPTS;
    try {
      this.o.store.recordAttempt(d.id, { status: last ? 'failed' : 'pending', responseStatus, error });
    } catch {
      return; // the store closed with the hub; the delivery resumes at the next start
    }
    if (last) {
      this.o.log(`webhook delivery ${d.id} to ${url} failed after ${MAX_ATTEMPTS} attempts: ${error}`);
      return;
    }
    this.schedule(d, url, Math.min(MAX_DELAY_MS, this.o.retryBaseMs * 2 ** (d.attempts - 1)));
  }
}
