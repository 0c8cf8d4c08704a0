import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { startApiServer } from '../core/server/api-server.js';
import { startEmbeddedStation, type EmbeddedStation, type EmbeddedStationOptions } from './embedded-station.js';

export interface BrowserModeOptions extends EmbeddedStationOptions {
  port?: number;
  staticDir?: string;
}

export interface BrowserModeStation extends EmbeddedStation {
  /** The URL to open, with the per-run secret. */
  url: string;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The embedded station, served to a browser on 127.0.0.1 (headless stations and every e2e test). */
export async function startBrowserMode(options: BrowserModeOptions = {}): Promise<BrowserModeStation> {
  const station = await startEmbeddedStation(options);
  try {
    const server = await startApiServer({
      api: station.service,
      staticDir: options.staticDir ?? join(ROOT, 'dist', 'renderer'),
      labelPdfPath: (sheetId) => {
        const path = station.labels.pdfPath(sheetId);
        return existsSync(path) ? path : null;
      },
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    const closeStation = station.close;
    return Object.assign(station, {
      url: server.url,
      close: async () => {
        await server.close();
        await closeStation();
      },
    });
  } catch (err) {
    await station.close();
    throw err;
  }
}
