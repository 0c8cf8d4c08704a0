import { describe, expect, it, vi } from 'vitest';
import { denyAllPermissions, hardenWebContents, mainWindowOptions } from '../../electron/window-security.js';

type Listener = (event: { preventDefault(): void }, ...rest: unknown[]) => void;

function fakeContents() {
  const listeners = new Map<string, Listener>();
  let openHandler: ((details: { url: string }) => { action: string }) | null = null;
  const contents = {
    on: vi.fn((name: string, listener: Listener) => {
      listeners.set(name, listener);
      return contents;
    }),
    setWindowOpenHandler: vi.fn((handler: (details: { url: string }) => { action: string }) => {
      openHandler = handler;
    }),
  };
  const fire = (name: string) => {
    const event = { preventDefault: vi.fn() };
    const listener = listeners.get(name);
    if (!listener) throw new Error(`no listener for ${name}`);
    listener(event, 'https://evil.example/');
    return event.preventDefault;
  };
  return { contents, fire, open: (url: string) => openHandler?.({ url }) };
}

describe('window security', () => {
  it('builds window options with isolation, sandbox and no node integration', () => {
    const options = mainWindowOptions('/app/preload.cjs', false);
    expect(options.webPreferences).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      devTools: false,
    });
  });

  it('denies navigation, redirects, webviews and new windows', () => {
    const { contents, fire, open } = fakeContents();
    hardenWebContents(contents as never);
    for (const name of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
      expect(fire(name)).toHaveBeenCalledOnce();
    }
    expect(open('https://evil.example/')).toEqual({ action: 'deny' });
    expect(open('app://flashline/index.html')).toEqual({ action: 'deny' });
  });

  it('denies every permission request and check', () => {
    let request: ((wc: unknown, permission: string, callback: (granted: boolean) => void) => void) | null = null;
    let check: ((wc: unknown, permission: string) => boolean) | null = null;
    const session = {
      setPermissionRequestHandler: vi.fn((handler) => {
        request = handler;
      }),
      setPermissionCheckHandler: vi.fn((handler) => {
        check = handler;
      }),
    };
    denyAllPermissions(session as never);
    for (const permission of ['media', 'serial', 'notifications', 'geolocation', 'usb']) {
      const callback = vi.fn();
      request!(null, permission, callback);
      expect(callback).toHaveBeenCalledWith(false);
      expect(check!(null, permission)).toBe(false);
    }
  });
});
