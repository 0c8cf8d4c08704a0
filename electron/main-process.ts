import { app, BrowserWindow, dialog, ipcMain, protocol, session } from 'electron';
import type { EmbeddedStation as StationHandle } from '../app/embedded-station.js';
import { APP_ENTRY_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, createAppProtocolHandler } from './app-protocol.js';
import { bindStationIpc, isAppSender, type StationIpcBinding } from './ipc.js';
import { denyAllPermissions, hardenWebContents, mainWindowOptions } from './window-security.js';

/**
 * The Electron main process: one instance per machine (two stations driving the same serial ports
 * would fight over them), the core started once, one window that can come and go (reload, crash,
 * close on macOS) without touching the core.
 */
export interface MainProcessOptions {
  /** Directory holding the built renderer (dist/renderer). */
  rendererDir: string;
  /** Absolute path of the bundled CommonJS preload. */
  preloadPath: string;
  /** Starts the core; called once, after `app` is ready. */
  loadStation(): Promise<StationHandle>;
  devTools?: boolean;
}

/** After a renderer crash, wait this long before reloading it (avoids a tight crash loop). */
export const RENDERER_RELOAD_DELAY_MS = 1_000;

export interface MainProcess {
  /** Resolves once the core is up and the first window is open. */
  ready: Promise<void>;
  window(): BrowserWindow | null;
}

/** Must run before `app` is ready: privileged schemes can only be registered that early. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME_PRIVILEGES.scheme, privileges: { ...APP_SCHEME_PRIVILEGES.privileges } },
  ]);
}

export function startMainProcess(options: MainProcessOptions): MainProcess | null {
  registerAppScheme();
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return null;
  }

  let station: StationHandle | null = null;
  let binding: StationIpcBinding | null = null;
  let mainWindow: BrowserWindow | null = null;
  let closing = false;

  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));

  const openWindow = (): BrowserWindow => {
    const win = new BrowserWindow(mainWindowOptions(options.preloadPath, options.devTools ?? !app.isPackaged));
    mainWindow = win;
    hardenWebContents(win.webContents);
    binding?.attach(win.webContents);
    win.once('ready-to-show', () => win.show());
    win.on('closed', () => {
      if (mainWindow === win) mainWindow = null;
    });
    win.webContents.on('render-process-gone', (_event, details) => {
      if (details.reason === 'clean-exit') return;
      // The core keeps running; the page is rebuilt and asks for a fresh snapshot.
      setTimeout(() => {
        if (!win.isDestroyed()) win.webContents.reload();
      }, RENDERER_RELOAD_DELAY_MS);
    });
    void win.loadURL(APP_ENTRY_URL);
    return win;
  };

  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });

  app.on('activate', () => {
    if (station && !mainWindow) openWindow();
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  app.on('before-quit', (event) => {
    if (!station || closing) return;
    // Hold the quit until the core has closed its database and ports.
    event.preventDefault();
    closing = true;
    const handle = station;
    binding?.dispose();
    handle
      .close()
      .catch(() => undefined)
      .finally(() => {
        station = null;
        app.quit();
      });
  });

  const ready = app.whenReady().then(async () => {
    protocol.handle(APP_SCHEME, createAppProtocolHandler(options.rendererDir));
    denyAllPermissions(session.defaultSession);
    try {
      station = await options.loadStation();
    } catch (err) {
      dialog.showErrorBox(
        'Flashline could not start',
        err instanceof Error ? err.message : 'The station core failed to start.',
      );
      app.exit(1);
      return;
    }
    binding = bindStationIpc(ipcMain, station, isAppSender);
    openWindow();
  });

  return { ready, window: () => mainWindow };
}
