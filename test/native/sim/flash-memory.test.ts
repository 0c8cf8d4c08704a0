import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { FlashMemory } from '../../../native/sim/flash-memory.js';

describe('FlashMemory', () => {
  it('starts erased (0xFF) at the requested size', () => {
    const flash = new FlashMemory(64 * 1024);
    expect(flash.size).toBe(65536);
    expect(flash.read(0, 65536).every((b) => b === 0xff)).toBe(true);
  });

  it('programs with NOR semantics: bits only go from 1 to 0 until the sector is erased', () => {
    const flash = new FlashMemory(64 * 1024);
    expect(flash.program(0x1000, Uint8Array.of(0x0f, 0xf0))).toBe(0);
    // Writing over programmed bytes ANDs: 0x0f & 0xf0 = 0, and reports the mismatch.
    expect(flash.program(0x1000, Uint8Array.of(0xf0, 0xf0))).toBe(1);
    expect(Array.from(flash.read(0x1000, 2))).toEqual([0x00, 0xf0]);
    flash.eraseSector(0x1abc);
    expect(Array.from(flash.read(0x1000, 2))).toEqual([0xff, 0xff]);
    expect(flash.eraseCount(0x1000)).toBe(1);
  });

  it('erases whole sectors covering a range', () => {
    const flash = new FlashMemory(64 * 1024);
    flash.program(0x0ff0, new Uint8Array(0x30));
    flash.eraseRange(0x1800, 0x900); // touches sectors 0x1000 and 0x2000 only
    expect(flash.read(0x0ff0, 0x10).every((b) => b === 0)).toBe(true);
    expect(flash.read(0x1000, 0x20).every((b) => b === 0xff)).toBe(true);
    expect(flash.eraseCount(0x2000)).toBe(1);
    expect(flash.eraseCount(0x3000)).toBe(0);
  });

  it('computes MD5 over a region and refuses access past the end', () => {
    const flash = new FlashMemory(64 * 1024);
    const data = Uint8Array.from({ length: 100 }, (_, i) => i);
    flash.program(0x2000, data);
    expect(flash.md5Hex(0x2000, 100)).toBe(createHash('md5').update(data).digest('hex'));
    expect(() => flash.read(0xfff0, 0x20)).toThrow(RangeError);
  });
});
