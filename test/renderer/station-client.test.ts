import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StationEvent, WireMessage } from '../../common/api.js';
import { StationError } from '../../common/errors.js';
import {
  REQUEST_TIMEOUT_MS,
  WebSocketStationClient,
  backoffDelayMs,
  createStationClient,
  rehydrateError,
  stationSocketUrl,
  type ConnectionState,
  type SocketLike,
} from '../../renderer/src/station-client.js';

/** A WebSocket stand-in the test drives by hand: open, deliver, close. */
class FakeSocket implements SocketLike {
  readyState = 0;
  sent: WireMessage[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data) as WireMessage);
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  deliver(message: WireMessage | string): void {
    this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) });
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

let sockets: FakeSocket[];
const createSocket = (url: string) => {
  const socket = new FakeSocket(url);
  sockets.push(socket);
  return socket;
};

function connectedClient() {
  const client = new WebSocketStationClient({ url: 'ws://127.0.0.1:4000/api/ws?key=abc', createSocket });
  const states: ConnectionState[] = [];
  client.onConnectionChange((state) => states.push(state));
  sockets[0]!.open();
  return { client, socket: sockets[0]!, states };
}

const lastRequest = (socket: FakeSocket) => {
  const message = socket.sent.at(-1);
  if (message?.kind !== 'request') throw new Error('no request sent');
  return message;
};

beforeEach(() => {
  sockets = [];
});

afterEach(() => {
  vi.useRealTimers();
});

describe('WebSocketStationClient', () => {
  it('matches responses to requests by id, whatever their order', async () => {
    const { client, socket } = connectedClient();
    const first = client.call('runSlot', { slotId: 'slot-1' });
    const second = client.call('clearSlot', { slotId: 'slot-2' });
    const [a, b] = socket.sent as Extract<WireMessage, { kind: 'request' }>[];
    expect(a).toEqual({ kind: 'request', id: a!.id, name: 'runSlot', args: { slotId: 'slot-1' } });
    expect(b!.id).not.toBe(a!.id);
    socket.deliver({ kind: 'response', id: b!.id, ok: true, result: { cleared: true } });
    socket.deliver({ kind: 'response', id: a!.id, ok: true, result: { accepted: true } });
    await expect(first).resolves.toEqual({ accepted: true });
    await expect(second).resolves.toEqual({ cleared: true });
  });

  it('rehydrates an error response into a StationError with all its fields', async () => {
    const { client, socket } = connectedClient();
    const pending = client.call('runSlot', { slotId: 'slot-3' });
    socket.deliver({
      kind: 'response',
      id: lastRequest(socket).id,
      ok: false,
      error: { code: 'BUSY', message: 'Slot 3 is busy; wait for it.', operatorFault: true, details: { slot: 3 } },
    });
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StationError);
    expect(err).toMatchObject({ code: 'BUSY', message: 'Slot 3 is busy; wait for it.', operatorFault: true, details: { slot: 3 } });
  });

  it('turns an unreadable error into INTERNAL without its text', async () => {
    const { client, socket } = connectedClient();
    const pending = client.call('getSnapshot', {});
    socket.deliver(JSON.stringify({ kind: 'response', id: lastRequest(socket).id, ok: false, error: { oops: 'stack at /x' } }));
    const err = (await pending.catch((e: unknown) => e)) as StationError;
    expect(err.code).toBe('INTERNAL');
    expect(err.message).not.toContain('stack');
  });

  it('delivers events to subscribers and ignores junk frames', () => {
    const { client, socket } = connectedClient();
    const seen: StationEvent[] = [];
    const unsubscribe = client.subscribe((event) => seen.push(event));
    const event: StationEvent = { type: 'slot', slot: { id: 'slot-1', index: 1, state: { kind: 'empty' } } };
    socket.deliver('not json');
    socket.deliver(JSON.stringify({ kind: 'event' }));
    socket.deliver({ kind: 'event', event });
    unsubscribe();
    socket.deliver({ kind: 'event', event });
    expect(seen).toEqual([event]);
  });

  it('rejects calls while disconnected instead of queueing them', async () => {
    const client = new WebSocketStationClient({ url: 'ws://h/api/ws', createSocket });
    const err = (await client.call('runSlot', { slotId: 'slot-1' }).catch((e: unknown) => e)) as StationError;
    expect(err).toBeInstanceOf(StationError);
    expect(err.details).toEqual({ reason: 'not-connected' });
    expect(sockets[0]!.sent).toEqual([]);
  });

  it('fails pending calls when the socket drops, then reconnects with backoff', async () => {
    vi.useFakeTimers();
    const { client, socket, states } = connectedClient();
    const pending = client.call('runSlot', { slotId: 'slot-1' });
    socket.drop();
    const err = (await pending.catch((e: unknown) => e)) as StationError;
    expect(err.details).toEqual({ reason: 'disconnected' });
    expect(client.connectionState()).toBe('reconnecting');
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(backoffDelayMs(0));
    expect(sockets).toHaveLength(2);
    sockets[1]!.drop();
    vi.advanceTimersByTime(backoffDelayMs(1) - 1);
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(3);
    sockets[2]!.open();
    expect(states).toEqual(['connected', 'reconnecting', 'connected']);
    // A late frame on the dead socket must not answer a call made on the new one.
    const again = client.call('runSlot', { slotId: 'slot-2' });
    const { id } = lastRequest(sockets[2]!);
    socket.deliver({ kind: 'response', id, ok: true, result: { stale: true } });
    sockets[2]!.deliver({ kind: 'response', id, ok: true, result: { accepted: true } });
    await expect(again).resolves.toEqual({ accepted: true });
    client.close();
    expect(client.connectionState()).toBe('connected');
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(3);
  });

  it('stops reconnecting when the server refuses the key (1008)', () => {
    vi.useFakeTimers();
    const { client, socket } = connectedClient();
    socket.drop(1008);
    expect(client.connectionState()).toBe('refused');
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
  });

  it('times out a call that never gets an answer', async () => {
    vi.useFakeTimers();
    const { client } = connectedClient();
    const pending = client.call('runSlot', { slotId: 'slot-1' }).catch((e: unknown) => e);
    vi.advanceTimersByTime(REQUEST_TIMEOUT_MS);
    expect(((await pending) as StationError).details).toEqual({ reason: 'timeout' });
  });

  it('caps the backoff', () => {
    expect(backoffDelayMs(0)).toBe(250);
    expect(backoffDelayMs(1)).toBe(500);
    expect(backoffDelayMs(30)).toBe(5_000);
  });
});

