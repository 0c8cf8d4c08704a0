/**
 * The per-device NVS payload for classic Blynk.Edgent (blynkkk/blynk-library
 * `examples/Blynk.Edgent/Edgent_ESP32/ConfigStore.h`): Arduino `Preferences` in namespace `blynk`,
 * one blob `config` holding the packed `ConfigStore` struct, little-endian, 212 bytes:
 *
 *   offset size field
 *        0    4 uint32 magic        0x626C6E6B ("blnk" read as a big-endian word)
 *        4   15 char   version[15]  BLYNK_FIRMWARE_VERSION
 *       19    1 uint8  flags        0x01 CONFIG_FLAG_VALID, 0x02 CONFIG_FLAG_STATIC_IP
 *       20   34 char   wifiSSID[34]
 *       54   64 char   wifiPass[64]
 *      118   34 char   cloudToken[34]
 *      152   34 char   cloudHost[34]
 *      186    2 uint16 cloudPort
 *      188   20 uint32 staticIP, staticMask, staticGW, staticDNS, staticDNS2
 *      208    4 int32  last_error   (BLYNK_PROV_ERR_NONE = 0)
 *
 * Strings are NUL-terminated and zero-padded (the firmware zeroes the struct before reading it).
 * At boot `config_load()` accepts the blob when its magic matches; `BlynkEdgent::begin()` then goes
 * straight to connecting only when CONFIG_FLAG_VALID is set, using wifiSSID/wifiPass, and
 * `Blynk.config(cloudToken, cloudHost, cloudPort)`. Without the flag the board starts in Wi-Fi
 * configuration mode, where the phone app supplies Wi-Fi and a token. So VALID is set by default
 * only when Wi-Fi credentials are given.
 */
import { stationError } from '../../common/errors.js';
import { EDGENT_NVS_NAMESPACE, isBlynkAuthToken } from './edgent-payload.js';
import type { NvsEntryInput } from './nvs-entry-types.js';
import { buildNvsImage } from './nvs-image.js';

export const EDGENT_CLASSIC_CONFIG_KEY = 'config';
export const EDGENT_CLASSIC_CONFIG_SIZE = 212;
export const EDGENT_CLASSIC_MAGIC = 0x626c6e6b;
export const CONFIG_FLAG_VALID = 0x01;
export const CONFIG_FLAG_STATIC_IP = 0x02;
/** CONFIG_DEFAULT_SERVER / CONFIG_DEFAULT_PORT in the example's Settings.h. */
export const EDGENT_CLASSIC_DEFAULT_HOST = 'blynk.cloud';
export const EDGENT_CLASSIC_DEFAULT_PORT = 443;

const FIELD = {
  magic: { offset: 0, size: 4 },
  version: { offset: 4, size: 15 },
  flags: { offset: 19, size: 1 },
  wifiSSID: { offset: 20, size: 34 },
  wifiPass: { offset: 54, size: 64 },
  cloudToken: { offset: 118, size: 34 },
  cloudHost: { offset: 152, size: 34 },
  cloudPort: { offset: 186, size: 2 },
  staticIP: { offset: 188, size: 4 },
  staticMask: { offset: 192, size: 4 },
  staticGW: { offset: 196, size: 4 },
  staticDNS: { offset: 200, size: 4 },
  staticDNS2: { offset: 204, size: 4 },
  lastError: { offset: 208, size: 4 },
} as const;

type StringField = 'version' | 'wifiSSID' | 'wifiPass' | 'cloudToken' | 'cloudHost';

/** Static IPv4 settings, each as dotted quad text. */
export interface EdgentClassicStaticIp {
  ip: string;
  mask: string;
  gateway: string;
  dns: string;
  dns2?: string;
}

export interface EdgentClassicConfig {
  /** Blynk AuthToken (secret). */
  auth: string;
  host?: string;
  port?: number;
  ssid?: string;
  /** Wi-Fi password (secret). */
  pass?: string;
  /** BLYNK_FIRMWARE_VERSION, at most 14 characters (the firmware does not check it). */
  firmwareVersion?: string;
  staticIp?: EdgentClassicStaticIp;
  /** CONFIG_FLAG_VALID; default: true when `ssid` is given. */
  markValid?: boolean;
}

/** The struct as the firmware reads it back (for tests and for reading a board's NVS). */
export interface DecodedEdgentClassicConfig {
  magic: number;
  version: string;
  flags: number;
  wifiSSID: string;
  wifiPass: string;
  cloudToken: string;
  cloudHost: string;
  cloudPort: number;
  staticIP: number;
  staticMask: number;
  staticGW: number;
  staticDNS: number;
  staticDNS2: number;
  lastError: number;
}

function invalid(message: string): never {
  throw stationError('INVALID_INPUT', message, true);
}

/** An IPv4 address as ESP32 Arduino's `IPAddress` casts to uint32: first octet in the low byte. */
function ipv4(text: string, what: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  const octets = m ? m.slice(1).map(Number) : [];
  if (octets.length !== 4 || octets.some((o) => o > 255)) invalid(`The static IP ${what} "${text}" is not an IPv4 address.`);
  return (octets[0]! | (octets[1]! << 8) | (octets[2]! << 16) | (octets[3]! << 24)) >>> 0;
}

