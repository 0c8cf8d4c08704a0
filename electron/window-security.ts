import type { BrowserWindowConstructorOptions, Session, WebContents } from 'electron';

/**
 * Security settings for every window and session. The page is untrusted input as far as the main
 * process is concerned: it runs sandboxed and isolated, may not navigate anywhere, may not open
 * windows, and gets no browser permission (camera, serial, notifications, …). The station talks
 * to hardware from the main process, never from the page.
 */
export const MAIN_WINDOW_BACKGROUND = '#e9edf1';

export function mainWindowOptions(preloadPath: string, devTools: boolean): BrowserWindowConstructorOptions {
  return {
    width: 1600,
    height: 1000,
    minWidth: 1024,
    minHeight: 700,
    show: false,
    title: 'Flashline',
    backgroundColor: MAIN_WINDOW_BACKGROUND,
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      experimentalFeatures: false,
      spellcheck: false,
      devTools,
    },
  };
}

type Hardenable = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/** Denies every navigation, redirect, new window and <webview> for one WebContents. */
export function hardenWebContents(contents: Hardenable): void {
  // The UI is a single page: it never navigates. Reloads do not fire these events.
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-frame-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Refuses every permission request and answers every permission check with "no". */
export function denyAllPermissions(session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}
