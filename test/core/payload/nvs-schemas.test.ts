import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import {
  buildEdgentClassicNvsImage,
  CONFIG_FLAG_STATIC_IP,
  CONFIG_FLAG_VALID,
  decodeEdgentClassicConfig,
  EDGENT_CLASSIC_MAGIC,
  encodeEdgentClassicConfig,
} from '../../../core/payload/edgent-classic-payload.js';
import {
  checkMfgSchema,
  generateMfgImages,
  mfgTemplateEntries,
  parseMfgConfigCsv,
  parseMfgValuesCsv,
} from '../../../core/payload/mfg-config.js';
import { buildNvsImage } from '../../../core/payload/nvs-image.js';
import { readPythonCsv, writePythonCsvRow } from '../../../core/payload/python-csv.js';
import { findNvsString, readNvs } from '../../../native/nvs/nvs-reader.js';

const DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../vectors/nvs-schemas');
const TOKEN = 'Xq7-bN2_kP9sLm4TzR8vW1yH5cJ0aDfE';

function vectorBytes(rel: string): Uint8Array {
  const path = join(DIR, rel);
  if (!existsSync(path)) throw new Error(`Reference vector ${path} is missing; see test/vectors/nvs-schemas/README.md to make it.`);
  return new Uint8Array(readFileSync(path));
}
const vectorText = (rel: string) => Buffer.from(vectorBytes(rel)).toString('utf8');
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

function caught(fn: () => unknown): StationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StationError);
    return err as StationError;
  }
  throw new Error('expected a StationError');
}

describe('classic Edgent config blob (blynk/config, 212 bytes)', () => {
  it('is byte-identical to an NVS image of the struct packed by Python (struct "<I15sB34s64s34s34sH5Ii")', () => {
    const image = buildEdgentClassicNvsImage(
      {
        auth: TOKEN,
        host: 'fra1.blynk.cloud',
        port: 8443,
        ssid: 'Factory Line 3',
        pass: 'correct horse battery',
        firmwareVersion: '1.4.2',
        staticIp: { ip: '192.168.1.50', mask: '255.255.255.0', gateway: '192.168.1.1', dns: '1.1.1.1', dns2: '8.8.8.8' },
      },
      0x5000,
    );
    expect(same(image, vectorBytes('edgent-classic.bin'))).toBe(true);
    const minimal = buildEdgentClassicNvsImage({ auth: TOKEN }, 0x3000);
    expect(same(minimal, vectorBytes('edgent-classic-minimal.bin'))).toBe(true);
  });

  it('reads back through the firmware-side NVS reader at the struct offsets ConfigStore.h gives', () => {
    const image = buildEdgentClassicNvsImage({ auth: TOKEN, ssid: 'Line', pass: 'pw', firmwareVersion: '0.1.0' }, 0x3000);
    const blob = readNvs(image).get('blynk')!.get('config');
    expect(blob?.type).toBe('blob');
    const bytes = blob!.value as Uint8Array;
    expect(bytes.length).toBe(212);
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true)).toBe(EDGENT_CLASSIC_MAGIC);
    expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('knlb'); // "blnk" as a little-endian word
    expect(Buffer.from(bytes.subarray(118, 150)).toString()).toBe(TOKEN);
    expect(bytes[150]).toBe(0);
    expect(decodeEdgentClassicConfig(bytes)).toEqual({
      magic: EDGENT_CLASSIC_MAGIC,
      version: '0.1.0',
      flags: CONFIG_FLAG_VALID,
      wifiSSID: 'Line',
      wifiPass: 'pw',
      cloudToken: TOKEN,
      cloudHost: 'blynk.cloud',
      cloudPort: 443,
      staticIP: 0,
      staticMask: 0,
      staticGW: 0,
      staticDNS: 0,
      staticDNS2: 0,
      lastError: 0,
    });
  });

  it('sets VALID only with Wi-Fi unless told, STATIC_IP with static settings', () => {
    expect(decodeEdgentClassicConfig(encodeEdgentClassicConfig({ auth: TOKEN })).flags).toBe(0);
    expect(decodeEdgentClassicConfig(encodeEdgentClassicConfig({ auth: TOKEN, markValid: true })).flags).toBe(CONFIG_FLAG_VALID);
    const withIp = encodeEdgentClassicConfig({ auth: TOKEN, ssid: 'x', staticIp: { ip: '10.0.0.2', mask: '255.0.0.0', gateway: '10.0.0.1', dns: '10.0.0.1' } });
    expect(decodeEdgentClassicConfig(withIp)).toMatchObject({ flags: CONFIG_FLAG_VALID | CONFIG_FLAG_STATIC_IP, staticIP: 0x0200000a });
  });

  it('refuses what the struct cannot hold, without echoing secrets', () => {
    expect(caught(() => encodeEdgentClassicConfig({ auth: 'short' })).message).toMatch(/AuthToken/);
    expect(caught(() => encodeEdgentClassicConfig({ auth: TOKEN, host: 'h'.repeat(34) })).message).toMatch(/longer than the 33 bytes/);
    const pass = caught(() => encodeEdgentClassicConfig({ auth: TOKEN, ssid: 'x', pass: `hunter2${'p'.repeat(60)}` }));
    expect(pass.message).toMatch(/password must be at most 63 bytes/);
    expect(pass.message).not.toContain('hunter2');
    expect(caught(() => encodeEdgentClassicConfig({ auth: TOKEN, firmwareVersion: '1.2.3-beta.4567' })).message).toMatch(/14 bytes/);
    expect(caught(() => encodeEdgentClassicConfig({ auth: TOKEN, port: 0 })).message).toMatch(/port/);
    expect(caught(() => encodeEdgentClassicConfig({ auth: TOKEN, pass: 'x' })).message).toMatch(/needs a Wi-Fi SSID/);
    expect(caught(() => encodeEdgentClassicConfig({ auth: TOKEN, ssid: 's', staticIp: { ip: '1.2.3.256', mask: '', gateway: '', dns: '' } })).message).toMatch(/IPv4/);
  });
});