describe('createStationClient', () => {
  const location = { protocol: 'http:', host: '127.0.0.1:4123', search: '?key=s3cr%2Bet&x=1' };

  it('builds the socket URL from the page host and the ?key= secret', () => {
    expect(stationSocketUrl(location)).toBe('ws://127.0.0.1:4123/api/ws?key=s3cr%2Bet');
    expect(stationSocketUrl({ protocol: 'https:', host: 'h', search: '' })).toBe('wss://h/api/ws');
  });

  it('uses the WebSocket when there is no preload bridge', () => {
    const client = createStationClient({ location, createSocket });
    expect(client.mode).toBe('websocket');
    expect(sockets[0]!.url).toBe('ws://127.0.0.1:4123/api/ws?key=s3cr%2Bet');
    client.close();
  });

  it('prefers window.station and rehydrates its plain-object rejections', async () => {
    const bridge = {
      call: vi.fn(async () => {
        throw { code: 'NOT_FOUND', message: 'No slot 9 on this station.', operatorFault: true };
      }),
      subscribe: vi.fn(() => () => undefined),
    };
    const client = createStationClient({ station: bridge, location, createSocket });
    expect(client.mode).toBe('electron');
    expect(client.connectionState()).toBe('connected');
    expect(sockets).toHaveLength(0);
    const err = (await client.call('runSlot', { slotId: 'slot-9' }).catch((e: unknown) => e)) as StationError;
    expect(err).toBeInstanceOf(StationError);
    expect(err.code).toBe('NOT_FOUND');
    expect(bridge.call).toHaveBeenCalledWith('runSlot', { slotId: 'slot-9' });
  });

  it('rehydrateError keeps StationErrors and wraps anything else', () => {
    const original = new StationError({ code: 'BUSY', message: 'Busy.', operatorFault: true });
    expect(rehydrateError(original)).toBe(original);
    expect(rehydrateError(new Error('x')).code).toBe('INTERNAL');
  });
});
