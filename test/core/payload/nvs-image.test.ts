import { describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { nvsCrc32, nvsEntryCrc32, nvsPageHeaderCrc32 } from '../../../common/crc32.js';
import { readNvsCsvFile } from '../../../core/payload/nvs-csv.js';
import { buildNvsImage } from '../../../core/payload/nvs-image.js';
import type { NvsEntryInput } from '../../../core/payload/nvs-entry-types.js';
import { readVectorBin, vectorPath, VECTOR_NAMES } from './nvs-vectors.js';

function firstDifference(a: Uint8Array, b: Uint8Array): string | undefined {
  if (a.length !== b.length) return `length ${a.length} != ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return `offset 0x${i.toString(16)} (page ${i >> 12}, byte ${i & 0xfff}): ${a[i]} != ${b[i]}`;
  }
  return undefined;
}

function expectInvalid(fn: () => unknown, messagePart: RegExp): StationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StationError);
    const e = err as StationError;
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(messagePart);
    return e;
  }
  throw new Error('expected an INVALID_INPUT StationError');
}

const ns = (key: string): NvsEntryInput => ({ type: 'namespace', key });
const str = (key: string, value: string): NvsEntryInput => ({ type: 'data', key, encoding: 'string', value });

describe('buildNvsImage: byte identity with ESP-IDF nvs_partition_gen.py', () => {
  for (const name of VECTOR_NAMES) {
    it(`reproduces ${name}.bin exactly`, () => {
      const reference = readVectorBin(name);
      const image = buildNvsImage(readNvsCsvFile(vectorPath(name, 'csv')), reference.length);
      expect(firstDifference(image, reference)).toBeUndefined();
    });
  }
});

describe('buildNvsImage: layout', () => {
  it('writes a v2 ACTIVE first page with valid CRCs and leaves the rest erased', () => {
    const image = buildNvsImage([ns('blynk'), str('auth', 'x')], 0x3000);
    expect(image.length).toBe(0x3000);
    const view = new DataView(image.buffer);
    expect(view.getUint32(0, true)).toBe(0xfffffffe);
    expect(view.getUint32(4, true)).toBe(0);
    expect(image[8]).toBe(0xfe);
    expect(view.getUint32(28, true)).toBe(nvsPageHeaderCrc32(image));
    // namespace entry, string header, one data entry -> slots 0..2 written (0b10 each)
    expect(image[32]).toBe(0b11_10_10_10);
    const entry = image.subarray(64 + 32, 96 + 32);
    expect(entry[1]).toBe(0x21);
    expect(entry[2]).toBe(2);
    expect(view.getUint32(64 + 32 + 4, true)).toBe(nvsEntryCrc32(entry));
    expect(view.getUint16(64 + 32 + 24, true)).toBe(2);
    expect(view.getUint32(64 + 32 + 28, true)).toBe(nvsCrc32(new Uint8Array([0x78, 0])));
    expect(image.subarray(0x1000).every((b) => b === 0xff)).toBe(true);
  });

  it('marks filled pages FULL, numbers them in sequence and spans blobs over pages', () => {
    const blob = new Uint8Array(9000).map((_, i) => (i * 31) & 0xff);
    const image = buildNvsImage([ns('n'), { type: 'data', key: 'b', encoding: 'binary', value: blob }], 0x5000);
    const view = new DataView(image.buffer);
    expect(view.getUint32(0, true)).toBe(0xfffffffc);
    expect(view.getUint32(0x1000, true)).toBe(0xfffffffc);
    expect(view.getUint32(0x2000, true)).toBe(0xfffffffe);
    expect(view.getUint32(0x2004, true)).toBe(2);
    expect(image.subarray(0x4000).every((b) => b === 0xff)).toBe(true);
  });

  it('takes integers as numbers, bigints or decimal text alike', () => {
    const a = buildNvsImage([ns('n'), { type: 'data', key: 'v', encoding: 'i64', value: -5n }], 0x3000);
    const b = buildNvsImage([ns('n'), { type: 'data', key: 'v', encoding: 'i64', value: -5 }], 0x3000);
    const c = buildNvsImage([ns('n'), { type: 'data', key: 'v', encoding: 'i64', value: ' -5\n' }], 0x3000);
    expect(firstDifference(a, b)).toBeUndefined();
    expect(firstDifference(a, c)).toBeUndefined();
  });
});

describe('buildNvsImage: refuses bad input with INVALID_INPUT', () => {
  it('sizes that are not a multiple of 4096 or below 0x3000', () => {
    expectInvalid(() => buildNvsImage([], 0x3001), /multiple of 4096/);
    expectInvalid(() => buildNvsImage([], 0x2000), /at least 0x3000/);
  });

  it('data that does not fit the partition', () => {
    const blob = new Uint8Array(9000);
    expectInvalid(() => buildNvsImage([ns('n'), { type: 'data', key: 'b', encoding: 'binary', value: blob }], 0x3000), /does not fit/);
  });

  it('keys and namespace names longer than 15 characters, or not ASCII', () => {
    expectInvalid(() => buildNvsImage([ns('sixteen_chars_ns')], 0x3000), /namespace name.*longer than 15/);
    expectInvalid(() => buildNvsImage([ns('n'), str('sixteen_chars_ky', 'v')], 0x3000), /key.*longer than 15/);
    expectInvalid(() => buildNvsImage([ns('n'), str('clé', 'v')], 0x3000), /ASCII/);
    expect(() => buildNvsImage([ns('n'), str('fifteen_chars_k', 'v')], 0x3000)).not.toThrow();
  });

  it('strings longer than one page holds (3967 characters + NUL)', () => {
    expect(() => buildNvsImage([ns('n'), str('s', 'a'.repeat(3967))], 0x3000)).not.toThrow();
    expectInvalid(() => buildNvsImage([ns('n'), str('s', 'a'.repeat(3968))], 0x3000), /at most 3967/);
  });

  it('integers out of range or not whole decimal numbers', () => {
    const int = (encoding: 'u8' | 'i8' | 'u64' | 'i64', value: string | number | bigint): NvsEntryInput[] => [
      ns('n'),
      { type: 'data', key: 'v', encoding, value },
    ];
    expectInvalid(() => buildNvsImage(int('u8', 256), 0x3000), /out of range for u8/);
    expectInvalid(() => buildNvsImage(int('u8', '-1'), 0x3000), /out of range/);
    expectInvalid(() => buildNvsImage(int('i8', '-129'), 0x3000), /out of range for i8/);
    expectInvalid(() => buildNvsImage(int('u64', 2n ** 64n), 0x3000), /out of range for u64/);
    expectInvalid(() => buildNvsImage(int('i64', '9223372036854775808'), 0x3000), /out of range/);
    expectInvalid(() => buildNvsImage(int('u8', '0x10'), 0x3000), /whole decimal/);
    expectInvalid(() => buildNvsImage(int('u8', 1.5), 0x3000), /whole decimal/);
    expectInvalid(() => buildNvsImage(int('u8', ''), 0x3000), /whole decimal/);
  });

  it('bad hex2bin and base64 text', () => {
    const blob = (encoding: 'hex2bin' | 'base64', value: string): NvsEntryInput[] => [ns('n'), { type: 'data', key: 'b', encoding, value }];
    expectInvalid(() => buildNvsImage(blob('hex2bin', 'abc'), 0x3000), /even number of hex digits/);
    expectInvalid(() => buildNvsImage(blob('hex2bin', 'zz'), 0x3000), /even number of hex digits/);
    expectInvalid(() => buildNvsImage(blob('base64', 'abc'), 0x3000), /not valid base64/);
  });

  it('unknown row types and encodings', () => {
    expectInvalid(() => buildNvsImage([ns('n'), { type: 'blob', key: 'k' } as unknown as NvsEntryInput], 0x3000), /type "blob" is unknown/);
    expectInvalid(
      () => buildNvsImage([ns('n'), { type: 'data', key: 'k', encoding: 'float', value: '1' } as unknown as NvsEntryInput], 0x3000),
      /encoding "float".*unknown/,
    );
  });

  it('rows before any namespace, and a switch back to an earlier namespace', () => {
    expectInvalid(() => buildNvsImage([str('k', 'v')], 0x3000), /before any namespace/);
    // ESP-IDF's tool would file "z" under "b" here; we refuse instead of misfiling.
    expectInvalid(() => buildNvsImage([ns('a'), str('x', '1'), ns('b'), ns('a'), str('z', '3')], 0x3000), /appears again/);
    expect(() => buildNvsImage([ns('a'), ns('a'), str('x', '1')], 0x3000)).not.toThrow();
  });

  it('never puts the value into the error text', () => {
    const secret = 'SECRETVALUE_1234';
    const err = expectInvalid(
      () => buildNvsImage([ns('n'), { type: 'data', key: 'k', encoding: 'u32', value: secret }], 0x3000),
      /key "k"/,
    );
    expect(err.message).not.toContain(secret);
    expect(JSON.stringify(err.toJSON())).not.toContain(secret);
  });
});
