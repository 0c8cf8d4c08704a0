import { app, BrowserWindow, dialog, ipcMain, protocol, session } from 'electron';
import type { StationApi } from '../common/api.js';
import type { StationErrorData } from '../common/errors.js';
import { APP_ENTRY_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, createAppProtocolHandler } from './app-protocol.js';
import { bindStationIpc, isAppSender, type StationIpcBinding } from './ipc.js';
import { denyAllPermissions, hardenWebContents, mainWindowOptions } from './window-security.js';

/**
 * The Electron main process: one instance per machine (two stations driving the same serial ports
 * would fight over them), the core started once, one window that can come and go (reload, crash,
 * close on macOS) without touching the core. The core itself runs in a utility process
 * (electron/station-host-supervisor.ts); this process owns the windows and relays the station API
 * between the renderer's IPC and the core.
 */

/** The station core as the main process sees it: the API it relays, and a clean close. */
export interface StationHandle extends StationApi {
  close(): Promise<void>;
  /** The supervisor PIN made at the first start of this data folder, shown once; else null. */
  readonly initialSupervisorPin?: string | null;
}

export interface MainProcessOptions {
  /** Directory holding the built renderer (dist/renderer). */
  rendererDir: string;
  /** Absolute path of the bundled CommonJS preload. */
  preloadPath: string;
  /**
   * Starts the core; called once, after `app` is ready. `fail` reports that the core is down for
   * good later on (its restart budget spent): the app shows the sentence and exits.
   */
  loadStation(fail: (error: StationErrorData) => void): Promise<StationHandle>;
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
      station = await options.loadStation((error) => {
        dialog.showErrorBox('Flashline station core stopped', error.message);
        app.exit(1);
      });
    } catch (err) {
      dialog.showErrorBox(
        'Flashline could not start',
        err instanceof Error ? err.message : 'The station core failed to start.',
      );
      app.exit(1);
      return;
    }
    binding = bindStationIpc(ipcMain, station, isAppSender);
    const win = openWindow();
    const pin = station.initialSupervisorPin;
    if (pin) {
      // Made at the first start of this data folder; shown once, never logged.
      void dialog.showMessageBox(win, {
        type: 'info',
        title: 'Supervisor PIN',
        message: 'Write down the supervisor PIN; it is shown only this once.',
        detail: pin,
      });
    }
  });

  return { ready, window: () => mainWindow };
}
