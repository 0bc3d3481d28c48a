/**
 * The hub's configuration: the YAML file of `gantry hub serve --config FILE` (documented in
 * docs/hub-config.md, example in examples/hub/config.yml) and its defaults.
 *
 * `HubConfig` is the file's shape, every key optional, so that a program starting a hub can
 * pass `{}` or a few keys; `resolveHubConfig` fills in the defaults and turns durations and
 * sizes into numbers once, refusing unknown keys so that a typo is an error rather than a
 * setting silently ignored. The `auth` section is opaque here: the authorizer reads it.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { errors } from '../core/errors.js';

/** A duration: a number of seconds, or a string such as `90s`, `30m`, `1h30m`, `168h`, `500ms`. */
export type DurationValue = number | string;
/** A size: a number of bytes, or a string such as `4MiB`, `10GB`, `512k`. */
export type SizeValue = number | string;

/** The configuration file's shape. */
export interface HubConfig {
  http?: {
    /** HOST:PORT to listen on (default 127.0.0.1:5000); `--listen` overrides it. */
    addr?: string;
    /** Serve HTTPS with this PEM certificate chain and key (files). */
    tls?: { certificate: string; key: string };
    limits?: {
      /** Largest manifest accepted (default and maximum 4MiB is the spec's floor; default 4MiB). */
      maxmanifestsize?: SizeValue;
      /** Largest blob accepted (default 0: no limit). */
      maxblobsize?: SizeValue;
    };
    timeouts?: {
      /** Time to receive a request's headers (default 30s). */
      header?: DurationValue;
      /** A connection with no bytes moving for this long is closed (default 2m). */
      idle?: DurationValue;
      /** Time to receive a whole request, body included (default 0: no limit, large uploads). */
      request?: DurationValue;
    };
  };
  storage?: {
    /** The data directory; `--data` overrides it (default `<gantry root>/hub`). */
    dir?: string;
    /** Whether DELETE of manifests, tags and blobs is allowed (default true). */
    delete?: { enabled?: boolean };
    /** Removal of uploads left unfinished. */
    uploadpurging?: { enabled?: boolean; age?: DurationValue; interval?: DurationValue };
  };
  gc?: {
    /** Blobs and manifests younger than this are never collected (default 1h): pushes under way. */
    graceperiod?: DurationValue;
  };
  ratelimit?: {
    /** Requests per second allowed per client address (default 0: no limit). */
    requestspersecond?: number;
    /** Requests a client may make at once above the rate (default 2 × the rate, at least 1). */
    burst?: number;
  };
  /** Accounts and tokens (registry/auth/); carried through untouched. */
  auth?: unknown;
  /** Pull-through cache of another registry. */
  proxy?: { remoteurl: string; username?: string; password?: string };
  /** Outgoing webhooks of the web API. */
  webhooks?: {
    /** Delay before the first retry of a failed delivery, doubled at each next one (default 1s). */
    retrybase?: DurationValue;
  };
  /** Automated builds. */
  builds?: {
    /** Whether automated builds run at all (default true, when the hub has a builder). */
    enabled?: boolean;
    /** Most builds queued or running at once, all repositories together (default 20); beyond: 429. */
    queuesize?: number;
  };
}

/** The configuration with every default filled in, durations in ms and sizes in bytes. */
export interface ResolvedHubConfig {
  listen: string;
  tls: { certificate: string; key: string } | undefined;
  maxManifestBytes: number;
  /** 0: no limit. */
  maxBlobBytes: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  /** 0: no limit. */
  requestTimeoutMs: number;
  dataDir: string | undefined;
  deleteEnabled: boolean;
  uploadPurging: { enabled: boolean; ageMs: number; intervalMs: number };
  gcGracePeriodMs: number;
  rateLimit: { requestsPerSecond: number; burst: number };
  auth: unknown;
  proxy: { remoteUrl: string; username?: string; password?: string } | undefined;
  webhookRetryBaseMs: number;
  buildsEnabled: boolean;
  buildQueueSize: number;
}

/** The listen address with no configuration. */
export const DEFAULT_LISTEN = '127.0.0.1:5000';
/** The spec's floor for the largest manifest a registry accepts, and the hub's default. */
export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const SECTIONS: Record<string, readonly string[]> = {
  '': ['version', 'http', 'storage', 'gc', 'ratelimit', 'auth', 'proxy', 'webhooks', 'builds'],
  http: ['addr', 'tls', 'limits', 'timeouts'],
  'http.tls': ['certificate', 'key'],
  'http.limits': ['maxmanifestsize', 'maxblobsize'],
  'http.timeouts': ['header', 'idle', 'request'],
  storage: ['dir', 'delete', 'uploadpurging'],
  'storage.delete': ['enabled'],
  'storage.uploadpurging': ['enabled', 'age', 'interval'],
  gc: ['graceperiod'],
  ratelimit: ['requestspersecond', 'burst'],
  proxy: ['remoteurl', 'username', 'password'],
  webhooks: ['retrybase'],
  builds: ['enabled', 'queuesize'],
};

