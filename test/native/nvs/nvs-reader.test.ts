import { describe, expect, it } from 'vitest';
import { nvsCrc32, nvsEntryCrc32, nvsPageHeaderCrc32 } from '../../../common/crc32.js';
import { findNvsString, readNvs } from '../../../native/nvs/nvs-reader.js';
import { expectedValues, plain, readVectorBin, VECTOR_NAMES } from '../../core/payload/nvs-vectors.js';

const TOKEN = 'Xq7-bN2_kP9sLm4TzR8vW1yH5cJ0aDfE'; // the made-up token in edgent.csv

// --- a tiny hand-rolled page writer, so these tests do not depend on the generator under core/ ---

interface RawEntry {
  ns: number;
  type: number;
  key: string;
  chunk?: number;
  /** 8 data bytes for primitives / blob index. */
  data?: number[];
  /** Payload for strings (0x21), v1 blobs (0x41) and blob chunks (0x42). */
  payload?: Uint8Array;
}

function page(seq: number, entries: RawEntry[], state = 0xfffffffe, version = 0xfe): Uint8Array {
  const p = new Uint8Array(4096).fill(0xff);
  const v = new DataView(p.buffer);
  v.setUint32(0, state, true);
  v.setUint32(4, seq, true);
  p[8] = version;
  v.setUint32(28, nvsPageHeaderCrc32(p), true);
  let slot = 0;
  const mark = (): void => {
    p[32 + (slot >> 2)]! &= ~(1 << ((slot & 3) * 2)) & 0xff;
    slot += 1;
  };
  for (const e of entries) {
    const at = 64 + slot * 32;
    const entry = new Uint8Array(32).fill(0xff);
    entry[0] = e.ns;
    entry[1] = e.type;
    entry[3] = e.chunk ?? 0xff;
    entry.fill(0, 8, 24);
    entry.set(new TextEncoder().encode(e.key), 8);
    let span = 1;
    if (e.payload) {
      span = 1 + Math.ceil(e.payload.length / 32);
      new DataView(entry.buffer).setUint16(24, e.payload.length, true);
      new DataView(entry.buffer).setUint32(28, nvsCrc32(e.payload), true);
    } else if (e.data) entry.set(e.data, 24);
    entry[2] = span;
    new DataView(entry.buffer).setUint32(4, nvsEntryCrc32(entry), true);
    p.set(entry, at);
    mark();
    if (e.payload) {
      p.set(e.payload, at + 32);
      for (let i = 1; i < span; i++) mark();
    }
  }
  return p;
}

const nsEntry = (name: string, index: number): RawEntry => ({ ns: 0, type: 0x01, key: name, data: [index] });
const strEntry = (ns: number, key: string, text: string): RawEntry => ({
  ns,
  type: 0x21,
  key,
  payload: new TextEncoder().encode(`${text}\0`),
});
const u8Entry = (ns: number, key: string, value: number): RawEntry => ({ ns, type: 0x01, key, data: [value] });

function partition(...pages: Uint8Array[]): Uint8Array {
  const out = new Uint8Array((pages.length + 1) * 4096).fill(0xff);
  pages.forEach((p, i) => out.set(p, i * 4096));
  return out;
}

function setEntryState(image: Uint8Array, pageIndex: number, slot: number, state: number): void {
  const at = pageIndex * 4096 + 32 + (slot >> 2);
  const shift = (slot & 3) * 2;
  image[at] = (image[at]! & ~(0b11 << shift)) | (state << shift);
}

describe('readNvs on the ESP-IDF reference vectors', () => {
  for (const name of VECTOR_NAMES) {
    it(`reads ${name}.bin back to the CSV's values`, () => {
      expect(plain(readNvs(readVectorBin(name)))).toEqual(plain(expectedValues(name)));
    });
  }

  it('returns typed values: numbers, bigints, strings, bytes', () => {
    const ints = readNvs(readVectorBin('integers')).get('ints')!;
    expect(ints.get('i8_min')).toEqual({ type: 'i8', value: -128 });
    expect(ints.get('u32_max')).toEqual({ type: 'u32', value: 4294967295 });
    expect(ints.get('u64_max')).toEqual({ type: 'u64', value: 18446744073709551615n });
    expect(ints.get('i64_min')).toEqual({ type: 'i64', value: -9223372036854775808n });
    const blobs = readNvs(readVectorBin('blobs')).get('blobs')!;
    const big = blobs.get('big');
    expect(big?.type).toBe('blob');
    expect((big?.value as Uint8Array).length).toBe(10000);
  });
});

