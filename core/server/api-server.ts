import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { isCommandName, SECRET_QUERY_PARAM, WS_PATH, type StationApi, type WireMessage } from '../../common/api.js';
import { toErrorData } from '../../common/errors.js';
import { resolveInside, sendFile } from './static-files.js';

export interface ApiServerOptions {
  api: StationApi;
  /** Built renderer (dist/renderer). */
  staticDir: string;
  /** Returns the path of a label sheet PDF, or null when there is no such sheet. */
  labelPdfPath: (sheetId: string) => string | null;
  host?: string;
  port?: number;
  /** Per-run secret; generated when absent. */
  secret?: string;
  log?: (line: string) => void;
}

export interface ApiServer {
  /** The URL to open, secret included. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Largest WebSocket message we accept. Commands are tiny except a supervisor's CSV pull, which
 * carries the file as base64 (at most 256 KiB of CSV, ~350 KB on the wire; common/command-schemas.ts).
 */
const MAX_WS_MESSAGE_BYTES = 512 * 1024;

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * Browser mode: serves the renderer and the station API (WebSocket) on loopback only. Every API
 * request must carry the per-run secret; the Host header must be a loopback name (DNS rebinding);
 * a WebSocket from another origin is refused.
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const secret = options.secret ?? randomBytes(24).toString('base64url');
  const secretBuf = Buffer.from(secret);
  const log = options.log ?? (() => undefined);

  const hasSecret = (url: URL): boolean => {
    const given = Buffer.from(url.searchParams.get(SECRET_QUERY_PARAM) ?? '');
    return given.length === secretBuf.length && timingSafeEqual(given, secretBuf);
  };
  const loopbackHost = (req: IncomingMessage): boolean => {
    const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '');
    return ['127.0.0.1', 'localhost', '[::1]'].includes(hostHeader);
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!loopbackHost(req)) {
      res.writeHead(421).end('misdirected request');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const security = { 'content-security-policy': CSP, 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' };
    const labelMatch = /^\/labels\/([A-Z0-9-]{1,40})\.pdf$/.exec(url.pathname);
    if (labelMatch) {
      if (!hasSecret(url)) {
        res.writeHead(403).end('forbidden');
        return;
      }
      let path: string | null;
      try {
        path = options.labelPdfPath(labelMatch[1] as string);
      } catch {
        path = null;
      }
      if (!path || !sendFile(res, path, security)) res.writeHead(404).end('no such sheet');
      return;
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      // The page itself is only served with the secret: it is what the operator's URL opens.
      if (!hasSecret(url)) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end('Open the station with the URL printed at start-up.');
        return;
      }
      if (!sendFile(res, join(options.staticDir, 'index.html'), security)) {
        res.writeHead(500).end('renderer not built: run npm run build:renderer');
      }
      return;
    }
    const path = resolveInside(options.staticDir, url.pathname);
    if (!path || !sendFile(res, path, security)) res.writeHead(404).end('not found');
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = req.headers.origin;
    const sameOrigin = origin === undefined || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(origin);
    if (url.pathname !== WS_PATH || !loopbackHost(req) || !sameOrigin) {
      socket.write('HTTP/1.1 403 Forbidden\r\n\r\n');
      socket.destroy();
      return;
    }
    if (!hasSecret(url)) {
      // Same-origin page with a stale or wrong key: accept, then close with 1008 (policy violation)
      // so the UI can tell the operator to reopen the printed link instead of retrying forever.
      wss.handleUpgrade(req, socket, head, (ws) => ws.close(1008, 'station key rejected'));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const send = (message: WireMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    };
    const unsubscribe = options.api.subscribe((event) => send({ kind: 'event', event }));
    ws.on('close', unsubscribe);
    ws.on('message', (data) => {
      let message: unknown;
      try {
        message = JSON.parse(data.toString());
      } catch {
        return;
      }
      const m = message as { kind?: unknown; id?: unknown; name?: unknown; args?: unknown };
      if (m.kind !== 'request' || typeof m.id !== 'number') return;
      const id = m.id;
      if (!isCommandName(m.name)) {
        send({ kind: 'response', id, ok: false, error: { code: 'INVALID_INPUT', message: 'Unknown command.', operatorFault: false } });
        return;
      }
      options.api
        .call(m.name, (m.args ?? {}) as never)
        .then((result) => send({ kind: 'response', id, ok: true, result }))
        .catch((err: unknown) => send({ kind: 'response', id, ok: false, error: toErrorData(err) }));
    });
  });

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolvePromise());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}/?${SECRET_QUERY_PARAM}=${encodeURIComponent(secret)}`;
  log(`station UI on http://${host}:${port}/`);
  return {
    url,
    port,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
