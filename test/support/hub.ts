/**
 * Helpers of the hub's end-to-end tests: `gantry hub serve` as a real process on a free
 * loopback port (its URL read from its first line), raw HTTP requests that keep the path as
 * written (fetch would resolve `../`), and small OCI images pushed over the API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GANTRY, REPO } from './harness.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

/** sha256 digest of bytes. */
export const sha = (data: string | Uint8Array) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Hubs not yet stopped, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** Options of {@link HubProcess.start}. */
export interface HubStartOptions {
  /** The data directory (default: a new temporary one, removed by `destroy`). */
  data?: string;
  /** The configuration (written as YAML-compatible JSON), or a file path. */
  config?: Record<string, unknown> | string;
  /** Extra arguments after `hub serve`. */
  args?: string[];
}

/** A running `gantry hub serve`. */
export class HubProcess {
  private constructor(
    readonly dir: string,
    readonly data: string,
    readonly url: string,
    private readonly child: ChildProcess,
    readonly stderr: () => string,
  ) {}

  /** `127.0.0.1:PORT`. */
  get host(): string {
    return this.url.replace(/^https?:\/\//, '');
  }

  static async start(options: HubStartOptions = {}): Promise<HubProcess> {
    const dir = await mkdtemp('/var/tmp/gantry-hub-e2e-');
    const data = options.data ?? join(dir, 'data');
    const args = ['--root', join(dir, 'root'), 'hub', 'serve', '--listen', '127.0.0.1:0', '--data', data, ...(options.args ?? [])];
    if (typeof options.config === 'string') args.push('--config', options.config);
    else if (options.config) {
      await writeFile(join(dir, 'config.yml'), JSON.stringify(options.config));
      args.push('--config', join(dir, 'config.yml'));
    }
    const child = spawn(GANTRY, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const listening = new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`hub did not start: ${err}`)), 15_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (https?:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`hub exited ${code} before listening: ${err}`));
      });
    });
    let url: string;
    try {
      url = await listening;
    } catch (e) {
      live.delete(child);
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
    return new HubProcess(dir, data, url, child, () => err);
  }

  /** A request with fetch (paths are normalised by URL parsing). */
  fetch(path: string, init?: RequestInit): Promise<Response> {
    return fetch(`${this.url}${path}`, init);
  }

  /** Stops the hub (SIGTERM) and waits for its exit code. */
  async stop(): Promise<number | null> {
    const child = this.child;
    live.delete(child);
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  /** Stops the hub and removes its directory (with the data, when it was the default). */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The blob files in the data directory (digests). */
  async blobFiles(): Promise<string[]> {
    const out: string[] = [];
    const base = join(this.data, 'blobs', 'sha256');
    for (const p of await readdir(base).catch(() => [])) for (const h of await readdir(join(base, p)).catch(() => [])) out.push(`sha256:${h}`);
    return out.sort();
  }
}

/** A raw HTTP answer. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** An HTTP request with the path sent exactly as given. */
export function raw(host: string, method: string, path: string, headers: Record<string, string | number> = {}, body?: Buffer | string): Promise<RawResponse> {
  const [hostname, port] = host.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port: Number(port), method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, json: () => JSON.parse(b.toString()) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The first error code of an error body. */
export function errorCode(r: RawResponse): string | undefined {
  try {
    return r.json().errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

/** Pushes a blob monolithically (POST + PUT ?digest=); resolves its digest. */
export async function pushBlob(host: string, repo: string, data: Buffer | string): Promise<string> {
  const digest = sha(data);
  const start = await raw(host, 'POST', `/v2/${repo}/blobs/uploads/`);
  if (start.status !== 202) throw new Error(`POST uploads: ${start.status} ${start.body}`);
  const loc = start.headers.location as string;
  const put = await raw(host, 'PUT', `${loc}${loc.includes('?') ? '&' : '?'}digest=${digest}`, { 'Content-Type': 'application/octet-stream' }, data);
  if (put.status !== 201) throw new Error(`PUT upload: ${put.status} ${put.body}`);
  return digest;
}

/** A small OCI image: its config, one random layer, and the manifest (bytes and digest). */
export interface TestImage {
  config: Buffer;
  layer: Buffer;
  manifest: Buffer;
  digest: string;
}

/** Makes a small image whose layer is random bytes (`extra` goes into the manifest). */
export function makeImage(extra: Record<string, unknown> = {}): TestImage {
  const layer = randomBytes(2048);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(layer)] }, nonce: randomBytes(4).toString('hex') }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha(config), size: config.length },
      layers: [{ mediaType: OCI_LAYER, digest: sha(layer), size: layer.length }],
      ...extra,
    }),
  );
  return { config, layer, manifest, digest: sha(manifest) };
}

/** Pushes an image's blobs and its manifest under `ref`; resolves the PUT's answer. */
export async function pushImage(host: string, repo: string, ref: string, image: TestImage): Promise<RawResponse> {
  await pushBlob(host, repo, image.config);
  await pushBlob(host, repo, image.layer);
  return raw(host, 'PUT', `/v2/${repo}/manifests/${ref}`, { 'Content-Type': OCI_MANIFEST }, image.manifest);
}
