import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { StationApi } from '../../common/api.js';
import { STATION_CALL_CHANNEL, STATION_EVENT_CHANNEL } from '../../electron/ipc-channels.js';

const electron = vi.hoisted(() => ({
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: { invoke: vi.fn(), on: vi.fn(), removeListener: vi.fn(), send: vi.fn() },
}));

vi.mock('electron', () => electron);

async function loadPreload(): Promise<StationApi> {
  vi.resetModules();
  electron.contextBridge.exposeInMainWorld.mockClear();
  await import('../../electron/preload.js');
  expect(electron.contextBridge.exposeInMainWorld).toHaveBeenCalledOnce();
  const [key, api] = electron.contextBridge.exposeInMainWorld.mock.calls[0] as [string, StationApi];
  expect(key).toBe('station');
  return api;
}

describe('preload', () => {
  beforeEach(() => {
    electron.ipcRenderer.invoke.mockReset();
    electron.ipcRenderer.on.mockReset();
    electron.ipcRenderer.removeListener.mockReset();
  });

  it('exposes exactly station.call and station.subscribe', async () => {
    const api = await loadPreload();
    expect(Object.keys(api).sort()).toEqual(['call', 'subscribe']);
    expect(typeof api.call).toBe('function');
    expect(typeof api.subscribe).toBe('function');
  });

  it('sends calls over the station:call channel and unwraps the reply', async () => {
    const api = await loadPreload();
    electron.ipcRenderer.invoke.mockResolvedValueOnce({ ok: true, result: { accepted: true } });
    await expect(api.call('runSlot', { slotId: 'slot-1' })).resolves.toEqual({ accepted: true });
    expect(electron.ipcRenderer.invoke).toHaveBeenCalledWith(STATION_CALL_CHANNEL, 'runSlot', { slotId: 'slot-1' });
  });

  it('rejects with the plain error data the main process sent', async () => {
    const api = await loadPreload();
    const error = { code: 'BUSY', message: 'Slot 1 is busy; wait for it to finish.', operatorFault: true };
    electron.ipcRenderer.invoke.mockResolvedValueOnce({ ok: false, error });
    await expect(api.call('runSlot', { slotId: 'slot-1' })).rejects.toEqual(error);
  });

  it('hands listeners the station event only, never the IPC event, and unsubscribes', async () => {
    const api = await loadPreload();
    const listener = vi.fn();
    const unsubscribe = api.subscribe(listener);
    expect(electron.ipcRenderer.on).toHaveBeenCalledWith(STATION_EVENT_CHANNEL, expect.any(Function));
    const forward = electron.ipcRenderer.on.mock.calls[0]![1] as (ipcEvent: unknown, event: unknown) => void;
    const stationEvent = { type: 'stock', stock: { available: 1, reserved: 0, inProgress: 0, labelled: 0, failed: 0 } };
    forward({ sender: 'ipc internals' }, stationEvent);
    expect(listener).toHaveBeenCalledExactlyOnceWith(stationEvent);
    unsubscribe();
    expect(electron.ipcRenderer.removeListener).toHaveBeenCalledWith(STATION_EVENT_CHANNEL, forward);
  });
});