describe('mfg_gen.py (ESP-IDF v6.0.2) vectors', () => {
  const config = vectorText('mfg-config.csv');
  const values = vectorText('mfg-values.csv');

  it('default naming: PREFIX-1..3, intermediate CSVs and images byte-identical', () => {
    const out = generateMfgImages(config, values, 'device', 0x3000, { baseDir: DIR });
    expect(out.map((o) => o.name)).toEqual(['device-1', 'device-2', 'device-3']);
    for (const o of out) {
      expect(o.csv).toBe(vectorText(`mfg-default/csv/${o.name}.csv`));
      expect(same(o.image, vectorBytes(`mfg-default/bin/${o.name}.bin`))).toBe(true);
    }
  });

  it('--fileid serial --prefix_num 7 4: PREFIX-0007-SN-0001.., byte-identical', () => {
    const out = generateMfgImages(config, values, 'unit', 0x4000, { baseDir: DIR, fileid: 'serial', prefixNum: { start: 7, digits: 4 } });
    expect(out.map((o) => o.name)).toEqual(['unit-0007-SN-0001', 'unit-0008-SN-0002', 'unit-0009-SN-0003']);
    for (const o of out) {
      expect(o.csv).toBe(vectorText(`mfg-fileid/csv/${o.name}.csv`));
      expect(same(o.image, vectorBytes(`mfg-fileid/bin/${o.name}.bin`))).toBe(true);
    }
  });

  it('REPEAT values reach every device; the firmware reads them back', () => {
    const out = generateMfgImages(config, values, 'device', 0x3000, { baseDir: DIR });
    expect(out.map((o) => findNvsString(o.image, 'blynk', 'host'))).toEqual(['blynk.cloud', 'blynk.cloud', 'blynk.cloud']);
    expect(out.map((o) => readNvs(o.image).get('factory')!.get('hw_rev'))).toEqual(Array(3).fill({ type: 'u8', value: 3 }));
    expect(findNvsString(out[2]!.image, 'factory', 'note')).toBe('two\nlines');
  });

  const refusals: Array<[string, string, string, RegExp]> = [
    ['a config row with two fields', 'ns,namespace,\nkey,data\n', 'key\nv\n', /line 2: a row is "key,type,encoding"/],
    ['an unknown type', 'ns,namespace,\nkey,blob,string\n', 'key\nv\n', /type "blob"/],
    ['an unknown encoding', 'ns,namespace,\nkey,data,str\n', 'key\nv\n', /encoding "str"/],
    ['a config that does not start with a namespace', 'key,data,string\n', 'key\nv\n', /first row must be a namespace/],
    ['a key missing from the values', 'ns,namespace,\na,data,string\nb,data,string\n', 'a\n1\n', /"b" \(line 3\)/],
    ['keys in another order', 'ns,namespace,\na,data,string\nb,data,string\n', 'b,a\n1,2\n', /not in the config's order/],
    ['a short values row', 'ns,namespace,\na,data,string\n', 'id,a\n1\n', /line 2: 1 values for 2 columns/],
    ['no device rows', 'ns,namespace,\na,data,string\n', 'a\n', /no device rows/],
    ['a value the NVS generator refuses, naming the device', 'ns,namespace,\na,data,u8\n', 'a\n1\n300\n', /Device dev-2 \(values line 3\)/],
    ['two devices with the same file name', 'ns,namespace,\na,data,string\n', 'a\nx\nx\n', /both be written to dev-x\.bin/],
  ];
  for (const [what, conf, vals, pattern] of refusals) {
    it(`refuses ${what}`, () => {
      const fileid = what.startsWith('two devices') ? { fileid: 'a' } : {};
      expect(caught(() => generateMfgImages(conf, vals, 'dev', 0x3000, fileid)).message).toMatch(pattern);
    });
  }

  it('refuses --fileid that is not a column', () => {
    expect(caught(() => generateMfgImages(config, values, 'd', 0x3000, { fileid: 'nope', baseDir: DIR })).message).toMatch(/--fileid "nope"/);
  });
});

describe('the mfg product schema (config rows + value templates)', () => {
  const config = parseMfgConfigCsv('blynk,namespace,\nauth,data,string\nfactory,namespace,\nqr,data,string\nserial,data,string\nboard,data,string\n');
  const templates = { auth: '{token}', qr: '{qrToken}', serial: 'SN-{meta:Serial}', board: 'thermostat-v2' };

  it('fills {token}, {qrToken} and {meta:NAME} and builds the same image as the equivalent NVS CSV', () => {
    checkMfgSchema(config, templates);
    const entries = mfgTemplateEntries(config, templates, { authToken: TOKEN, qrToken: 'sqr_x', metadata: { Serial: '42' } });
    const image = buildNvsImage(entries, 0x3000);
    expect(findNvsString(image, 'blynk', 'auth')).toBe(TOKEN);
    expect(findNvsString(image, 'factory', 'qr')).toBe('sqr_x');
    expect(findNvsString(image, 'factory', 'serial')).toBe('SN-42');
    expect(findNvsString(image, 'factory', 'board')).toBe('thermostat-v2');
  });

  it('refuses missing, extra or unknown placeholders and REPEAT', () => {
    expect(caught(() => checkMfgSchema(config, { ...templates, board: undefined as unknown as string, extra: 'x' })).message).toMatch(/keys its config does not have: "extra"/);
    const { board: _board, ...missing } = templates;
    expect(caught(() => checkMfgSchema(config, missing)).message).toMatch(/no value for "board"/);
    expect(caught(() => checkMfgSchema(config, { ...templates, board: '{serial}' })).message).toMatch(/placeholder other than/);
    expect(caught(() => checkMfgSchema(parseMfgConfigCsv('n,namespace,\nk,data,string,REPEAT\n'), { k: 'x' })).message).toMatch(/REPEAT/);
    expect(caught(() => mfgTemplateEntries(config, templates, { authToken: TOKEN, qrToken: 'q' })).message).toMatch(/no metadata column "Serial"/);
  });
});

describe('Python csv reader and writer', () => {
  it('reads quotes, doubled quotes, multi-line fields, empty lines and text after a closing quote', () => {
    const records = readPythonCsv('a,"b,c","d""e"\n\n"multi\nline",x"y"z,"open');
    expect(records.map((r) => [r.line, r.fields])).toEqual([
      [1, ['a', 'b,c', 'd"e']],
      [2, []],
      [3, ['multi\nline', 'x"y"z', 'open']],
    ]);
    expect(parseMfgValuesCsv('a,b\r\n  \r\n1,2\r\n').rows).toEqual([{ line: 2, values: ['1', '2'] }]);
  });

  it('writes like csv.writer: minimal quoting, CRLF, a lone empty field as ""', () => {
    expect(writePythonCsvRow(['a', 'b c', 'd,e', 'f"g', 'h\ni', ''])).toBe('a,b c,"d,e","f""g","h\ni",\r\n');
    expect(writePythonCsvRow([''])).toBe('""\r\n');
  });
});
