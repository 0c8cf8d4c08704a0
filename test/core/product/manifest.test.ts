import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { buildEdgentClassicNvsImage, decodeEdgentClassicConfig } from '../../../core/payload/edgent-classic-payload.js';
import { buildEdgentNvsImage } from '../../../core/payload/edgent-payload.js';
import { findBlnkoptTag } from '../../../core/payload/firmware-tag-patch.js';
import { parseEspImage } from '../../../core/payload/esp-image.js';
import {
  defaultProductManifestPath,
  loadProductManifest,
  productConfigFromManifest,
  type ProductManifest,
} from '../../../core/product/manifest.js';
import { DEMO_PRODUCT } from '../../../core/product/product.js';
import { buildImage } from '../../../native/sim/app-image.js';
import { findNvsString, readNvs } from '../../../native/nvs/nvs-reader.js';
import { VirtualBoard } from '../../../native/sim/virtual-board.js';
import { buildDemoFirmware, DEMO_FIRMWARE_DIR, DEMO_FIRMWARE_VERSION } from '../../../scripts/make-demo-firmware.js';
import { firmwareReadsTag } from '../payload/firmware-vectors.js';

const TOKEN = { authToken: 'Xq7-bN2_kP9sLm4TzR8vW1yH5cJ0aDfE', qrToken: 'sqr_gCCsLSydh3d0ArmZj50l9zr79JXVooBR' };
const DEMO_PATH = defaultProductManifestPath('demo-thermostat');
const demoJson = (): ProductManifest => JSON.parse(readFileSync(DEMO_PATH, 'utf8')) as ProductManifest;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'manifest-'));
  cpSync(DEMO_FIRMWARE_DIR, join(dir, 'firmware', 'demo-esp32'), { recursive: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
/** Writes a variant of the demo manifest (and extra files) into the temp tree and loads it. */
function loadVariant(edit: (m: ProductManifest) => void, files: Record<string, Uint8Array | string> = {}) {
  const m = demoJson();
  edit(m);
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, 'firmware', 'demo-esp32', name), data);
  const path = join(dir, 'products', `variant-${++counter}.json`);
  cpSync(DEMO_PATH, path); // creates the folder
  writeFileSync(path, JSON.stringify(m));
  return loadProductManifest(path);
}

function refusal(fn: () => unknown): StationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StationError);
    return err as StationError;
  }
  throw new Error('expected a StationError');
}

const build0 = (m: ProductManifest) => m.builds[0]!;