/** Reads and parses a configuration file (YAML; JSON is YAML too). */
export async function loadHubConfig(path: string): Promise<HubConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw errors.invalid(`cannot read the hub configuration ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseHubConfig(text, path);
}

/** Parses configuration text; checks its keys (not yet its values: see {@link resolveHubConfig}). */
export function parseHubConfig(text: string, source = 'configuration'): HubConfig {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw errors.invalid(`invalid hub configuration ${source}: ${(err as Error).message}`, { cause: err });
  }
  if (value == null) return {};
  checkKeys(value, '', source);
  return value as HubConfig;
}

function checkKeys(value: unknown, section: string, source: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw errors.invalid(`invalid hub configuration ${source}: ${section || 'the file'} must be a mapping`);
  }
  const known = SECTIONS[section] ?? [];
  for (const [key, v] of Object.entries(value)) {
    const path = section ? `${section}.${key}` : key;
    if (!known.includes(key)) throw errors.invalid(`invalid hub configuration ${source}: unknown key ${path}`, { hint: 'see docs/hub-config.md' });
    if (SECTIONS[path] && path !== 'auth' && v != null) checkKeys(v, path, source);
  }
}

/** Fills in defaults and converts values; INVALID_ARGUMENT naming the key on a bad value. */
export function resolveHubConfig(config: HubConfig = {}): ResolvedHubConfig {
  const http = config.http ?? {};
  const purge = config.storage?.uploadpurging ?? {};
  const rps = numberAt('ratelimit.requestspersecond', config.ratelimit?.requestspersecond, 0);
  const proxy = config.proxy;
  if (proxy !== undefined && proxy !== null) {
    if (typeof proxy.remoteurl !== 'string' || !/^https?:\/\/[^/]+/.test(proxy.remoteurl)) {
      throw errors.invalid(`invalid hub configuration: proxy.remoteurl must be an http(s) URL, not ${JSON.stringify(proxy.remoteurl)}`);
    }
  }
  const tls = http.tls;
  if (tls && (typeof tls.certificate !== 'string' || typeof tls.key !== 'string')) {
    throw errors.invalid('invalid hub configuration: http.tls needs both certificate and key (PEM files)');
  }
  const maxManifestBytes = size('http.limits.maxmanifestsize', http.limits?.maxmanifestsize, DEFAULT_MAX_MANIFEST_BYTES);
  if (maxManifestBytes <= 0) throw errors.invalid('invalid hub configuration: http.limits.maxmanifestsize must be positive');
  return {
    listen: http.addr ?? DEFAULT_LISTEN,
    tls: tls ? { certificate: tls.certificate, key: tls.key } : undefined,
    maxManifestBytes,
    maxBlobBytes: size('http.limits.maxblobsize', http.limits?.maxblobsize, 0),
    headerTimeoutMs: duration('http.timeouts.header', http.timeouts?.header, 30_000),
    idleTimeoutMs: duration('http.timeouts.idle', http.timeouts?.idle, 120_000),
    requestTimeoutMs: duration('http.timeouts.request', http.timeouts?.request, 0),
    dataDir: config.storage?.dir,
    deleteEnabled: config.storage?.delete?.enabled ?? true,
    uploadPurging: {
      enabled: purge.enabled ?? true,
      ageMs: duration('storage.uploadpurging.age', purge.age, 168 * 3_600_000),
      intervalMs: duration('storage.uploadpurging.interval', purge.interval, 3_600_000),
    },
    gcGracePeriodMs: duration('gc.graceperiod', config.gc?.graceperiod, 3_600_000),
    rateLimit: { requestsPerSecond: rps, burst: numberAt('ratelimit.burst', config.ratelimit?.burst, Math.max(1, Math.ceil(rps * 2))) },
    auth: config.auth,
    proxy: proxy ? { remoteUrl: proxy.remoteurl.replace(/\/+$/, ''), username: proxy.username, password: proxy.password } : undefined,
    webhookRetryBaseMs: duration('webhooks.retrybase', config.webhooks?.retrybase, 1000),
    buildsEnabled: config.builds?.enabled !== false,
    buildQueueSize: Math.max(1, Math.floor(numberAt('builds.queuesize', config.builds?.queuesize, 20))),
  };
}

function numberAt(key: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw errors.invalid(`invalid hub configuration: ${key} must be a non-negative number, not ${JSON.stringify(value)}`);
  }
  return value;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration (`1h30m`, `90s`, `500ms`, a number of seconds) into milliseconds. */
export function parseDuration(value: DurationValue): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw errors.invalid(`invalid duration: ${value}`);
    return value * 1000;
  }
  const text = value.trim();
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    end = re.lastIndex;
  }
  if (end === 0 || end !== text.length) throw errors.invalid(`invalid duration: ${JSON.stringify(value)} (use e.g. 30s, 5m, 1h30m)`);
  return Math.round(total);
}

function duration(key: string, value: DurationValue | undefined, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  try {
    return parseDuration(value);
  } catch (err) {
    throw errors.invalid(`invalid hub configuration: ${key}: ${(err as Error).message}`);
  }
}

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9,
  ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3,
};

/** Parses a size (`4MiB`, `10GB`, `512k`, a number of bytes) into bytes. */
export function parseSize(value: SizeValue): number {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw errors.invalid(`invalid size: ${value}`);
    return value;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined) throw errors.invalid(`invalid size: ${JSON.stringify(value)} (use e.g. 4MiB, 10GB)`);
  return Math.round(Number(m[1]) * unit);
}

function size(key: string, value: SizeValue | undefined, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  try {
    return parseSize(value);
  } catch (err) {
    throw errors.invalid(`invalid hub configuration: ${key}: ${(err as Error).message}`);
  }
}