describe('findNvsString', () => {
  it('finds the Edgent AuthToken and host like Preferences.getString would', () => {
    const image = readVectorBin('edgent');
    expect(findNvsString(image, 'blynk', 'auth')).toBe(TOKEN);
    expect(findNvsString(image, 'blynk', 'host')).toBe('blynk.cloud');
    expect(findNvsString(readVectorBin('edgent-auth-only'), 'blynk', 'host')).toBeUndefined();
  });

  it('is undefined for a missing key, another namespace, a non-string value, or an erased partition', () => {
    const image = readVectorBin('edgent');
    expect(findNvsString(image, 'blynk', 'cfgskip')).toBeUndefined();
    expect(findNvsString(image, 'other', 'auth')).toBeUndefined();
    expect(findNvsString(readVectorBin('integers'), 'ints', 'u8_max')).toBeUndefined();
    expect(findNvsString(new Uint8Array(0x3000).fill(0xff), 'blynk', 'auth')).toBeUndefined();
  });
});

describe('readNvs treats damaged bytes as the firmware does', () => {
  // edgent.bin page 0: slot 0 namespace "blynk", slots 1-2 "host", slots 3-4 "auth".
  const entryOffset = (slot: number): number => 64 + slot * 32;

  it('skips an entry whose CRC fails, keeps the others', () => {
    const image = readVectorBin('edgent');
    image[entryOffset(3) + 10]! ^= 0x01; // a key byte of "auth"
    expect(findNvsString(image, 'blynk', 'auth')).toBeUndefined();
    expect(findNvsString(image, 'blynk', 'host')).toBe('blynk.cloud');
  });

  it('drops a string whose payload CRC fails', () => {
    const image = readVectorBin('edgent');
    image[entryOffset(4)]! ^= 0x20; // first character of the token
    expect(findNvsString(image, 'blynk', 'auth')).toBeUndefined();
    expect(findNvsString(image, 'blynk', 'host')).toBe('blynk.cloud');
  });

  it('drops a string whose data entry is not marked written', () => {
    const image = readVectorBin('edgent');
    setEntryState(image, 0, 4, 0b00); // erased
    expect(findNvsString(image, 'blynk', 'auth')).toBeUndefined();
  });

  it('ignores everything past the first empty slot of an ACTIVE page', () => {
    const image = readVectorBin('edgent');
    setEntryState(image, 0, 1, 0b11); // "host" header looks unwritten
    const values = readNvs(image).get('blynk');
    expect(values?.has('host')).toBe(false);
    expect(values?.has('auth')).toBe(false);
  });

  it('skips a page whose header CRC fails, and an uninitialised page that is not blank', () => {
    const image = readVectorBin('edgent');
    image[5]! ^= 0xff; // sequence number
    expect(readNvs(image).size).toBe(0);
    const blank = new Uint8Array(0x3000).fill(0xff);
    blank[100] = 0;
    expect(readNvs(blank).size).toBe(0);
  });

  it('reads nothing when a page has a newer format version (nvs_flash_init would fail)', () => {
    const image = readVectorBin('edgent');
    image[8] = 0xfd;
    new DataView(image.buffer).setUint32(28, nvsPageHeaderCrc32(image), true);
    expect(readNvs(image).size).toBe(0);
  });

  it('drops a multi-page blob when one chunk is missing or damaged', () => {
    const image = readVectorBin('blobs');
    const before = readNvs(image).get('blobs')!;
    expect(before.has('big')).toBe(true);
    // Find the BLOB_DATA header of "big" chunk 1 and mark it erased.
    let found = false;
    for (let p = 0; p < image.length / 4096 && !found; p++) {
      for (let s = 0; s < 126; s++) {
        const at = p * 4096 + 64 + s * 32;
        const key = new TextDecoder().decode(image.subarray(at + 8, at + 11));
        if (image[at + 1] === 0x42 && key === 'big' && image[at + 3] === 1 && image[at + 8 + 3] === 0) {
          setEntryState(image, p, s, 0b00);
          found = true;
          break;
        }
      }
    }
    expect(found).toBe(true);
    const after = readNvs(image).get('blobs')!;
    expect(after.has('big')).toBe(false);
    expect(after.get('after_big')).toEqual({ type: 'u8', value: 1 });
    expect(after.size).toBe(before.size - 1);
  });

  it('never throws on garbage, short or odd-sized input', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    };
    for (let n = 0; n < 20; n++) {
      const junk = new Uint8Array(0x3000).map(() => rand());
      expect(() => readNvs(junk)).not.toThrow();
    }
    expect(readNvs(new Uint8Array(0)).size).toBe(0);
    expect(() => readNvs(readVectorBin('edgent').subarray(0, 5000))).not.toThrow();
  });
});

