import { fileURLToPath } from 'node:url';
import { app } from 'electron';
import { startMainProcess } from './main-process.js';

/**
 * Electron entry (bundled to dist/electron/main.js). The renderer build sits in dist/renderer and
 * the preload beside this file as preload.cjs: sandboxed preloads must be CommonJS.
 */
const rendererDir = fileURLToPath(new URL('../renderer/', import.meta.url));
const preloadPath = fileURLToPath(new URL('./preload.cjs', import.meta.url));

startMainProcess({
  rendererDir,
  preloadPath,
  loadStation: async () => {
    const { startEmbeddedStation } = await import('../app/embedded-station.js');
    return startEmbeddedStation({ dataDir: app.getPath('userData') });
  },
});
