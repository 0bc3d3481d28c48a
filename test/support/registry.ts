/**
 * A real OCI Distribution registry for the pull/push end-to-end tests: Debian's
 * `docker-registry` (distribution 2.8.2) on 127.0.0.1:<free port>, plain HTTP, filesystem
 * storage in a temporary directory, deletes enabled, and optionally basic (htpasswd) or token
 * authentication. One registry per test file; `stop()` kills it and removes its directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand } from './harness.js';

/** The registry binary (Debian package docker-registry). */
export const DOCKER_REGISTRY = '/usr/bin/docker-registry';

/** Authentication of a test registry; without either, the registry is anonymous. */
export interface RegistryOptions {
  /** Basic authentication with one user (an htpasswd file made with bcrypt, which distribution requires). */
  htpasswd?: { user: string; password: string };
  /** Bearer-token authentication against a token server the test runs; `rootCertBundle` is a PEM file of the certificate that signs its tokens. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

/** Registries not yet stopped, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A running `docker-registry` process and its temporary directory. */
export class TestRegistry {
  /** `127.0.0.1:PORT`, the registry's address as an image reference's domain. */
  readonly host: string;
  /** `localhost:PORT`: the same registry under the name that Docker treats as insecure by default. */
  readonly localhostHost: string;
  /** The storage driver's root directory. */
  readonly storage: string;
  /** The registry's log (level warn); its tail is in start errors. */
  readonly logFile: string;

  private constructor(
    /** The temporary directory holding config, log, htpasswd file and storage. */
    readonly dir: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    this.host = `127.0.0.1:${port}`;
    this.localhostHost = `localhost:${port}`;
    this.storage = join(dir, 'storage');
    this.logFile = join(dir, 'registry.log');
  }

  /** Starts a registry and waits until `GET /v2/` answers (200, or 401 with authentication). */
  static async start(options: RegistryOptions = {}): Promise<TestRegistry> {
    const dir = await mkdtemp('/var/tmp/gantry-registry-');
    try {
      const auth = await writeAuth(dir, options);
      // NOTE: the free port is found by binding port 0 and closing it, so another process may
      // take it before the registry binds it; one retry with a fresh port covers that race.
      for (let attempt = 1; ; attempt++) {
        const port = await freePort();
        const config = join(dir, 'config.yml');
        await writeFile(config, configYaml(dir, port, auth));
        const reg = new TestRegistry(dir, port, launch(config, join(dir, 'registry.log')));
        try {
          await reg.waitReady();
          return reg;
        } catch (err) {
          await reg.kill();
          const log = await reg.logTail();
          if (attempt === 1 && /address already in use/i.test(log)) continue;
          throw new Error(`docker-registry did not start on ${reg.host}: ${(err as Error).message}\nlog tail:\n${log}`, { cause: err });
        }
      }
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The data file of a blob in storage: `<storage>/docker/registry/v2/blobs/sha256/<2 hex>/<hex>/data`. */
  blobPath(digest: string): string {
    const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
    if (!m?.[1]) throw new Error(`not a sha256 digest: ${digest}`);
    const hex = m[1];
    return join(this.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  }

  /**
   * Overwrites a stored blob's bytes (same length, every byte inverted) so its content no longer
   * matches its digest. The registry serves blobs as stored without checking, so a client that
   * pulls it must notice the mismatch itself.
   */
  async corruptBlob(digest: string): Promise<void> {
    const path = this.blobPath(digest);
    const data = await readFile(path);
    for (let i = 0; i < data.length; i++) data[i] = ~data[i]! & 0xff;
    await writeFile(path, data);
  }

  /** A raw HTTP request to the registry: `fetch(http://HOST${path}, init)`. */
  fetch(path: string, init?: RequestInit): Promise<Response> {
    return fetch(`http://${this.host}${path}`, init);
  }

  /** Kills the registry (waiting for it to exit) and removes its directory. Safe to call twice. */
  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The last lines of the registry's log. */
  async logTail(lines = 30): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let last: string;
    for (;;) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`it exited (${this.child.exitCode ?? this.child.signalCode})`);
      }
      try {
        const res = await this.fetch('/v2/', { signal: AbortSignal.timeout(2000) });
        await res.body?.cancel();
        if (res.status === 200 || res.status === 401) return;
        last = `GET /v2/ answered ${res.status}`;
      } catch (err) {
        last = String((err as Error).cause ?? err);
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${START_TIMEOUT_MS} ms (last: ${last})`);
      await sleep(50);
    }
  }

  /** SIGTERM, then SIGKILL if the registry has not exited within STOP_TIMEOUT_MS. */
  private async kill(): Promise<void> {
    const child = this.child;
    live.delete(child);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}

/** Spawns `docker-registry serve CONFIG` with its stdout and stderr going to the log file. */
function launch(config: string, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    // NOTE: distribution reads REGISTRY_* variables as config overrides; drop any the test
    // process may have so the registry runs exactly the config written here.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
    const child = spawn(DOCKER_REGISTRY, ['serve', config], { stdio: ['ignore', fd, fd], env });
    child.on('error', () => undefined); // a spawn failure shows as an exit; waitReady reports it
    live.add(child);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const c of live) c.kill('SIGKILL');
      });
    }
    return child;
  } finally {
    closeSync(fd);
  }
}

/** The `auth:` section of the config, writing the htpasswd file it names. */
async function writeAuth(dir: string, options: RegistryOptions): Promise<Record<string, unknown> | undefined> {
  if (options.htpasswd && options.token) throw new Error('a test registry takes htpasswd or token authentication, not both');
  if (options.htpasswd) {
    const { user, password } = options.htpasswd;
    const r = await runCommand('htpasswd', ['-Bbn', user, password]);
    if (r.code !== 0) throw new Error(`htpasswd -Bbn exited ${r.code}: ${r.stderr}`);
    const path = join(dir, 'htpasswd');
    await writeFile(path, r.stdout.trim() + '\n');
    return { htpasswd: { realm: 'basic-realm', path } };
  }
  if (options.token) {
    const { realm, service, issuer, rootCertBundle } = options.token;
    return { token: { realm, service, issuer, rootcertbundle: rootCertBundle } };
  }
  return undefined;
}

/**
 * The registry's configuration (https://distribution.github.io/distribution/about/configuration/).
 * NOTE: written as JSON, which the registry's YAML parser reads, so no value needs YAML quoting.
 */
function configYaml(dir: string, port: number, auth: Record<string, unknown> | undefined): string {
  const config: Record<string, unknown> = {
    version: '0.1',
    log: { level: 'warn', formatter: 'text', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: join(dir, 'storage') },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    // An explicit secret, or the registry warns that it generated one.
    http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
  };
  if (auth) config.auth = auth;
  return JSON.stringify(config, null, 2) + '\n';
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port from listen(0)'))));
    });
  });
}
