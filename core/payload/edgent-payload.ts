/**
 * The per-device NVS payload for the current Blynk.Edgent library (Blynk-Technologies/Edgent-Arduino,
 * `src/BlynkConfigStore.h`): Arduino `Preferences` in namespace `blynk`, read at boot with
 * `getString("auth")` and `getString("host")` (default: the firmware's BLYNK_DEFAULT_SERVER). The
 * token only counts as configured when it is exactly 32 characters. Edgent's own commit() writes
 * `host` then `auth`; this image does the same.
 */
import { stationError } from '../../common/errors.js';
import type { NvsEntryInput } from './nvs-entry-types.js';
import { buildNvsImage } from './nvs-image.js';

export const EDGENT_NVS_NAMESPACE = 'blynk';
export const EDGENT_AUTH_KEY = 'auth';
export const EDGENT_HOST_KEY = 'host';

/** Size of the `nvs` partition in the Arduino-ESP32 default partition tables (0x9000..0xE000). */
export const ARDUINO_DEFAULT_NVS_SIZE = 0x5000;

const AUTH_TOKEN_PATTERN = /^[-_a-zA-Z0-9]{32}$/;
/** A host name or address, optionally with a port: visible ASCII, no spaces. */
const HOST_PATTERN = /^[\x21-\x7e]{1,255}$/;

export interface EdgentCredentials {
  /** Blynk AuthToken (secret): 32 characters of [-_a-zA-Z0-9]. */
  auth: string;
  /** Blynk server the device should use, e.g. "blynk.cloud" or "fra1.blynk.cloud"; omitted = firmware default. */
  host?: string;
}

export function isBlynkAuthToken(value: string): boolean {
  return AUTH_TOKEN_PATTERN.test(value);
}

/** The NVS rows for Edgent, as generator input (for CSV export or further rows). */
export function edgentNvsEntries(credentials: EdgentCredentials): NvsEntryInput[] {
  if (typeof credentials.auth !== 'string' || !isBlynkAuthToken(credentials.auth)) {
    // The message must not echo the value: it is a secret.
    throw stationError('INVALID_INPUT', 'The AuthToken is not 32 characters of letters, digits, "-" or "_"; check the token batch.', true);
  }
  const entries: NvsEntryInput[] = [{ type: 'namespace', key: EDGENT_NVS_NAMESPACE }];
  if (credentials.host !== undefined) {
    if (typeof credentials.host !== 'string' || !HOST_PATTERN.test(credentials.host)) {
      throw stationError('INVALID_INPUT', 'The Blynk server host must be 1 to 255 visible characters without spaces.', true);
    }
    entries.push({ type: 'data', key: EDGENT_HOST_KEY, encoding: 'string', value: credentials.host });
  }
  entries.push({ type: 'data', key: EDGENT_AUTH_KEY, encoding: 'string', value: credentials.auth });
  return entries;
}

/** NVS partition image holding the Edgent AuthToken (and host), `sizeBytes` long. */
export function buildEdgentNvsImage(credentials: EdgentCredentials, sizeBytes: number): Uint8Array {
  return buildNvsImage(edgentNvsEntries(credentials), sizeBytes);
}
