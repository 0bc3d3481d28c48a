/**
 * Which registry serves a reference, and how to talk to it: Docker Hub's endpoint, the
 * registries configured insecure (plain HTTP allowed), pull-through mirrors of Docker Hub,
 * and the stored credentials of each host.
 *
 * The configuration is Docker's daemon.json keys in gantry's own file — `/etc/gantry/daemon.json`
 * (or `$GANTRY_DAEMON_CONFIG`): `insecure-registries` (hosts or CIDRs) and `registry-mirrors`
 * (URLs). Loopback registries (localhost, 127.0.0.0/8, ::1) are always insecure, as in Docker.
 */
import { existsSync, readFileSync } from 'node:fs';
import { errors } from '../core/errors.js';
import { CredentialStore, dockerConfigDir } from './credentials.js';
import { RegistryClient } from './registry-client.js';
import { Transport } from './transport.js';

const DEFAULT_CONFIG = '/etc/gantry/daemon.json';
const HUB_DOMAIN = 'docker.io';
const HUB_ENDPOINT = 'registry-1.docker.io';

/** The registry settings of daemon.json. */
export interface RegistryConfig {
  insecureRegistries: string[];
  registryMirrors: string[];
}

/** Reads the registry settings (an absent file means none). */
export function loadRegistryConfig(env: NodeJS.ProcessEnv = process.env): RegistryConfig {
  const path = env.GANTRY_DAEMON_CONFIG || DEFAULT_CONFIG;
  if (!existsSync(path)) return { insecureRegistries: [], registryMirrors: [] };
  let raw: { 'insecure-registries'?: unknown; 'registry-mirrors'?: unknown };
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as typeof raw;
  } catch (err) {
    throw errors.invalid(`unable to configure the registry client from ${path}: ${(err as Error).message}`, { cause: err });
  }
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return { insecureRegistries: list(raw['insecure-registries']), registryMirrors: list(raw['registry-mirrors']) };
}

/** True for hosts Docker treats as insecure without configuration: loopback names and addresses. */
export function isLoopbackHost(host: string): boolean {
  const name = hostName(host);
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** The registries of one gantry process: a transport, credentials, and a client per host. */
export class Registries {
  private readonly clients = new Map<string, RegistryClient>();
  readonly transport: Transport;
  readonly credentials: CredentialStore;
  private config: RegistryConfig | undefined;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    this.transport = new Transport({ caFile: env.GANTRY_EXTRA_CA_CERTS || undefined });
    this.credentials = new CredentialStore(dockerConfigDir(env));
  }

  /** The registry settings (read once). */
  settings(): RegistryConfig {
    return (this.config ??= loadRegistryConfig(this.env));
  }

  /** True when plain HTTP is allowed for `host`. */
  isInsecure(host: string): boolean {
    if (isLoopbackHost(host)) return true;
    return this.settings().insecureRegistries.some((entry) => matchesInsecure(entry, host));
  }

  /** The client for a reference's domain (Docker Hub's endpoint for docker.io). */
  async client(domain: string): Promise<RegistryClient> {
    let c = this.clients.get(domain);
    if (!c) {
      const endpoint = domain === HUB_DOMAIN ? HUB_ENDPOINT : domain;
      c = new RegistryClient({
        transport: this.transport,
        endpoint,
        credentials: await this.credentials.get(domain),
        insecure: this.isInsecure(endpoint),
      });
      this.clients.set(domain, c);
    }
    return c;
  }

  /** Clients of the configured mirrors (only Docker Hub is mirrored, as in Docker). */
  async mirrors(domain: string): Promise<RegistryClient[]> {
    if (domain !== HUB_DOMAIN) return [];
    const out: RegistryClient[] = [];
    for (const m of this.settings().registryMirrors) {
      let host: string;
      try {
        host = new URL(m).host;
      } catch {
        continue;
      }
      out.push(
        new RegistryClient({
          transport: this.transport,
          endpoint: host,
          credentials: await this.credentials.get(host),
          insecure: m.startsWith('http:') || this.isInsecure(host),
        }),
      );
    }
    return out;
  }

  /** A fresh client (not cached) with explicit credentials, for `login`. */
  loginClient(domain: string, creds: { username: string; password: string }): RegistryClient {
    const endpoint = domain === HUB_DOMAIN ? HUB_ENDPOINT : domain;
    return new RegistryClient({ transport: this.transport, endpoint, credentials: creds, insecure: this.isInsecure(endpoint) });
  }

  close(): void {
    this.transport.close();
  }
}

function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon > 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

function matchesInsecure(entry: string, host: string): boolean {
  if (entry === host || entry === hostName(host)) return true;
  const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(entry);
  const ip = /^(\d+\.\d+\.\d+\.\d+)$/.exec(hostName(host));
  if (!cidr || !ip) return false;
  const toInt = (a: string) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const bits = Number(cidr[2]);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((toInt(cidr[1] as string) & mask) >>> 0) === ((toInt(ip[1] as string) & mask) >>> 0);
}
