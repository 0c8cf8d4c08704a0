import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { STATION_CALL_CHANNEL } from '../../electron/ipc-channels.js';

type AnyFn = (...args: any[]) => any;

/** A scriptable stand-in for the parts of Electron the main process touches. */
const fake = await vi.hoisted(async () => {
  const utility = (await import('./fake-utility-process.js')).createFakeUtilityProcess();
  const state = {
    appListeners: new Map<string, AnyFn[]>(),
    windows: [] as any[],
    lock: true,
  };
  const on = (map: Map<string, AnyFn[]>) => (name: string, listener: AnyFn) => {
    map.set(name, [...(map.get(name) ?? []), listener]);
  };
  const makeContents = () => {
    const listeners = new Map<string, AnyFn[]>();
    return {
      listeners,
      on: vi.fn(on(listeners)),
      once: vi.fn(on(listeners)),
      setWindowOpenHandler: vi.fn(),
      send: vi.fn(),
      isDestroyed: vi.fn(() => false),
      reload: vi.fn(),
    };
  };
  class BrowserWindow {
    options: any;
    webContents = makeContents();
    listeners = new Map<string, AnyFn[]>();
    loadURL = vi.fn(async () => undefined);
    show = vi.fn();
    focus = vi.fn();
    restore = vi.fn();
    isMinimized = vi.fn(() => false);
    isDestroyed = vi.fn(() => false);
    on = vi.fn(on(this.listeners));
    once = vi.fn(on(this.listeners));
    constructor(options: any) {
      this.options = options;
      state.windows.push(this);
    }
  }
  const electron = {
    app: {
      isPackaged: true,
      requestSingleInstanceLock: vi.fn(() => state.lock),
      quit: vi.fn(),
      exit: vi.fn(),
      on: vi.fn(on(state.appListeners)),
      whenReady: vi.fn(() => Promise.resolve()),
    },
    BrowserWindow,
    dialog: { showErrorBox: vi.fn(), showMessageBox: vi.fn(async () => ({ response: 0, checkboxChecked: false })) },
    utilityProcess: utility.utilityProcess,
    ipcMain: { handle: vi.fn(), removeHandler: vi.fn() },
    protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
    session: {
      defaultSession: { setPermissionRequestHandler: vi.fn(), setPermissionCheckHandler: vi.fn() },
    },
  };
  return { state, electron, makeContents, utility };
});

vi.mock('electron', () => fake.electron);

const { startMainProcess, RENDERER_RELOAD_DELAY_MS } = await import('../../electron/main-process.js');
const { StationHostSupervisor } = await import('../../electron/station-host-supervisor.js');
const { forkUtilityHost } = await import('../../electron/utility-host-channel.js');

function fakeStation() {
  return {
    call: vi.fn(async () => ({ accepted: true })),
    subscribe: vi.fn(() => () => undefined),
    close: vi.fn(async () => undefined),
  };
}

let rendererDir: string;

beforeEach(async () => {
  vi.clearAllMocks();
  fake.state.appListeners.clear();
  fake.state.windows.length = 0;
  fake.state.lock = true;
  fake.utility.children.length = 0;
  rendererDir = await mkdtemp(path.join(tmpdir(), 'flashline-main-'));
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html>');
});

afterEach(async () => {
  await rm(rendererDir, { recursive: true, force: true });
});

async function start(station = fakeStation()) {
  const main = startMainProcess({ rendererDir, preloadPath: '/app/preload.cjs', loadStation: async () => station as never });
  expect(main).not.toBeNull();
  await main!.ready;
  return { main: main!, station };
}

const emitApp = (name: string, ...args: unknown[]) => fake.state.appListeners.get(name)?.forEach((l) => l(...args));