function putString(out: Uint8Array, field: StringField, value: string, what: string, secret = false): void {
  const bytes = Buffer.from(value, 'utf8');
  const { offset, size } = FIELD[field];
  if (bytes.length > size - 1 || bytes.includes(0)) {
    invalid(secret ? `The ${what} must be at most ${size - 1} bytes.` : `The ${what} "${value}" is longer than the ${size - 1} bytes classic Edgent keeps.`);
  }
  out.set(bytes, offset);
}

/** The 212-byte `ConfigStore` blob. */
export function encodeEdgentClassicConfig(config: EdgentClassicConfig): Uint8Array {
  if (typeof config.auth !== 'string' || !isBlynkAuthToken(config.auth)) {
    invalid('The AuthToken is not 32 characters of letters, digits, "-" or "_"; check the token batch.');
  }
  const host = config.host ?? EDGENT_CLASSIC_DEFAULT_HOST;
  if (!/^[\x21-\x7e]+$/.test(host)) invalid('The Blynk server host must be visible characters without spaces.');
  const port = config.port ?? EDGENT_CLASSIC_DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) invalid('The Blynk server port must be a whole number from 1 to 65535.');
  if (config.ssid !== undefined && (config.ssid.length === 0 || Buffer.byteLength(config.ssid) > 32)) invalid('The Wi-Fi SSID must be 1 to 32 bytes.');
  if (config.pass !== undefined && config.ssid === undefined) invalid('A Wi-Fi password needs a Wi-Fi SSID.');

  const out = new Uint8Array(EDGENT_CLASSIC_CONFIG_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(FIELD.magic.offset, EDGENT_CLASSIC_MAGIC, true);
  putString(out, 'version', config.firmwareVersion ?? '', 'firmware version');
  let flags = (config.markValid ?? config.ssid !== undefined) ? CONFIG_FLAG_VALID : 0;
  if (config.ssid !== undefined) putString(out, 'wifiSSID', config.ssid, 'Wi-Fi SSID');
  if (config.pass !== undefined) putString(out, 'wifiPass', config.pass, 'Wi-Fi password', true);
  putString(out, 'cloudToken', config.auth, 'AuthToken', true);
  putString(out, 'cloudHost', host, 'Blynk server host');
  view.setUint16(FIELD.cloudPort.offset, port, true);
  if (config.staticIp) {
    flags |= CONFIG_FLAG_STATIC_IP;
    view.setUint32(FIELD.staticIP.offset, ipv4(config.staticIp.ip, 'address'), true);
    view.setUint32(FIELD.staticMask.offset, ipv4(config.staticIp.mask, 'mask'), true);
    view.setUint32(FIELD.staticGW.offset, ipv4(config.staticIp.gateway, 'gateway'), true);
    view.setUint32(FIELD.staticDNS.offset, ipv4(config.staticIp.dns, 'DNS'), true);
    if (config.staticIp.dns2 !== undefined) view.setUint32(FIELD.staticDNS2.offset, ipv4(config.staticIp.dns2, 'second DNS'), true);
  }
  out[FIELD.flags.offset] = flags;
  view.setInt32(FIELD.lastError.offset, 0, true);
  return out;
}

export function decodeEdgentClassicConfig(blob: Uint8Array): DecodedEdgentClassicConfig {
  if (blob.length !== EDGENT_CLASSIC_CONFIG_SIZE) invalid(`A classic Edgent config blob is ${EDGENT_CLASSIC_CONFIG_SIZE} bytes, not ${blob.length}.`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const str = (field: StringField): string => {
    const { offset, size } = FIELD[field];
    const bytes = blob.subarray(offset, offset + size);
    const nul = bytes.indexOf(0);
    return Buffer.from(nul < 0 ? bytes : bytes.subarray(0, nul)).toString('utf8');
  };
  const u32 = (f: keyof typeof FIELD) => view.getUint32(FIELD[f].offset, true);
  return {
    magic: u32('magic'),
    version: str('version'),
    flags: blob[FIELD.flags.offset]!,
    wifiSSID: str('wifiSSID'),
    wifiPass: str('wifiPass'),
    cloudToken: str('cloudToken'),
    cloudHost: str('cloudHost'),
    cloudPort: view.getUint16(FIELD.cloudPort.offset, true),
    staticIP: u32('staticIP'),
    staticMask: u32('staticMask'),
    staticGW: u32('staticGW'),
    staticDNS: u32('staticDNS'),
    staticDNS2: u32('staticDNS2'),
    lastError: view.getInt32(FIELD.lastError.offset, true),
  };
}

/** The NVS rows: namespace `blynk`, blob `config` (Preferences::putBytes writes a v2 blob). */
export function edgentClassicNvsEntries(config: EdgentClassicConfig): NvsEntryInput[] {
  return [
    { type: 'namespace', key: EDGENT_NVS_NAMESPACE },
    { type: 'data', key: EDGENT_CLASSIC_CONFIG_KEY, encoding: 'binary', value: encodeEdgentClassicConfig(config) },
  ];
}

export function buildEdgentClassicNvsImage(config: EdgentClassicConfig, sizeBytes: number): Uint8Array {
  return buildNvsImage(edgentClassicNvsEntries(config), sizeBytes);
}
