/**
 * The reference images in test/vectors/firmware/ (written by esptool's own image writer, see the
 * README there), what esptool reads back from each, and a model of how classic Blynk.Edgent reads
 * its blnkopt tag at boot (BlynkParam's key lookup), to check patched images from the firmware's side.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIRMWARE_VECTOR_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../vectors/firmware');

export function readFirmwareVector(name: string): Uint8Array {
  const path = join(FIRMWARE_VECTOR_DIR, name);
  if (!existsSync(path)) throw new Error(`Reference vector ${path} is missing; see test/vectors/firmware/README.md to make it.`);
  return new Uint8Array(readFileSync(path));
}

/** The made-up token of test/vectors/nvs/edgent.csv, also used in the firmware vectors. */
export const VECTOR_TOKEN = 'Xq7-bN2_kP9sLm4TzR8vW1yH5cJ0aDfE';

/** The stock Edgent_ESP32 tag length: "blnkopt\0", ssid + 264-char placeholder, host, port, "\0\0". */
export const STOCK_TAG_LENGTH = 306;

export function stockTag(host = 'blynk.cloud', port = '443'): Buffer {
  return Buffer.from(`blnkopt\0ssid\0${'Placeholder'.repeat(24)}\0host\0${host}\0port\0${port}\0\0\0`, 'latin1');
}

/**
 * `config_load_blnkopt()`: `BlynkParam prov(blnkopt + 8, sizeof(blnkopt) - 8 - 2)` and
 * `prov["key"]`, with `sizeof` fixed at compile time (the tag's original length).
 */
export function firmwareReadsTag(image: Uint8Array, tagOffset: number, compiledLength: number): Record<string, string> {
  const region = image.subarray(tagOffset + 8, tagOffset + compiledLength - 2);
  const strAt = (p: number): string => {
    const end = region.indexOf(0, p);
    return Buffer.from(region.subarray(p, end < 0 ? region.length : end)).toString('utf8');
  };
  const lookup = (key: string): string | undefined => {
    const e = region.length;
    for (let it = 0; it < e; ) {
      const s = strAt(it);
      it += Buffer.byteLength(s) + 1;
      if (s === key) return strAt(it);
      if (it >= e) break;
      it += Buffer.byteLength(strAt(it)) + 1;
    }
    return undefined;
  };
  const out: Record<string, string> = {};
  for (const key of ['ssid', 'pass', 'auth', 'host', 'port']) {
    const v = lookup(key);
    if (v !== undefined) out[key] = v;
  }
  return out;
}