describe('startMainProcess', () => {
  it('registers app:// as a privileged standard, secure scheme before ready', async () => {
    await start();
    expect(fake.electron.protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([
      expect.objectContaining({ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }),
    ]);
    const order = (fn: { mock: { invocationCallOrder: number[] } }) => fn.mock.invocationCallOrder[0]!;
    expect(order(fake.electron.protocol.registerSchemesAsPrivileged)).toBeLessThan(order(fake.electron.app.whenReady));
  });

  it('opens one isolated, sandboxed window on app://flashline/ with the preload', async () => {
    await start();
    expect(fake.state.windows).toHaveLength(1);
    const win = fake.state.windows[0];
    expect(win.options.webPreferences).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      devTools: false,
    });
    expect(win.loadURL).toHaveBeenCalledWith('app://flashline/index.html');
  });

  it('serves the renderer through the protocol handler and refuses traversal', async () => {
    await start();
    const [scheme, handler] = fake.electron.protocol.handle.mock.calls[0] as [string, (r: Request) => Promise<Response>];
    expect(scheme).toBe('app');
    expect((await handler(new Request('app://flashline/index.html'))).status).toBe(200);
    expect((await handler(new Request('app://flashline/..%2f..%2fetc%2fpasswd'))).status).toBe(403);
  });

  it('denies navigation, new windows and permissions', async () => {
    await start();
    const contents = fake.state.windows[0].webContents;
    const event = { preventDefault: vi.fn() };
    contents.listeners.get('will-navigate')![0]!(event, 'https://evil.example/');
    expect(event.preventDefault).toHaveBeenCalled();
    const openHandler = contents.setWindowOpenHandler.mock.calls[0]![0] as AnyFn;
    expect(openHandler({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    const requestHandler = fake.electron.session.defaultSession.setPermissionRequestHandler.mock.calls[0]![0] as AnyFn;
    const callback = vi.fn();
    requestHandler(contents, 'media', callback);
    expect(callback).toHaveBeenCalledWith(false);
    const checkHandler = fake.electron.session.defaultSession.setPermissionCheckHandler.mock.calls[0]![0] as AnyFn;
    expect(checkHandler(contents, 'serial')).toBe(false);
  });

  it('hardens every other web contents the app creates', async () => {
    await start();
    const other = fake.makeContents();
    emitApp('web-contents-created', {}, other);
    expect(other.on).toHaveBeenCalledWith('will-navigate', expect.any(Function));
    expect((other.setWindowOpenHandler.mock.calls[0]![0] as AnyFn)({ url: 'x' })).toEqual({ action: 'deny' });
  });

  it('binds the station IPC channel to the core', async () => {
    await start();
    expect(fake.electron.ipcMain.handle).toHaveBeenCalledWith(STATION_CALL_CHANNEL, expect.any(Function));
  });

  it('quits at once when another instance holds the lock', () => {
    fake.state.lock = false;
    const main = startMainProcess({ rendererDir, preloadPath: '/p.cjs', loadStation: async () => fakeStation() as never });
    expect(main).toBeNull();
    expect(fake.electron.app.quit).toHaveBeenCalled();
    expect(fake.state.windows).toHaveLength(0);
  });

  it('closes the core before quitting', async () => {
    const { station } = await start();
    const event = { preventDefault: vi.fn() };
    emitApp('before-quit', event);
    expect(event.preventDefault).toHaveBeenCalled();
    await vi.waitFor(() => expect(fake.electron.app.quit).toHaveBeenCalled());
    expect(station.close).toHaveBeenCalledOnce();
    expect(fake.electron.ipcMain.removeHandler).toHaveBeenCalledWith(STATION_CALL_CHANNEL);
  });

  it('reloads a crashed renderer without touching the core', async () => {
    vi.useFakeTimers();
    try {
      const { station } = await start();
      const win = fake.state.windows[0];
      win.webContents.listeners.get('render-process-gone')![0]!({}, { reason: 'crashed', exitCode: 1 });
      await vi.runAllTimersAsync();
      expect(win.webContents.reload).toHaveBeenCalledOnce();
      expect(station.close).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });

  it('shows an error and exits when the core cannot start', async () => {
    const main = startMainProcess({
      rendererDir,
      preloadPath: '/p.cjs',
      loadStation: async () => {
        throw new Error('database is locked');
      },
    });
    await main!.ready;
    expect(fake.electron.dialog.showErrorBox).toHaveBeenCalledWith('Flashline could not start', 'database is locked');
    expect(fake.electron.app.exit).toHaveBeenCalledWith(1);
    expect(fake.state.windows).toHaveLength(0);
  });

  it('shows the supervisor PIN made at first start once, in a dialog', async () => {
    const station = { ...fakeStation(), initialSupervisorPin: '482913' };
    await start(station);
    expect(fake.electron.dialog.showMessageBox).toHaveBeenCalledOnce();
    const [win, box] = fake.electron.dialog.showMessageBox.mock.calls[0] as unknown as [unknown, { detail: string }];
    expect(win).toBe(fake.state.windows[0]);
    expect(box.detail).toBe('482913');
  });

  it('shows a clear error and exits when the core is down for good', async () => {
    let fail: ((error: { code: 'INTERNAL'; message: string; operatorFault: boolean }) => void) | undefined;
    const main = startMainProcess({
      rendererDir,
      preloadPath: '/p.cjs',
      loadStation: async (onFail) => {
        fail = onFail;
        return fakeStation() as never;
      },
    });
    await main!.ready;
    fail!({ code: 'INTERNAL', message: 'The station core stopped 4 times within 10 minutes.', operatorFault: false });
    expect(fake.electron.dialog.showErrorBox).toHaveBeenCalledWith('Flashline station core stopped', 'The station core stopped 4 times within 10 minutes.');
    expect(fake.electron.app.exit).toHaveBeenCalledWith(1);
  });
});

describe('main process with the station core in a utility process', () => {
  async function startWithHost() {
    const main = startMainProcess({
      rendererDir,
      preloadPath: '/p.cjs',
      loadStation: async (fail) => {
        const supervisor = new StationHostSupervisor({
          fork: () => forkUtilityHost('/app/station-host.js'),
          startOptions: { dataDir: '/data' },
          secrets: () => Promise.resolve(undefined),
          onGiveUp: fail,
        });
        await supervisor.start();
        return supervisor;
      },
    });
    await main!.ready;
    const handler = fake.electron.ipcMain.handle.mock.calls[0]![1] as AnyFn;
    const trusted = { senderFrame: { url: 'app://flashline/index.html', parent: null } };
    return { handler, trusted, host: fake.utility.children[0]! };
  }

  it('relays a renderer call through IPC to the utility process and back', async () => {
    const { handler, trusted, host } = await startWithHost();
    await expect(handler(trusted, 'runSlot', { slotId: 'slot-1' })).resolves.toEqual({ ok: true, result: { called: 'runSlot' } });
    expect(host.received.at(-1)).toMatchObject({ type: 'call', name: 'runSlot', args: { slotId: 'slot-1' } });
    // Relays station events to the window.
    host.reply({ type: 'event', event: { type: 'slot', slot: { id: 'slot-1', index: 1, state: { kind: 'empty' } } } });
    expect(fake.state.windows[0].webContents.send).toHaveBeenCalledWith('station:event', { type: 'slot', slot: { id: 'slot-1', index: 1, state: { kind: 'empty' } } });
  });

  it('a renderer crash or reload never stops or restarts the station core (a flashing slot goes on)', async () => {
    vi.useFakeTimers();
    try {
      const { handler, trusted, host } = await startWithHost();
      host.onCall = () => null;
      // A long call in flight (like a slot being provisioned) while the window goes away.
      const inFlight = handler(trusted, 'runSlot', { slotId: 'slot-1' });
      const win = fake.state.windows[0];
      win.webContents.listeners.get('render-process-gone')![0]!({}, { reason: 'crashed', exitCode: 1 });
      // The reload, and a whole minute of the core's heartbeat after it.
      await vi.advanceTimersByTimeAsync(RENDERER_RELOAD_DELAY_MS + 60_000);
      expect(win.webContents.reload).toHaveBeenCalledOnce();
      expect(fake.utility.utilityProcess.fork).toHaveBeenCalledOnce();
      expect(host.kill).not.toHaveBeenCalled();
      expect(host.received.some((m) => m.type === 'shutdown')).toBe(false);
      // The call finishes in the core and its answer is still delivered.
      const call = host.received.find((m) => m.type === 'call' && m.name === 'runSlot') as { id: number };
      host.reply({ type: 'result', id: call.id, ok: true, result: { accepted: true } });
      await expect(inFlight).resolves.toEqual({ ok: true, result: { accepted: true } });
    } finally {
      vi.useRealTimers();
    }
  });

  it('quitting the app shuts the core down cleanly', async () => {
    const { host } = await startWithHost();
    const event = { preventDefault: vi.fn() };
    emitApp('before-quit', event);
    await vi.waitFor(() => expect(fake.electron.app.quit).toHaveBeenCalled());
    expect(host.received.at(-1)).toEqual({ type: 'shutdown' });
    expect(host.exited).toBe(true);
    expect(host.kill).not.toHaveBeenCalled();
  });
});
