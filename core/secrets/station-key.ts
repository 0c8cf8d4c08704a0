import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stationError } from '../../common/errors.js';

/** Length of the station's master key (AES-256 and HMAC-SHA256 keys are derived from it). */
export const STATION_KEY_BYTES = 32;

/**
 * Where the station's master key comes from. Plain Node: a 0600 file in the data folder
 * (`FileStationKey`). Electron can supply one kept under `safeStorage` (the OS secret store) by
 * implementing this interface in electron/ and handing it to openStationDatabase.
 */
export interface StationKeySource {
  /** The 32-byte master key; created on first use. Never logged. */
  loadKey(): Buffer;
}

/** The master key in a file readable by the station's user only (mode 0600), created on first start. */
export class FileStationKey implements StationKeySource {
  constructor(private readonly path: string) {}

  loadKey(): Buffer {
    if (existsSync(this.path)) {
      // A key file others can read is tightened, not trusted blindly and not refused: the data
      // folder itself is 0700, and refusing would stop the line.
      if ((statSync(this.path).mode & 0o077) !== 0 && process.platform !== 'win32') chmodSync(this.path, 0o600);
      const key = Buffer.from(readFileSync(this.path, 'utf8').trim(), 'base64');
      if (key.length !== STATION_KEY_BYTES) {
        throw stationError('INTERNAL', `The station key file ${this.path} is damaged; restore it from backup (the token queue cannot be read without it).`);
      }
      return key;
    }
    const key = randomBytes(STATION_KEY_BYTES);
    writeFileSync(this.path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  }
}

/** A key that lives only as long as the process (tests, and databases opened without a key source). */
export class EphemeralStationKey implements StationKeySource {
  private readonly key = randomBytes(STATION_KEY_BYTES);
  loadKey(): Buffer {
    return this.key;
  }
}

/** The station key file that belongs to a station database: `station.key` beside it. */
export function stationKeyBeside(databasePath: string): FileStationKey {
  return new FileStationKey(join(dirname(databasePath), STATION_KEY_FILE));
}

export const STATION_KEY_FILE = 'station.key';
