import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * The renderer is served from `app://flashline/`, a privileged standard+secure scheme, never from
 * file://. Standard gives the page a real origin ('self' in the CSP means app://flashline), secure
 * makes it a secure context. Files come only from the built renderer directory.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'flashline';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** Sent as a response header on every file, on top of the meta tag in index.html. */
export const APP_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Shape of the `CustomScheme` entry handed to `protocol.registerSchemesAsPrivileged`. */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, codeCache: true },
} as const;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export type ResolvedAppPath = { ok: true; filePath: string } | { ok: false; status: 403 | 404 };

const REFUSED: ResolvedAppPath = { ok: false, status: 403 };
const NOT_FOUND: ResolvedAppPath = { ok: false, status: 404 };

function hasDotDotSegment(decodedPath: string): boolean {
  return decodedPath.split(/[/\\]/).some((segment) => segment === '..');
}

/** The raw path part of `app://host/path?query#hash`, before any URL normalisation. */
function rawPathOf(requestUrl: string): string {
  const afterScheme = requestUrl.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  return afterScheme.split(/[?#]/, 1)[0] ?? '';
}

/**
 * Maps a request URL to a file under `rootDir`. Refuses (403) anything that tries to climb out:
 * `..` segments raw or percent-encoded, backslashes, NUL bytes, absolute or drive paths.
 */
export function resolveAppPath(rootDir: string, requestUrl: string): ResolvedAppPath {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return NOT_FOUND;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host.toLowerCase() !== APP_HOST) return NOT_FOUND;
  let rawDecoded: string;
  let decoded: string;
  try {
    rawDecoded = decodeURIComponent(rawPathOf(requestUrl));
    decoded = decodeURIComponent(url.pathname);
  } catch {
    return REFUSED;
  }
  for (const candidate of [rawDecoded, decoded]) {
    if (candidate.includes('\0') || candidate.includes('\\') || hasDotDotSegment(candidate)) return REFUSED;
  }
  const relative = decoded.replace(/^\/+/, '') || 'index.html';
  const root = path.resolve(rootDir);
  const filePath = path.resolve(root, relative);
  const fromRoot = path.relative(root, filePath);
  if (fromRoot === '' || fromRoot.startsWith('..') || path.isAbsolute(fromRoot)) return REFUSED;
  return { ok: true, filePath };
}

export interface AppProtocolDeps {
  readFile(filePath: string): Promise<Uint8Array>;
  isFile(filePath: string): Promise<boolean>;
}

const fileSystem: AppProtocolDeps = {
  readFile: (filePath) => readFile(filePath),
  isFile: async (filePath) => {
    try {
      return (await stat(filePath)).isFile();
    } catch {
      return false;
    }
  },
};

function plain(status: number, text: string): Response {
  return new Response(text, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
  });
}

/** The handler for `protocol.handle(APP_SCHEME, …)`. GET/HEAD only; everything else is 405. */
export function createAppProtocolHandler(
  rootDir: string,
  deps: AppProtocolDeps = fileSystem,
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405, 'method not allowed');
    const resolved = resolveAppPath(rootDir, request.url);
    if (!resolved.ok) return plain(resolved.status, resolved.status === 403 ? 'forbidden' : 'not found');
    if (!(await deps.isFile(resolved.filePath))) return plain(404, 'not found');
    const body = await deps.readFile(resolved.filePath);
    const type = CONTENT_TYPES[path.extname(resolved.filePath).toLowerCase()] ?? 'application/octet-stream';
    return new Response(request.method === 'HEAD' ? null : Buffer.from(body), {
      status: 200,
      headers: {
        'content-type': type,
        'content-security-policy': APP_CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-cache',
      },
    });
  };
}

/** True for URLs on our own origin (used for the IPC sender check). */
export function isAppUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === `${APP_SCHEME}:` && url.host.toLowerCase() === APP_HOST;
  } catch {
    return false;
  }
}