describe('the demo product manifest', () => {
  it('loads, and agrees with DEMO_PRODUCT (which the embedded station still uses)', () => {
    const product = loadProductManifest(DEMO_PATH);
    const config = productConfigFromManifest(product, { templateId: 'T', orgId: 7 });
    const { build, ...plain } = config;
    expect(plain).toEqual({ ...DEMO_PRODUCT, templateId: 'T', orgId: 7 });
    expect(build.chipFamily).toBe('ESP32');
    expect(product.testPlan.selfTest).toBe(true);
    expect(product.testPlan.checks.map((c) => c.check)).toEqual(['token', 'fw', 'app_md5', 'heap', 'wifi', 'periph:sht30']);
    expect(product.testPlan.checks.find((c) => c.check === 'heap')?.min).toBe(60_000);
    expect(product.testPlan.timeouts).toEqual({ resendMs: 1_000, lineGapMs: 3_000, totalMs: 10_000 });
  });

  it('ships the firmware the committed script makes (app at most 256 KB)', () => {
    const fw = buildDemoFirmware();
    for (const name of ['bootloader', 'partitions', 'app'] as const) {
      const committed = readFileSync(join(DEMO_FIRMWARE_DIR, `${name}.bin`));
      expect(committed.equals(Buffer.from(fw[name])), `${name}.bin differs from scripts/make-demo-firmware.ts; rerun it`).toBe(true);
    }
    expect(fw.app.length).toBeLessThanOrEqual(256 * 1024);
    const app = parseEspImage(fw.app, { chip: 'ESP32' });
    expect(app.sha256Offset).toBeDefined();
    expect(findBlnkoptTag(fw.app).length).toBe(306);
  });

  it('plans bootloader, table, NVS and app in address order; the NVS image is the Edgent payload', () => {
    const build = loadProductManifest(DEMO_PATH).build('ESP32');
    expect(build.firmwareRegions.map((r) => [r.name, r.address])).toEqual([
      ['bootloader', 0x1000],
      ['partition-table', 0x8000],
      ['app', 0x10000],
    ]);
    const payload = build.buildTokenPayload(TOKEN);
    expect(payload.regions).toHaveLength(1);
    expect(payload.regions[0]).toMatchObject({ name: 'nvs', address: 0x9000 });
    expect(Buffer.from(payload.regions[0]!.data).equals(Buffer.from(buildEdgentNvsImage({ auth: TOKEN.authToken, host: 'blynk.cloud' }, 0x6000)))).toBe(true);
    const plan = build.fullPlan(TOKEN);
    expect(plan.regions.map((r) => [r.name, r.address, r.data.length])).toEqual([
      ['bootloader', 0x1000, 20112],
      ['partition-table', 0x8000, 0xc00],
      ['nvs', 0x9000, 0x6000],
      ['app', 0x10000, 196688],
    ]);
  });

  it('a blank virtual ESP32 given the full plan boots the demo app and finds its token', () => {
    const board = new VirtualBoard({ factoryFirmware: false, powered: false });
    try {
      for (const r of loadProductManifest(DEMO_PATH).build('ESP32').fullPlan(TOKEN).regions) {
        board.flash.eraseRange(r.address, Math.ceil(r.data.length / 0x1000) * 0x1000);
        board.flash.program(r.address, r.data);
      }
      board.powerOn();
      expect(board.appState).toMatchObject({ kind: 'running', firmwareVersion: DEMO_FIRMWARE_VERSION, tokenPresent: true, nvs: { offset: 0x9000, size: 0x6000 } });
    } finally {
      board.dispose();
    }
  });

  it('refuses a chip it has no build for', () => {
    const err = refusal(() => loadProductManifest(DEMO_PATH).build('ESP32-C3'));
    expect(err.code).toBe('BOARD_UNSUPPORTED');
    expect(err.message).toMatch(/ESP32-C3; Demo Thermostat has firmware for ESP32 only/);
  });
});

