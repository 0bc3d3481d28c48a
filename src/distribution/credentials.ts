/**
 * Registry credentials in Docker's client configuration, `~/.docker/config.json` (or
 * `$DOCKER_CONFIG/config.json`), so `gantry login` and `docker login` share one file:
 *
 *  - `credHelpers[host]` names a helper for one host, `credsStore` a helper for every host;
 *    a helper is the program `docker-credential-<name>` speaking the helper protocol
 *    (`get`/`store`/`erase` with JSON or the server URL on stdin);
 *  - otherwise `auths[host].auth` holds base64 `user:password` in the file itself.
 *
 * Docker Hub's key is the legacy URL `https://index.docker.io/v1/`. The file is rewritten
 * atomically (temporary file + rename, mode 0600), keeping every field gantry does not know.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { errors } from '../core/errors.js';

/** A user's credentials for one registry. */
export interface Credentials {
  username: string;
  password: string;
  /** An OAuth refresh token (Docker's `identitytoken`), sent to a token server instead of the password. */
  identityToken?: string;
}

/** The key of Docker Hub in `auths` and in helpers. */
export const HUB_CREDENTIAL_KEY = 'https://index.docker.io/v1/';

/** Docker's client configuration directory: `$DOCKER_CONFIG`, else `~/.docker`. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

/** The key under which a registry host's credentials are stored. */
export function credentialKey(host: string): string {
  return host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io' ? HUB_CREDENTIAL_KEY : host;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  [field: string]: unknown;
}

interface ConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [field: string]: unknown;
}

/** Reads, stores and erases credentials in one configuration directory. */
export class CredentialStore {
  /** The configuration file. */
  readonly path: string;

  constructor(configDir: string = dockerConfigDir()) {
    this.path = join(configDir, 'config.json');
  }

  /** The stored credentials of `host`, or undefined. */
  async get(host: string): Promise<Credentials | undefined> {
    const key = credentialKey(host);
    const config = await this.read();
    const helper = helperOf(config, key);
    if (helper) {
      const r = await runHelper(helper, 'get', key);
      if (r.code !== 0) {
        // Helpers answer "credentials not found in native keychain" for an unknown server.
        if (/not found/i.test(r.stdout + r.stderr)) return undefined;
        throw helperError(helper, 'get', r);
      }
      const answer = parseJson<{ Username?: string; Secret?: string }>(r.stdout, `docker-credential-${helper} get`);
      if (!answer.Secret) return undefined;
      // NOTE: the protocol marks an identity token by the username "<token>".
      return answer.Username === '<token>'
        ? { username: '', password: '', identityToken: answer.Secret }
        : { username: answer.Username ?? '', password: answer.Secret };
    }
    const entry = findEntry(config.auths ?? {}, key);
    if (!entry) return undefined;
    let username = entry.username ?? '';
    let password = entry.password ?? '';
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw errors.invalid(`invalid auth configuration file ${this.path}: the auth of ${key} is not base64 user:password`);
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
    const creds: Credentials = { username, password };
    if (entry.identitytoken) creds.identityToken = entry.identitytoken;
    return username || password || creds.identityToken ? creds : undefined;
  }

  /** True when `host`'s credentials go to a helper rather than into the file. */
  async usesHelper(host: string): Promise<boolean> {
    return helperOf(await this.read(), credentialKey(host)) !== undefined;
  }

  /** Stores credentials for `host`. */
  async store(host: string, creds: Credentials): Promise<void> {
    const key = credentialKey(host);
    const config = await this.read();
    const helper = helperOf(config, key);
    if (helper) {
      const payload = JSON.stringify({ ServerURL: key, Username: creds.username, Secret: creds.password });
      const r = await runHelper(helper, 'store', payload);
      if (r.code !== 0) throw helperError(helper, 'store', r);
      // Docker keeps an empty entry in auths so the file still lists the registry.
      config.auths = { ...config.auths, [key]: {} };
    } else {
      const entry: AuthEntry = { ...config.auths?.[key], auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
      delete entry.username;
      delete entry.password;
      if (creds.identityToken) entry.identitytoken = creds.identityToken;
      else delete entry.identitytoken;
      config.auths = { ...config.auths, [key]: entry };
    }
    await this.write(config);
  }

  /** Erases `host`'s credentials; false when there were none. */
  async erase(host: string): Promise<boolean> {
    const key = credentialKey(host);
    const config = await this.read();
    const auths = config.auths ?? {};
    const found = Object.keys(auths).find((k) => sameServer(k, key));
    const helper = helperOf(config, key);
    let erased = false;
    if (helper) {
      const r = await runHelper(helper, 'erase', key);
      if (r.code !== 0 && !/not found/i.test(r.stdout + r.stderr)) throw helperError(helper, 'erase', r);
      erased = r.code === 0;
    }
    if (found === undefined) return erased;
    delete auths[found];
    config.auths = auths;
    await this.write(config);
    return true;
  }

  private async read(): Promise<ConfigFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
    if (!text.trim()) return {};
    const parsed = parseJson<ConfigFile>(text, this.path);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw errors.invalid(`invalid configuration file ${this.path}: not a JSON object`);
    }
    return parsed;
  }

  private async write(config: ConfigFile): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(config, null, '\t') + '\n', { mode: 0o600 });
      await rename(tmp, this.path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
}

/** The helper for a key: `credHelpers` by host, else `credsStore`. */
function helperOf(config: ConfigFile, key: string): string | undefined {
  const helpers = config.credHelpers ?? {};
  const byHost = helpers[key] ?? helpers[key === HUB_CREDENTIAL_KEY ? 'docker.io' : hostOfKey(key)];
  return byHost || config.credsStore || undefined;
}

/** An `auths` entry for a key, matching URL-form keys (`https://HOST/v1/`) by host. */
function findEntry(auths: Record<string, AuthEntry>, key: string): AuthEntry | undefined {
  if (auths[key]) return auths[key];
  const match = Object.keys(auths).find((k) => sameServer(k, key));
  return match === undefined ? undefined : auths[match];
}

function sameServer(a: string, b: string): boolean {
  return a === b || hostOfKey(a) === hostOfKey(b);
}

/** The host of a key that may be a URL (`https://host/v1/`) or a bare `host[:port]`. */
function hostOfKey(key: string): string {
  const stripped = key.replace(/^[a-z]+:\/\//i, '');
  const slash = stripped.indexOf('/');
  return slash < 0 ? stripped : stripped.slice(0, slash);
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw errors.invalid(`invalid JSON from ${what}: ${(err as Error).message}`, { cause: err });
  }
}

interface HelperResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `docker-credential-<helper> <action>` with `input` on stdin. */
function runHelper(helper: string, action: 'get' | 'store' | 'erase', input: string): Promise<HelperResult> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [action], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? errors.invalid(`error getting credentials - err: exec: "${program}": executable file not found in $PATH`, {
              hint: `install ${program} or remove the helper from the configuration file`,
            })
          : err,
      ),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => undefined); // a helper that exits early closes its stdin
    child.stdin.end(input);
  });
}

function helperError(helper: string, action: string, r: HelperResult): Error {
  const out = (r.stdout.trim() || r.stderr.trim()).split('\n')[0] ?? '';
  return errors.invalid(`error ${action === 'get' ? 'getting' : action === 'store' ? 'storing' : 'erasing'} credentials - err: docker-credential-${helper} ${action}: exit status ${r.code}, out: \`${out}\``);
}