describe('readNvs on hand-built pages', () => {
  it('reads namespaces, strings and integers written by hand', () => {
    const image = partition(page(0, [nsEntry('blynk', 1), strEntry(1, 'auth', TOKEN), nsEntry('cfg', 2), u8Entry(2, 'n', 9)]));
    expect(findNvsString(image, 'blynk', 'auth')).toBe(TOKEN);
    expect(readNvs(image).get('cfg')?.get('n')).toEqual({ type: 'u8', value: 9 });
  });

  it('visits pages by sequence number: the newer copy of a key wins', () => {
    const newer = page(7, [nsEntry('blynk', 1), strEntry(1, 'auth', 'new-token')]);
    const older = page(3, [nsEntry('blynk', 1), strEntry(1, 'auth', 'old-token')], 0xfffffffc);
    expect(findNvsString(partition(newer, older), 'blynk', 'auth')).toBe('new-token');
    expect(findNvsString(partition(older, newer), 'blynk', 'auth')).toBe('new-token');
  });

  it('within a page, the later entry of a key wins', () => {
    const image = partition(page(0, [nsEntry('b', 1), strEntry(1, 'k', 'first'), strEntry(1, 'k', 'second')]));
    expect(findNvsString(image, 'b', 'k')).toBe('second');
  });

  it('reads FULL pages past an empty slot, unlike ACTIVE ones', () => {
    const entries = [nsEntry('b', 1), u8Entry(1, 'a', 1), u8Entry(1, 'c', 3)];
    const full = page(0, entries, 0xfffffffc);
    const active = page(0, entries);
    for (const p of [full, active]) {
      p[32] = (p[32]! & ~(0b11 << 2)) | (0b11 << 2); // slot 1 ("a") back to empty
    }
    expect([...(readNvs(partition(full)).get('b')?.keys() ?? [])]).toEqual(['c']);
    expect(readNvs(partition(active)).get('b')?.size).toBe(0);
  });

  it('ignores entries of a namespace index that was never defined', () => {
    const image = partition(page(0, [nsEntry('b', 1), u8Entry(2, 'orphan', 1), u8Entry(1, 'ok', 2)]));
    expect(plain(readNvs(image))).toEqual({ b: { ok: { type: 'u8', value: 2 } } });
  });

  it('reassembles v2 blobs from chunks on several pages and reads v1 single-page blobs', () => {
    const part1 = new Uint8Array(100).map((_, i) => i);
    const part2 = new Uint8Array(50).map((_, i) => 200 - i);
    const index: RawEntry = { ns: 1, type: 0x48, key: 'blob', data: [150, 0, 0, 0, 2, 0, 0xff, 0xff] };
    const image = partition(
      page(0, [nsEntry('b', 1), { ns: 1, type: 0x42, key: 'blob', chunk: 0, payload: part1 }], 0xfffffffc),
      page(1, [{ ns: 1, type: 0x42, key: 'blob', chunk: 1, payload: part2 }, index, { ns: 1, type: 0x41, key: 'old', payload: part2 }]),
    );
    const values = readNvs(image).get('b')!;
    expect(values.get('blob')).toEqual({ type: 'blob', value: new Uint8Array([...part1, ...part2]) });
    expect(values.get('old')).toEqual({ type: 'blob', value: part2 });
  });

  it('drops a blob whose index size disagrees with its chunks', () => {
    const chunk = new Uint8Array(10);
    const index: RawEntry = { ns: 1, type: 0x48, key: 'blob', data: [11, 0, 0, 0, 1, 0, 0xff, 0xff] };
    const image = partition(page(0, [nsEntry('b', 1), { ns: 1, type: 0x42, key: 'blob', chunk: 0, payload: chunk }, index]));
    expect(readNvs(image).get('b')?.size).toBe(0);
  });
});
