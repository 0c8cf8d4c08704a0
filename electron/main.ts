import { fileURLToPath } from 'node:url';
import { app, safeStorage } from 'electron';
import { STATION_HOST_BUNDLE } from '../app/station-host-protocol.js';
import { ensureDir } from '../core/app/data-dir.js';
import { startMainProcess } from './main-process.js';
import { loadStationSecrets } from './safe-storage-secrets.js';
import { StationHostSupervisor } from './station-host-supervisor.js';
import { forkUtilityHost } from './utility-host-channel.js';

/**
 * Electron entry (bundled to dist/electron/main.js). The renderer build sits in dist/renderer, the
 * preload beside this file as preload.cjs (sandboxed preloads must be CommonJS), and the station
 * core's utility-process entry beside it as station-host.js (app/station-host-entry.ts).
 */
const rendererDir = fileURLToPath(new URL('../renderer/', import.meta.url));
const preloadPath = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const hostEntryPath = fileURLToPath(new URL(`./${STATION_HOST_BUNDLE}`, import.meta.url));

const log = (line: string): void => {
  process.stderr.write(`flashline: ${line}\n`);
};

startMainProcess({
  rendererDir,
  preloadPath,
  loadStation: async (fail) => {
    const dataDir = ensureDir(app.getPath('userData'));
    // safeStorage is usable only after `ready` and only here, in the main process.
    const { secrets, store } = await loadStationSecrets(dataDir, safeStorage, { log });
    log(store.kind === 'safe-storage' ? 'station secrets: OS secret store' : `station secrets: 0600 files (${store.reason})`);
    const supervisor = new StationHostSupervisor({
      fork: () => forkUtilityHost(hostEntryPath, log),
      startOptions: { dataDir },
      secrets: () => Promise.resolve(secrets),
      onGiveUp: fail,
      log,
    });
    await supervisor.start();
    return supervisor;
  },
});
