import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { parseEspImage, resealEspImage, type ParseEspImageOptions } from '../../../core/payload/esp-image.js';
import { buildAppDesc, buildImage, checkImage } from '../../../native/sim/app-image.js';
import { readFirmwareVector } from './firmware-vectors.js';

function expectInvalid(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected INVALID_INPUT matching ${pattern}`).toBeInstanceOf(StationError);
  expect((caught as StationError).code).toBe('INVALID_INPUT');
  expect((caught as StationError).message).toMatch(pattern);
}

const parse = (bytes: Uint8Array, options?: ParseEspImageOptions) => parseEspImage(bytes, options);

describe('parseEspImage against images esptool wrote (values esptool reads back)', () => {
  it('esp32-app.bin: header, extended header, five segments with the 64 KB flash padding, checksum, SHA-256', () => {
    const img = parse(readFirmwareVector('esp32-app.bin'), { chip: 'ESP32' });
    expect(img).toMatchObject({
      format: 'esp32',
      family: 'ESP32',
      entry: 0x40080010,
      flashMode: 2,
      flashModeName: 'dio',
      flashSizeFreq: 0x20,
      flashSizeName: '4MB',
      flashFreqName: '40m',
      checksum: 0x6b,
      checksumOffset: 68575,
      sha256Offset: 68576,
      length: 68608,
      trailingBytes: 0,
    });
    expect(img.extended).toMatchObject({ chipId: 0, wpPin: 0xee, minRevision: 0, minFullRevision: 0, maxFullRevision: 399, hashAppended: true });
    expect(img.segments.map((s) => [s.loadAddress, s.length, s.dataOffset - 8])).toEqual([
      [0x3f400020, 908, 24],
      [0x3ffb0000, 1000, 940],
      [0x40080000, 2000, 1948],
      [0x0, 61596, 3956],
      [0x400d0020, 3000, 65560],
    ]);
    // The flash-mapped segment sits where its address modulo the 64 KB MMU page says.
    expect((img.segments[4]!.dataOffset - 0x20) % 0x10000).toBe(0);
  });

  it('esp32c3-app.bin and esp32-no-digest.bin', () => {
    const c3 = parse(readFirmwareVector('esp32c3-app.bin'));
    expect(c3).toMatchObject({ family: 'ESP32-C3', checksum: 0x50, length: 4000, entry: 0x40380010 });
    expect(c3.extended!.chipId).toBe(5);
    expect(c3.segments).toHaveLength(3);
    const plain = parse(readFirmwareVector('esp32-no-digest.bin'), { chip: 'ESP32' });
    expect(plain).toMatchObject({ checksum: 0x1a, length: 3968, sha256Offset: undefined });
    expect(plain.extended!.hashAppended).toBe(false);
  });

  it('esp8266-v1.bin: no extended header, no SHA-256, read only when the chip is named', () => {
    const bytes = readFirmwareVector('esp8266-v1.bin');
    const img = parse(bytes, { chip: 'ESP8266' });
    expect(img).toMatchObject({
      format: 'esp8266-v1',
      family: 'ESP8266',
      entry: 0x40100004,
      flashModeName: 'dout',
      flashSizeName: '4MB',
      flashFreqName: '40m',
      checksum: 0xab,
      length: 2128,
      extended: undefined,
    });
    expect(img.segments.map((s) => [s.loadAddress, s.length, s.dataOffset])).toEqual([
      [0x40100000, 1500, 16],
      [0x3ffe8000, 516, 1524],
      [0x3ffe8800, 64, 2048],
    ]);
    // Read as an ESP32 image its segment bytes become an "extended header": refused, not misread.
    expect(() => parse(bytes)).toThrow(StationError);
  });

  it('agrees with the simulator board\'s boot check on images the simulator builds', () => {
    const image = buildImage({
      chipId: 0,
      entry: 0x40081000,
      segments: [
        { loadAddress: 0x3f400020, data: buildAppDesc({ version: '9.9.9', projectName: 'sim' }) },
        { loadAddress: 0x40080000, data: Buffer.from('code\0', 'latin1') },
      ],
    });
    const ours = parse(image, { chip: 'ESP32' });
    const sim = checkImage(image, 0);
    expect(sim.ok).toBe(true);
    expect(ours.length).toBe(sim.ok ? sim.length : -1);
  });
});

describe('parseEspImage refusals', () => {
  const good = readFirmwareVector('esp32-app.bin');
  const c3 = readFirmwareVector('esp32c3-app.bin');

  it('refuses an image for another chip, naming both', () => {
    expectInvalid(() => parse(c3, { chip: 'ESP32' }), /built for ESP32-C3, not for ESP32/);
    expectInvalid(() => parse(good, { chip: 'ESP32-S3' }), /built for ESP32, not for ESP32-S3/);
    const unknown = c3.slice();
    unknown[12] = 0x77;
    expectInvalid(() => parse(unknown, { chip: 'ESP32-C3', verifyIntegrity: false }), /unknown chip \(chip id 119\)/);
  });

  it('refuses truncated images wherever they are cut', () => {
    expectInvalid(() => parse(good.subarray(0, 20)), /shorter than its 24-byte header/);
    expectInvalid(() => parse(good.subarray(0, 30)), /segment 0 of 5 starts at byte 24, past its end/);
    expectInvalid(() => parse(good.subarray(0, 40)), /segment 0 needs 908 bytes from byte 32, but the file ends at 40/);
    expectInvalid(() => parse(good.subarray(0, 940 + 4)), /segment 1 of 5 starts at byte 940, past its end/);
    expectInvalid(() => parse(good.subarray(0, 68575)), /ends before its checksum byte/);
    expectInvalid(() => parse(good.subarray(0, 68600)), /SHA-256 .* is missing/);
    expectInvalid(() => parse(new Uint8Array(0)), /empty/);
  });

  it('refuses a bad checksum and a bad SHA-256', () => {
    const flipped = good.slice();
    flipped[40000] = flipped[40000]! ^ 0x01; // inside the padding segment
    expectInvalid(() => parse(flipped), /checksum is 0x6b but its data sums to 0x6a/);
    const badHash = good.slice();
    badHash[68600] = badHash[68600]! ^ 0xff;
    expectInvalid(() => parse(badHash), /appended SHA-256 does not match/);
    const badChecksumByte = readFirmwareVector('esp32-no-digest.bin').slice();
    badChecksumByte[3967] = 0x00;
    expectInvalid(() => parse(badChecksumByte), /checksum is 0x00 but its data sums to 0x1a/);
  });

  it('refuses bad magic, ESP8266 v2 images, odd segment counts, hash flags and segment lengths', () => {
    expectInvalid(() => parse(Uint8Array.of(0xff, 0xff, 0xff)), /starts with 0xff, not the image magic 0xE9/);
    expectInvalid(() => parse(Uint8Array.of(0xea, 4, 0, 0)), /ESP8266 "v2" image/);
    const many = good.slice();
    many[1] = 17;
    expectInvalid(() => parse(many), /claims 17 segments/);
    const none = good.slice();
    none[1] = 0;
    expectInvalid(() => parse(none), /claims 0 segments/);
    const flag = good.slice();
    flag[23] = 2;
    expectInvalid(() => parse(flag), /invalid hash_appended flag \(0x02\)/);
    const odd = good.slice();
    new DataView(odd.buffer).setUint32(24 + 4, 907, true);
    expectInvalid(() => parse(odd, { verifyIntegrity: false }), /segment 0 of 907 bytes/);
  });

  it('names the image in its messages when given a label', () => {
    expectInvalid(() => parse(good.subarray(0, 10), { label: 'bootloader.bin' }), /^bootloader\.bin is truncated/);
  });
});

describe('resealEspImage', () => {
  it('recomputes the checksum and the SHA-256 after segment data changed', () => {
    const image = readFirmwareVector('esp32-app.bin').slice();
    image[100] = image[100]! ^ 0x5a; // inside the first (DROM) segment
    expect(() => parse(image)).toThrow(/checksum/);
    const resealed = resealEspImage(image, { chip: 'ESP32' });
    expect(resealed.checksum).toBe(0x6b ^ 0x5a);
    expect(Buffer.from(image.subarray(68576)).equals(createHash('sha256').update(image.subarray(0, 68576)).digest())).toBe(true);
    const sim = checkImage(image, 0);
    expect(sim.ok).toBe(true);
  });

  it('leaves an image without a SHA-256 without one', () => {
    const image = readFirmwareVector('esp32-no-digest.bin').slice();
    image[40] = image[40]! ^ 1;
    const resealed = resealEspImage(image);
    expect(resealed.sha256Offset).toBeUndefined();
    expect(image.length).toBe(3968);
  });
});