describe('the other payload kinds', () => {
  afterEach(() => undefined);

  it('edgent-classic: the 212-byte blob with the product host, port and version', () => {
    const product = loadVariant((m) => {
      build0(m).flashline.tokenPayload = { kind: 'nvs', schema: 'edgent-classic', partition: 'nvs', port: 8443, wifi: { ssid: 'Line 1', pass: 'pw' } };
    });
    const region = product.build('ESP32').buildTokenPayload(TOKEN).regions[0]!;
    const expected = buildEdgentClassicNvsImage({ auth: TOKEN.authToken, host: 'blynk.cloud', port: 8443, ssid: 'Line 1', pass: 'pw', firmwareVersion: '1.0.0' }, 0x6000);
    expect(Buffer.from(region.data).equals(Buffer.from(expected))).toBe(true);
    const blob = readNvs(region.data).get('blynk')!.get('config')!.value as Uint8Array;
    expect(decodeEdgentClassicConfig(blob)).toMatchObject({ cloudToken: TOKEN.authToken, cloudPort: 8443, version: '1.0.0', flags: 1 });
  });

  it('mfg: config CSV + templates from token, QR token and batch metadata', () => {
    const product = loadVariant(
      (m) => {
        build0(m).flashline.tokenPayload = {
          kind: 'nvs',
          schema: 'mfg',
          partition: 'nvs',
          config: '../firmware/demo-esp32/mfg-config.csv',
          values: { auth: '{token}', qr: '{qrToken}', serial: 'SN-{meta:Serial}', hw: '3' },
        };
      },
      { 'mfg-config.csv': 'blynk,namespace,\nauth,data,string\nfactory,namespace,\nqr,data,string\nserial,data,string\nhw,data,u8\n' },
    );
    const image = product.build('ESP32').buildTokenPayload({ ...TOKEN, metadata: { Serial: '0042' } }).regions[0]!.data;
    expect(findNvsString(image, 'blynk', 'auth')).toBe(TOKEN.authToken);
    expect(findNvsString(image, 'factory', 'qr')).toBe(TOKEN.qrToken);
    expect(findNvsString(image, 'factory', 'serial')).toBe('SN-0042');
    expect(readNvs(image).get('factory')!.get('hw')).toEqual({ type: 'u8', value: 3 });
  });

  it('firmware-tag: the patched app replaces the shared app in the plan; the firmware reads the token', () => {
    const product = loadVariant((m) => {
      build0(m).flashline.tokenPayload = { kind: 'firmware-tag', tag: 'blnkopt', wifi: { ssid: 'Line 1' } };
    });
    const build = product.build('ESP32');
    expect(build.firmwareRegions.map((r) => r.name)).toEqual(['bootloader', 'partition-table']);
    const plan = build.fullPlan(TOKEN);
    expect(plan.regions.map((r) => r.name)).toEqual(['bootloader', 'partition-table', 'app']);
    const app = plan.regions[2]!.data;
    const tag = findBlnkoptTag(app);
    expect(firmwareReadsTag(app, tag.offset, 306)).toEqual({ ssid: 'Line 1', auth: TOKEN.authToken, host: 'blynk.cloud', port: '443' });
    expect(parseEspImage(app, { chip: 'ESP32' }).length).toBe(app.length);
  });
});

