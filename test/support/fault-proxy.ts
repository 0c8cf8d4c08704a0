import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What the proxy does to one request:
 * - `pass`: forward it and the reply unchanged;
 * - `down`: close the connection before reading the request (as if the cloud were not there);
 * - `slow`: forward nothing and answer nothing for `slowMs` (longer than the client's deadline);
 * - `http500`: answer 500 without forwarding;
 * - `cut-request`: read the request, close without forwarding (lost on the way there);
 * - `cut-reply`: forward it (the cloud acts on it), send the status line, headers and half the body,
 *   then close the connection: the reply is lost on the way back, the worst case for idempotency.
 */
export type Fault = 'pass' | 'down' | 'slow' | 'http500' | 'cut-request' | 'cut-reply';

export const FAULTS: readonly Exclude<Fault, 'pass'>[] = ['down', 'slow', 'http500', 'cut-request', 'cut-reply'];

export interface FaultProxy {
  url: string;
  /** Decides each request's fault from its path (default: everything passes). */
  setRule(rule: (path: string) => Fault): void;
  /** Requests seen per fault, for assertions that the fault was really exercised. */
  readonly seen: Record<Fault, number>;
  close(): Promise<void>;
}

/** A fault-injecting HTTP proxy on 127.0.0.1 in front of `upstream` (an `http://host:port`). */
export async function startFaultProxy(upstream: string, options: { slowMs?: number } = {}): Promise<FaultProxy> {
  const target = new URL(upstream);
  const slowMs = options.slowMs ?? 2_000;
  let rule: (path: string) => Fault = () => 'pass';
  const seen: Record<Fault, number> = { pass: 0, down: 0, slow: 0, http500: 0, 'cut-request': 0, 'cut-reply': 0 };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const fault = rule(req.url ?? '/');
    seen[fault]++;
    if (fault === 'down') {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      switch (fault) {
        case 'slow': {
          const timer = setTimeout(() => {
            timers.delete(timer);
            req.socket.destroy();
          }, slowMs);
          timers.add(timer);
          return;
        }
        case 'http500':
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'INTERNAL', message: 'injected' } }));
          return;
        case 'cut-request':
          req.socket.destroy();
          return;
        default:
          forward(req, body, res, fault === 'cut-reply');
      }
    });
  });

  function forward(req: IncomingMessage, body: Buffer, res: ServerResponse, cut: boolean): void {
    const headers = { ...req.headers, host: target.host };
    const upstreamReq = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers }, (upRes) => {
      const parts: Buffer[] = [];
      upRes.on('data', (c: Buffer) => parts.push(c));
      upRes.on('end', () => {
        const reply = Buffer.concat(parts);
        const { 'transfer-encoding': _te, 'content-length': _cl, ...rest } = upRes.headers;
        res.writeHead(upRes.statusCode ?? 502, { ...rest, 'content-length': String(reply.length) });
        if (!cut) {
          res.end(reply);
          return;
        }
        // Headers and half the body go out, then the connection dies mid-reply.
        res.write(reply.subarray(0, Math.floor(reply.length / 2)), () => req.socket.destroy());
      });
    });
    upstreamReq.on('error', () => req.socket.destroy());
    upstreamReq.end(body);
  }

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    setRule(next) {
      rule = next;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
