import { describe, expect, it } from 'vitest';
import { a2bBase64, a2bHex, pyInt, pyIntFromBytes, pyStrStrip } from '../../../core/payload/nvs-value-codecs.js';

const codes = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const hex = (b: Uint8Array | undefined): string | undefined => (b ? Buffer.from(b).toString('hex') : undefined);

describe('a2bBase64 matches CPython 3.11 binascii.a2b_base64 (non-strict)', () => {
  // [input, Python's result as hex, or null where Python raises binascii.Error]
  const table: Array<[string, string | null]> = [
    ['', ''],
    ['aGVsbG8=', '68656c6c6f'],
    ['aGVsbG8', null],
    ['aGVsbA', null],
    ['aGVsbA=', null],
    ['aGVsbA==', '68656c6c'],
    ['aGVsbA===', '68656c6c'],
    ['a', null],
    ['ab', null],
    ['abc', null],
    ['abcd', '69b71d'],
    ['ab=c=', '69b7'],
    ['aGk=IGlnbm9yZWQ=', '6869'],
    ['aGVs bG8*=', '68656c6c6f'],
    ['=aGVsbG8=', '68656c6c6f'],
    ['a=b=c=d', '69b7'],
    ['ab==cd', '69'],
    ['!!!!', ''],
    ['YQ\nYQ==', '610610'],
    ['Y=Q==', '61'],
    ['YQ=Q', null],
  ];
  for (const [input, expected] of table) {
    it(JSON.stringify(input), () => {
      expect(hex(a2bBase64(codes(input))) ?? null).toBe(expected);
    });
  }
});

describe('Python int(), strip() and a2b_hex()', () => {
  it('parses decimal text like int()', () => {
    expect(pyInt(' 42\n')).toBe(42n);
    expect(pyInt('+7')).toBe(7n);
    expect(pyInt('-0')).toBe(0n);
    expect(pyInt('1_000')).toBe(1000n);
    expect(pyInt('007')).toBe(7n);
    expect(pyInt('\u00a012\u3000')).toBe(12n);
    for (const bad of ['', ' ', '1__0', '_1', '1_', '0x10', '1.0', '1e3', '--1', '+ 1']) expect(pyInt(bad)).toBeUndefined();
    expect(pyIntFromBytes(new TextEncoder().encode('\t99 \n'))).toBe(99n);
    expect(pyIntFromBytes(new Uint8Array([0xa0, 0x31]))).toBeUndefined();
  });

  it('strips what str.strip() strips', () => {
    expect(pyStrStrip('\x1c\t ab \u2028')).toBe('ab');
    expect(pyStrStrip('\ufeffab')).toBe('\ufeffab');
  });

  it('decodes hex like a2b_hex', () => {
    expect(hex(a2bHex('00ffAb'))).toBe('00ffab');
    expect(hex(a2bHex(''))).toBe('');
    expect(a2bHex('abc')).toBeUndefined();
    expect(a2bHex('0g')).toBeUndefined();
    expect(a2bHex('0 ')).toBeUndefined();
  });
});
