import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { STATION_CALL_CHANNEL } from '../../electron/ipc-channels.js';

type AnyFn = (...args: any[]) => any;

/** A scriptable stand-in for the parts of Electron the main process touches. */
const fake = vi.hoisted(() => {
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
    dialog: { showErrorBox: vi.fn() },
    ipcMain: { handle: vi.fn(), removeHandler: vi.fn() },
    protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
    session: {
      defaultSession: { setPermissionRequestHandler: vi.fn(), setPermissionCheckHandler: vi.fn() },
    },
  };
  return { state, electron, makeContents };
});

vi.mock('electron', () => fake.electron);

const { startMainProcess } = await import('../../electron/main-process.js');

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
});