describe('a lying or broken manifest is refused before any board is touched', () => {
  const cases: Array<[string, (m: ProductManifest) => void, RegExp, Record<string, Uint8Array | string>?]> = [
    ['overlapping parts', (m) => build0(m).parts.push({ path: '../firmware/demo-esp32/app.bin', offset: 0x30000 }), /parts "app\.bin" \(0x10000-0x4004f\) and "app\.bin" \(at 0x30000\) overlap/],
    ['a part beyond the flash', (m) => (build0(m).parts[2]!.offset = 0x3f0000), /ends beyond the 4MB flash/],
    ['a part off a sector', (m) => (build0(m).parts[2]!.offset = 0x10800), /not on a 4 KB flash sector/],
    ['a part that is missing', (m) => (build0(m).parts[2]!.path = '../firmware/demo-esp32/nope.bin'), /"\.\.\/firmware\/demo-esp32\/nope\.bin" named in the product manifest could not be read/],
    ['the NVS partition missing', (m) => tableOnlyFrom(m, 'no-nvs.csv'), /no partition labelled "nvs"/, { 'no-nvs.csv': 'phy_init,data,phy,0xf000,0x1000\nfactory,app,factory,0x10000,1M\n' }],
    ['a table that disagrees with the table part', (m) => (build0(m).flashline.partitionTable.path = '../firmware/demo-esp32/other.csv'), /part at 0x8000 is not the partition table/, { 'other.csv': 'nvs,data,nvs,0x9000,0x5000\nphy_init,data,phy,0xf000,0x1000\nfactory,app,factory,0x10000,1M\n' }],
    ['a part over the NVS partition', (m) => build0(m).parts.push({ path: '../firmware/demo-esp32/partitions.bin', offset: 0xa000 }), /overlaps the NVS partition "nvs" \(0x9000-0xefff\)/],
    ['a table beyond the flash', (m) => (build0(m).flashline.flash.size = '1MB'), /header says 4MB|beyond the 1 MB flash/],
    ['flash settings the bootloader header contradicts', (m) => (build0(m).flashline.flash.mode = 'qio'), /manifest says flash mode qio, but bootloader\.bin's header says dio/],
    ['a frequency the chip does not use', (m) => (build0(m).flashline.flash.freq = '60m'), /flash frequency "60m"/],
    ['a firmware for another chip', (m) => (build0(m).chipFamily = 'ESP32-C3'), /ESP32-C3 app "app\.bin" is built for ESP32, not for ESP32-C3/],
    ['an app larger than its partition', (m) => tableOnlyFrom(m, 'small-app.csv'), /larger than its partition "factory"/, { 'small-app.csv': 'nvs,data,nvs,0x9000,0x6000\nfactory,app,factory,0x10000,64K\n' }],
    ['a corrupt app', (m) => (build0(m).parts[2]!.path = '../firmware/demo-esp32/corrupt-app.bin'), /app "corrupt-app\.bin" is corrupt/, { 'corrupt-app.bin': corruptApp() }],
    ['an unknown label stock', (m) => (m.flashline.labelStock = 'a5-nope'), /label stock "a5-nope"/],
    ['a QR template without the QR token', (m) => (m.flashline.qrTemplate = '{orgId}'), /flashline\.qrTemplate: the QR template must contain \{qrToken\}/],
    ['an unknown payload schema', (m) => ((build0(m).flashline.tokenPayload as { schema: string }).schema = 'edgent2'), /tokenPayload/],
    ['an unknown field (typo)', (m) => ((build0(m).flashline as Record<string, unknown>).flahs = {}), /Unrecognized key/],
    ['two builds for one chip', (m) => m.builds.push(structuredClone(build0(m))), /two builds for ESP32/],
    ['a host classic Edgent cannot hold', (m) => {
      m.flashline.cloudHost = `${'a'.repeat(30)}.blynk.cloud`;
      build0(m).flashline.tokenPayload = { kind: 'nvs', schema: 'edgent-classic', partition: 'nvs', port: 443 };
    }, /token payload cannot be built: The Blynk server host .* longer than the 33 bytes/],
    ['an mfg template for a key the config lacks', (m) => {
      build0(m).flashline.tokenPayload = { kind: 'nvs', schema: 'mfg', partition: 'nvs', config: '../firmware/demo-esp32/mfg-small.csv', values: { auth: '{token}', extra: 'x' } };
    }, /keys its config does not have: "extra"/, { 'mfg-small.csv': 'blynk,namespace,\nauth,data,string\n' }],
    ['a firmware-tag product whose app has no tag', (m) => {
      build0(m).parts[2]!.path = '../firmware/demo-esp32/no-tag-app.bin';
      build0(m).flashline.tokenPayload = { kind: 'firmware-tag', tag: 'blnkopt' };
    }, /no blnkopt tag/, { 'no-tag-app.bin': buildImage({ chipId: 0, entry: 0x40081000, flashSizeFreq: 0x20, segments: [{ loadAddress: 0x3f400020, data: Buffer.from('plain app\0\0\0') }] }) }],
  ];
  for (const [what, edit, pattern, files] of cases) {
    it(`refuses ${what}`, () => {
      const err = refusal(() => loadVariant(edit, files));
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.message).toMatch(pattern);
    });
  }

  it('refuses a file that is not JSON', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ "name": ');
    expect(refusal(() => loadProductManifest(path)).message).toMatch(/not readable JSON/);
  });
});

/** Modules that come with their partition table: no table part, the table read from a CSV. */
function tableOnlyFrom(m: ProductManifest, csv: string): void {
  build0(m).parts.splice(1, 1);
  build0(m).flashline.partitionTable.path = `../firmware/demo-esp32/${csv}`;
}

function corruptApp(): Uint8Array {
  const app = new Uint8Array(readFileSync(join(DEMO_FIRMWARE_DIR, 'app.bin')));
  app[5000] = app[5000]! ^ 0xff;
  return app;
}
