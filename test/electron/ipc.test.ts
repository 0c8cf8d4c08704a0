import { describe, expect, it, vi } from 'vitest';
import type { StationApi, StationEvent } from '../../common/api.js';
import { stationError } from '../../common/errors.js';
import { bindStationIpc, isAppSender, parseStationCall } from '../../electron/ipc.js';
import { STATION_CALL_CHANNEL, STATION_EVENT_CHANNEL, type IpcReply } from '../../electron/ipc-channels.js';

type Handler = (event: unknown, ...args: unknown[]) => Promise<IpcReply>;

function fakeIpcMain() {
  const handlers = new Map<string, Handler>();
  return {
    handlers,
    handle: vi.fn((channel: string, handler: Handler) => {
      handlers.set(channel, handler);
    }),
    removeHandler: vi.fn((channel: string) => {
      handlers.delete(channel);
    }),
  };
}

function fakeApi() {
  const listeners = new Set<(event: StationEvent) => void>();
  const api = {
    call: vi.fn(async (name: string, args: unknown) => ({ called: name, args })),
    subscribe: vi.fn((listener: (event: StationEvent) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    }),
  };
  const emit = (event: StationEvent) => listeners.forEach((listener) => listener(event));
  return { api: api as unknown as StationApi & typeof api, listeners, emit };
}

const frame = (url: string, parent: unknown = null) => ({ senderFrame: { url, parent } });
const trusted = frame('app://flashline/index.html');

function fakeWindow() {
  let destroyed = false;
  let onDestroyed: (() => void) | null = null;
  return {
    send: vi.fn(),
    isDestroyed: () => destroyed,
    once: vi.fn((_name: 'destroyed', listener: () => void) => {
      onDestroyed = listener;
    }),
    destroy() {
      destroyed = true;
      onDestroyed?.();
    },
  };
}

const stockEvent: StationEvent = {
  type: 'stock',
  stock: { available: 9, reserved: 0, inProgress: 1, labelled: 2, failed: 0 },
};

describe('bindStationIpc', () => {
  it('forwards a well-formed call from the app window to the core', async () => {
    const ipc = fakeIpcMain();
    const { api } = fakeApi();
    bindStationIpc(ipc, api);
    const handler = ipc.handlers.get(STATION_CALL_CHANNEL)!;
    const reply = await handler(trusted, 'runSlot', { slotId: 'slot-2' });
    expect(api.call).toHaveBeenCalledWith('runSlot', { slotId: 'slot-2' });
    expect(reply).toEqual({ ok: true, result: { called: 'runSlot', args: { slotId: 'slot-2' } } });
  });

  it.each([
    ['another origin', frame('https://evil.example/')],
    ['a file:// page', frame('file:///tmp/index.html')],
    ['a subframe of the app', frame('app://flashline/index.html', { url: 'app://flashline/index.html' })],
    ['no frame at all', { senderFrame: null }],
  ])('rejects a call from %s without reaching the core', async (_label, sender) => {
    const ipc = fakeIpcMain();
    const { api } = fakeApi();
    bindStationIpc(ipc, api);
    const reply = await ipc.handlers.get(STATION_CALL_CHANNEL)!(sender, 'runSlot', { slotId: 'slot-1' });
    expect(reply).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    expect(api.call).not.toHaveBeenCalled();
  });

  it.each([
    ['an unknown command', 'eraseEverything', {}],
    ['a non-string command', 42, {}],
    ['missing args', 'runSlot', undefined],
    ['a wrong arg type', 'runSlot', { slotId: 7 }],
    ['an empty slot id', 'clearSlot', { slotId: '' }],
    ['an extra field', 'runSlot', { slotId: 'slot-1', token: 'x' }],
    ['a slot id of the wrong shape', 'runSlot', { slotId: '../../etc' }],
    ['args for a no-arg command', 'getSnapshot', { all: true }],
  ])('rejects %s as INVALID_INPUT without reaching the core', async (_label, name, args) => {
    const ipc = fakeIpcMain();
    const { api } = fakeApi();
    bindStationIpc(ipc, api);
    const reply = await ipc.handlers.get(STATION_CALL_CHANNEL)!(trusted, name, args);
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', operatorFault: false } });
    expect(api.call).not.toHaveBeenCalled();
  });

  it('returns a core StationError as data and hides the text of unknown errors', async () => {
    const ipc = fakeIpcMain();
    const { api } = fakeApi();
    bindStationIpc(ipc, api);
    const handler = ipc.handlers.get(STATION_CALL_CHANNEL)!;
    api.call.mockRejectedValueOnce(stationError('NO_TOKENS_AVAILABLE', 'No tokens left; pull a new batch.', true));
    expect(await handler(trusted, 'runSlot', { slotId: 'slot-1' })).toEqual({
      ok: false,
      error: { code: 'NO_TOKENS_AVAILABLE', message: 'No tokens left; pull a new batch.', operatorFault: true },
    });
    api.call.mockRejectedValueOnce(new Error('SQLITE_BUSY at /home/op/secret path'));
    const reply = await handler(trusted, 'getSnapshot', {});
    expect(reply).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(reply)).not.toContain('SQLITE_BUSY');
  });

  it('pushes events only to live windows and survives a window that throws', () => {
    const ipc = fakeIpcMain();
    const { api, emit } = fakeApi();
    const binding = bindStationIpc(ipc, api);
    const alive = fakeWindow();
    const dead = fakeWindow();
    const broken = fakeWindow();
    broken.send.mockImplementation(() => {
      throw new Error('render frame was disposed');
    });
    const afterBroken = fakeWindow();
    binding.attach(alive);
    binding.attach(dead);
    binding.attach(broken);
    binding.attach(afterBroken);
    dead.destroy();
    expect(() => emit(stockEvent)).not.toThrow();
    expect(alive.send).toHaveBeenCalledWith(STATION_EVENT_CHANNEL, stockEvent);
    expect(broken.send).toHaveBeenCalledOnce();
    expect(afterBroken.send).toHaveBeenCalledWith(STATION_EVENT_CHANNEL, stockEvent);
    expect(dead.send).not.toHaveBeenCalled();
  });

  it('stops pushing after detach and removes everything on dispose', () => {
    const ipc = fakeIpcMain();
    const { api, emit, listeners } = fakeApi();
    const binding = bindStationIpc(ipc, api);
    const win = fakeWindow();
    const detach = binding.attach(win);
    detach();
    emit(stockEvent);
    expect(win.send).not.toHaveBeenCalled();
    binding.dispose();
    expect(ipc.removeHandler).toHaveBeenCalledWith(STATION_CALL_CHANNEL);
    expect(listeners.size).toBe(0);
  });

  it('accepts the custom trust check it is given', async () => {
    const ipc = fakeIpcMain();
    const { api } = fakeApi();
    bindStationIpc(ipc, api, () => false);
    const reply = await ipc.handlers.get(STATION_CALL_CHANNEL)!(trusted, 'getSnapshot', {});
    expect(reply).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
  });
});

describe('isAppSender / parseStationCall', () => {
  it('trusts only the top-level app:// frame', () => {
    expect(isAppSender(trusted as never)).toBe(true);
    expect(isAppSender(frame('app://other/index.html') as never)).toBe(false);
  });

  it('returns the parsed args for a good call', () => {
    expect(parseStationCall('plugVirtualBoard', { slotId: 'slot-8' })).toEqual({
      ok: true,
      name: 'plugVirtualBoard',
      args: { slotId: 'slot-8' },
    });
    expect(parseStationCall('getSnapshot', {})).toEqual({ ok: true, name: 'getSnapshot', args: {} });
  });
});
