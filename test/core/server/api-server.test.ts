import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { StationApi, StationEvent, WireMessage } from '../../../common/api.js';
import { stationError } from '../../../common/errors.js';
import { startApiServer, type ApiServer } from '../../../core/server/api-server.js';

const listeners = new Set<(e: StationEvent) => void>();
const api: StationApi = {
  call: async (name, args) => {
    if (name === 'runSlot') throw stationError('INVALID_INPUT', 'Slot 1 has no board waiting — plug a board first.', true);
    return { echoed: name, args } as never;
  },
  subscribe: (l) => {
    listeners.add(l);
    return () => listeners.delete(l);
  },
};

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('browser-mode API server', () => {
  let server: ApiServer;
  let dir: string;
  let base: string;
  const secret = 'test-secret-0123456789';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-static-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>station</title>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    writeFileSync(join(tmpdir(), 'outside.txt'), 'secret file');
    server = await startApiServer({ api, staticDir: dir, labelPdfPath: () => null, secret });
    base = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on loopback and prints a URL carrying the secret', () => {
    expect(server.url).toBe(`${base}/?key=${secret}`);
  });

  it('serves the page only with the secret', async () => {
    expect((await get(`${base}/`)).status).toBe(403);
    expect((await get(`${base}/?key=wrong`)).status).toBe(403);
    const ok = await get(server.url);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('<title>station</title>');
  });

  it('refuses path traversal and foreign Host headers', async () => {
    expect((await get(`${base}/app.js`)).status).toBe(200);
    expect((await get(`${base}/..%2Foutside.txt`)).status).toBe(404);
    expect((await get(`${base}/app.js`, { host: 'evil.example:80' })).status).toBe(421);
  });

  it('speaks the wire protocol over WebSocket, with errors as data and events pushed', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?key=${secret}`);
    const messages: WireMessage[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as WireMessage));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ kind: 'request', id: 1, name: 'getSnapshot', args: {} }));
    ws.send(JSON.stringify({ kind: 'request', id: 2, name: 'runSlot', args: { slotId: 'slot-1' } }));
    ws.send(JSON.stringify({ kind: 'request', id: 3, name: 'dropDatabase', args: {} }));
    await new Promise((r) => setTimeout(r, 100));
    for (const l of listeners) l({ type: 'stock', stock: { available: 1, reserved: 0, inProgress: 0, labelled: 0, failed: 0 } });
    await new Promise((r) => setTimeout(r, 100));
    ws.close();
    expect(messages).toContainEqual({ kind: 'response', id: 1, ok: true, result: { echoed: 'getSnapshot', args: {} } });
    expect(messages).toContainEqual(
      expect.objectContaining({ kind: 'response', id: 2, ok: false, error: expect.objectContaining({ code: 'INVALID_INPUT', operatorFault: true }) }),
    );
    expect(messages).toContainEqual(expect.objectContaining({ id: 3, ok: false }));
    expect(messages).toContainEqual({ kind: 'event', event: expect.objectContaining({ type: 'stock' }) });
  });

  it('refuses a WebSocket without the secret or from another origin', async () => {
    const attempt = (url: string, origin?: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url, origin ? { origin } : {});
        ws.on('open', () => {
          ws.close();
          resolve('open');
        });
        ws.on('error', () => resolve('refused'));
      });
    const closeCode = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?key=stale`);
      ws.on('message', () => resolve(-1));
      ws.on('close', (code) => resolve(code));
    });
    expect(closeCode).toBe(1008);
    expect(await attempt(`ws://127.0.0.1:${server.port}/api/ws?key=${secret}`, 'https://evil.example')).toBe('refused');
    expect(await attempt(`ws://127.0.0.1:${server.port}/api/ws?key=${secret}`, base)).toBe('open');
  });
});
