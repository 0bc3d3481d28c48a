/**
 * Serves the hub's web UI: the files Vite bundled into `dist/hub-ui/` (`npm run build:ui`).
 *
 * The hub calls {@link serveUi} for GET and HEAD requests outside `/v2/`, `/v1/`, `/api/` and
 * the token endpoint. It is a single-page app: `/assets/*` are content-hashed files served with
 * a year-long immutable cache; any other path answers `index.html` (never cached), and the app
 * routes in the browser. Every answer carries a strict Content-Security-Policy (scripts and
 * styles from the hub itself only, no inline script), `nosniff` and `X-Frame-Options: DENY`, so
 * a description that slipped past the Markdown renderer still could not run.
 *
 * Why no static-file package: the rules fit here, and path handling is the part worth owning —
 * the raw path is decoded once, anything with `..`, a backslash or a NUL is refused, and the
 * resolved file must stay inside the UI directory.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { packageRoot } from '../../core/package-root.js';

/** The security headers of every UI answer. */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt']);

interface CachedFile {
  mtimeMs: number;
  body: Buffer;
  gzip: Buffer | null;
  etag: string;
  type: string;
}

/** A file server for one UI directory (the hub uses {@link serveUi}; tests make their own). */
export function uiServer(dir: string): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const root = path.resolve(dir);
  const cache = new Map<string, CachedFile>();

  async function load(file: string): Promise<CachedFile | null> {
    let st;
    try {
      st = await stat(file);
    } catch {
      return null;
    }
    if (!st.isFile()) return null;
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs) return hit;
    const body = await readFile(file);
    const ext = path.extname(file).toLowerCase();
    // NOTE: node:zlib is looked up on first use, like node:http in hub.ts: nothing here may
    // load at the CLI's startup-snapshot build.
    const gzip = COMPRESSIBLE.has(ext) && body.length > 512 ? process.getBuiltinModule('node:zlib').gzipSync(body) : null;
    const entry: CachedFile = {
      mtimeMs: st.mtimeMs,
      body,
      gzip,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      type: TYPES[ext] ?? 'application/octet-stream',
    };
    cache.set(file, entry);
    return entry;
  }

  return async function serve(req, res) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const raw = (req.url ?? '/').split(/[?#]/, 1)[0] ?? '/';
    let pathname: string;
    try {
      pathname = decodeURIComponent(raw);
    } catch {
      return answer(res, 400, 'bad path');
    }
    const isAsset = pathname.startsWith('/assets/');
    let file: string;
    if (isAsset || /^\/[\w.-]+\.(?:ico|svg|png|txt|webp)$/.test(pathname)) {
      // Files by name: only plain relative names, resolved inside the UI directory.
      if (pathname.includes('\0') || pathname.includes('\\') || pathname.split('/').some((c) => c === '..' || c === '.')) {
        return answer(res, 404, 'not found');
      }
      file = path.resolve(root, `.${pathname}`);
      if (!file.startsWith(root + path.sep)) return answer(res, 404, 'not found');
    } else {
      file = path.join(root, 'index.html');
    }
    let entry = await load(file);
    if (!entry && !isAsset && file !== path.join(root, 'index.html')) {
      file = path.join(root, 'index.html');
      entry = await load(file);
    }
    if (!entry) {
      // No UI built (a checkout without `npm run build:ui`): let the hub answer as before.
      if (!isAsset && !(await load(path.join(root, 'index.html')))) return false;
      return answer(res, 404, 'not found');
    }
    const headers: Record<string, string> = {
      ...UI_SECURITY_HEADERS,
      'Content-Type': entry.type,
      ETag: entry.etag,
      Vary: 'Accept-Encoding',
      'Cache-Control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
    };
    if (req.headers['if-none-match'] === entry.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const gzip = entry.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? entry.gzip : null;
    const body = gzip ?? entry.body;
    if (gzip) headers['Content-Encoding'] = 'gzip';
    headers['Content-Length'] = String(body.length);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}

function answer(res: ServerResponse, status: number, text: string): boolean {
  res.writeHead(status, { ...UI_SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
  return true;
}

let shared: ReturnType<typeof uiServer> | undefined;

/**
 * Answers a GET or HEAD request with the bundled UI (`<package root>/dist/hub-ui/`). Resolves
 * false when the request is not one it serves (another method) or the UI was not built, so the
 * hub answers it as before; true once it has answered.
 */
export function serveUi(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  shared ??= uiServer(path.join(packageRoot(), 'dist', 'hub-ui'));
  return shared(req, res);
}
