import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The Electron binary, when this machine has one. The `electron` npm package resolves to the path
 * of a binary it downloads on first use; where that download is impossible the path does not exist
 * (or requiring the package throws), and the station runs in browser mode instead.
 */
export function electronBinary(): string | null {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}
