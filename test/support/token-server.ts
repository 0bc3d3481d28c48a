/**
 * A token server for the end-to-end tests of registry token authentication: a small node:http
 * server on 127.0.0.1:<free port> that implements the Docker token protocol the way a
 * distribution registry's `auth.token` section expects it
 * (https://distribution.github.io/distribution/spec/auth/token/ and .../spec/auth/jwt/).
 *
 * `GET /token?service=S&scope=repository:NAME:pull,push&account=U` with optional Basic
 * credentials answers `{token, access_token, expires_in, issued_at}`. The token is a JWT signed
 * RS256 by a key whose self-signed certificate `openssl` makes in a temporary directory at
 * start; the JWT header carries that certificate in `x5c`, and the registry trusts it through
 * its `rootcertbundle` ({@link TokenServer.certFile}), so the registry verifies every token
 * offline, as a production registry does.
 *
 * Policy: the one configured user gets pull and push on every repository; anonymous clients get
 * pull on repositories under the public prefix and nothing else (a token with an empty access
 * list, as the spec describes for scopes that are not granted); wrong credentials get a 401 with
 * Docker Hub's `{"details": "..."}` body. Every request is recorded, so a test can assert which
 * scopes the client asked for and what it was granted.
 */
import { createPrivateKey, type KeyObject, randomUUID, sign, X509Certificate } from 'node:crypto';
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runCommand } from './harness.js';

/** Options of a {@link TokenServer}. */
export interface TokenServerOptions {
  /** The registry's service name: the `aud` claim, and the `service` the client must send. */
  service: string;
  /** The `iss` claim; the registry's `auth.token.issuer` must be the same. */
  issuer: string;
  /** The one user who may log in, pull and push. */
  user: { name: string; password: string };
  /** Repositories anonymous clients may pull (name prefix); default "public/". */
  publicPrefix?: string;
  /** Token lifetime in seconds; default 300. */
  ttlSeconds?: number;
}

/** One entry of a token's `access` claim: actions granted on one resource. */
export interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** A request the token server answered, as a test asserts on it. */
export interface TokenRequest {
  /** The `account` query parameter, if sent. */
  account: string | undefined;
  /** The user whose Basic credentials were checked, if any were sent. */
  user: string | undefined;
  /** The `scope` parameters, in order. */
  scopes: string[];
  /** The HTTP status of the answer. */
  status: number;
  /** The access granted in the token (empty when refused or nothing was granted). */
  granted: Access[];
}

/** A running token server and the key and certificate that sign its tokens. */
export class TokenServer {
  /** Every token request answered, oldest first. */
  readonly requests: TokenRequest[] = [];
  private readonly server: Server;

  private constructor(
    private readonly options: Required<TokenServerOptions>,
    /** The temporary directory of key and certificate. */
    readonly dir: string,
    /** PEM file of the signing certificate: the registry's `rootcertbundle`. */
    readonly certFile: string,
    private readonly key: KeyObject,
    /** The certificate in DER, base64: the JWT header's `x5c` entry. */
    private readonly x5c: string,
  ) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  /** Makes a key and certificate with openssl and starts listening on a free loopback port. */
  static async start(options: TokenServerOptions): Promise<TokenServer> {
    const full: Required<TokenServerOptions> = { publicPrefix: 'public/', ttlSeconds: 300, ...options };
    const dir = await mkdtemp('/var/tmp/gantry-token-server-');
    try {
      const keyFile = join(dir, 'key.pem');
      const certFile = join(dir, 'cert.pem');
      const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1', '-subj', `/CN=${full.issuer}`];
      const r = await runCommand('openssl', [...args, '-keyout', keyFile, '-out', certFile]);
      if (r.code !== 0) throw new Error(`openssl req exited ${r.code}: ${r.stderr}`);
      const key = createPrivateKey(await readFile(keyFile));
      const x5c = new X509Certificate(await readFile(certFile)).raw.toString('base64');
      const self = new TokenServer(full, dir, certFile, key, x5c);
      await new Promise<void>((resolve, reject) => {
        self.server.once('error', reject);
        self.server.listen(0, '127.0.0.1', resolve);
      });
      return self;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The token endpoint, `http://127.0.0.1:PORT/token`: the registry's `auth.token.realm`. */
  get realm(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/token`;
  }

  /** The recorded requests that asked for `scope`. */
  requestsFor(scope: string): TokenRequest[] {
    return this.requests.filter((r) => r.scopes.includes(scope));
  }

  /** Stops listening (closing idle keep-alive connections) and removes key and certificate. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await rm(this.dir, { recursive: true, force: true });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://token-server');
    if (req.method !== 'GET' || url.pathname !== '/token') return reply(res, 404, { details: 'not found' });
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    const entry: TokenRequest = { account: url.searchParams.get('account') ?? undefined, user: undefined, scopes, status: 200, granted: [] };
    this.requests.push(entry);
    const refuse = (status: number, details: string, headers: Record<string, string> = {}) => {
      entry.status = status;
      reply(res, status, { details }, headers);
    };

    if (url.searchParams.get('service') !== this.options.service) return refuse(400, `unknown service: ${url.searchParams.get('service')}`);
    const basic = parseBasic(req.headers.authorization);
    if (basic === null) return refuse(400, 'malformed Authorization header');
    if (basic) {
      entry.user = basic.user;
      const { name, password } = this.options.user;
      if (basic.user !== name || basic.password !== password) {
        return refuse(401, 'incorrect username or password', { 'www-authenticate': `Basic realm="${this.realm}"` });
      }
    }
    entry.granted = scopes.map((s) => this.grant(basic ? basic.user : undefined, s)).filter((a): a is Access => a !== undefined);
    const now = new Date();
    const token = this.sign(basic?.user ?? '', entry.granted, now);
    reply(res, 200, { token, access_token: token, expires_in: this.options.ttlSeconds, issued_at: now.toISOString() });
  }

  /** The part of `scope` ("repository:NAME:pull,push") granted to `user` (anonymous when undefined). */
  private grant(user: string | undefined, scope: string): Access | undefined {
    // resourcetype:resourcename:actions — the name may itself contain ':' (a host:port).
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first < 0 || last === first) return undefined;
    const type = scope.slice(0, first);
    const name = scope.slice(first + 1, last);
    const wanted = scope.slice(last + 1).split(',');
    if (type !== 'repository') return undefined;
    const allowed = user !== undefined ? ['pull', 'push'] : name.startsWith(this.options.publicPrefix) ? ['pull'] : [];
    const actions = wanted.filter((a) => allowed.includes(a));
    return actions.length > 0 ? { type, name, actions } : undefined;
  }

  /** A JWS compact serialisation (RS256) of the spec's claim set. */
  private sign(subject: string, access: Access[], now: Date): string {
    const seconds = Math.floor(now.getTime() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [this.x5c] };
    const claims = {
      iss: this.options.issuer,
      sub: subject,
      aud: this.options.service,
      exp: seconds + this.options.ttlSeconds,
      nbf: seconds,
      iat: seconds,
      jti: randomUUID(),
      access,
    };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    // RS256 is RSASSA-PKCS1-v1_5 with SHA-256: node:crypto's default padding for an RSA key.
    const signature = sign('sha256', Buffer.from(signingInput), this.key);
    return `${signingInput}.${base64url(signature)}`;
  }
}

/** Basic credentials of an Authorization header: undefined when absent, null when malformed. */
function parseBasic(header: string | undefined): { user: string; password: string } | undefined | null {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!m) return null;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
