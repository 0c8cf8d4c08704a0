import { mkdirSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { join } from 'node:path';

/** The user-data folder, as Electron's `app.getPath('userData')` would pick it, or FLASHLINE_DATA_DIR. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLASHLINE_DATA_DIR) return env.FLASHLINE_DATA_DIR;
  const home = homedir();
  switch (platform()) {
    case 'win32':
      return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Flashline');
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'Flashline');
    default:
      return join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'flashline');
  }
}

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  return path;
}
