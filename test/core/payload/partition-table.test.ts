import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import {
  buildPartitionTableBinary,
  findBootAppPartition,
  findNvsPartition,
  parsePartitionTableBinary,
  parsePartitionTableCsv,
  parsePartitionTableFile,
  type PartitionEntry,
  type PartitionTableOptions,
} from '../../../core/payload/partition-table.js';
import { pyIntBase0 } from '../../../core/payload/python-int.js';

const DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../vectors/partitions');

function vector(name: string, ext: 'csv' | 'bin'): Uint8Array {
  const path = join(DIR, `${name}.${ext}`);
  if (!existsSync(path)) throw new Error(`Reference vector ${path} is missing; see test/vectors/partitions/README.md to make it.`);
  return new Uint8Array(readFileSync(path));
}

type Row = [name: string, type: number, subtype: number, offset: number, size: number, flags?: string];
const K = 1024;
const M = 1024 * 1024;

/** The tables as `gen_esp32part.py` prints them back from the .bin files (see the README). */
const VECTORS: Array<{ name: string; options: PartitionTableOptions; md5: boolean; rows: Row[] }> = [
  {
    name: 'single-app',
    options: {},
    md5: true,
    rows: [
      ['nvs', 1, 0x02, 0x9000, 24 * K],
      ['phy_init', 1, 0x01, 0xf000, 4 * K],
      ['factory', 0, 0x00, 0x10000, M],
    ],
  },
  {
    name: 'two-ota',
    options: {},
    md5: true,
    rows: [
      ['nvs', 1, 0x02, 0x9000, 16 * K],
      ['otadata', 1, 0x00, 0xd000, 8 * K],
      ['phy_init', 1, 0x01, 0xf000, 4 * K],
      ['factory', 0, 0x00, 0x10000, M],
      ['ota_0', 0, 0x10, 0x110000, M],
      ['ota_1', 0, 0x11, 0x210000, M],
    ],
  },
  {
    name: 'arduino-default',
    options: {},
    md5: true,
    rows: [
      ['nvs', 1, 0x02, 0x9000, 20 * K],
      ['otadata', 1, 0x00, 0xe000, 8 * K],
      ['app0', 0, 0x10, 0x10000, 1280 * K],
      ['app1', 0, 0x11, 0x150000, 1280 * K],
      ['spiffs', 1, 0x82, 0x290000, 1408 * K],
      ['coredump', 1, 0x03, 0x3f0000, 64 * K],
    ],
  },
  {
    name: 'quirks',
    options: {},
    md5: true,
    rows: [
      ['NVS_Main', 1, 0x02, 0x9000, 24 * K],
      ['nvs_keys', 1, 0x04, 0xf000, 4 * K, 'encrypted'],
      ['factory', 0, 0x00, 0x10000, M],
      ['storage', 1, 0x99, 0x110000, M, 'readonly'],
      ['custom', 0x40, 0x00, 0x210000, 4 * K],
      ['fs', 1, 0x83, 0x211000, 1916 * K],
      ['core', 1, 0x03, 0x3f0000, 64 * K],
      ['ro_nvs', 1, 0x02, 0x400000, 4 * K, 'encrypted:readonly'],
      ['blank_sub', 1, 0x06, 0x401000, 4 * K],
      ['ota_15', 0, 0x1f, 0x410000, 64 * K],
    ],
  },
  {
    name: 'own-table-offset',
    options: { tableOffset: 0xf000, primaryBootloaderOffset: 0x1000 },
    md5: true,
    rows: [
      ['bootloader', 2, 0x00, 0x1000, 56 * K],
      ['partition_table', 3, 0x00, 0xf000, 4 * K],
      ['nvs', 1, 0x02, 0x10000, 20 * K],
      ['phy_init', 1, 0x01, 0x15000, 4 * K],
      ['factory', 0, 0x00, 0x20000, 1536 * K],
    ],
  },
  {
    name: 'no-md5',
    options: {},
    md5: false,
    rows: [
      ['nvs', 1, 0x02, 0x9000, 24 * K],
      ['phy_init', 1, 0x01, 0xf000, 4 * K],
      ['factory', 0, 0x00, 0x10000, M],
    ],
  },
];

function entry([name, type, subtype, offset, size, flags = '']: Row): PartitionEntry {
  return { name, type, subtype, offset, size, encrypted: flags.includes('encrypted'), readonly: flags.includes('readonly'), otherFlags: 0 };
}

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

const csv = (text: string, options?: PartitionTableOptions) => parsePartitionTableCsv(text, options);

describe('partition tables against gen_esp32part.py (ESP-IDF v6.0.2) vectors', () => {
  for (const v of VECTORS) {
    it(`${v.name}: CSV layout and binary are byte-identical to the tool's`, () => {
      const fromCsv = parsePartitionTableFile(vector(v.name, 'csv'), v.options);
      expect(fromCsv.format).toBe('csv');
      expect(fromCsv.entries).toEqual(v.rows.map(entry));
      const bin = buildPartitionTableBinary(fromCsv.entries, { md5: v.md5 });
      expect(Buffer.from(bin).equals(Buffer.from(vector(v.name, 'bin')))).toBe(true);
    });

    it(`${v.name}: the tool's binary reads back to the same entries`, () => {
      const fromBin = parsePartitionTableFile(vector(v.name, 'bin'), v.options);
      expect(fromBin.format).toBe('binary');
      expect(fromBin.md5).toBe(v.md5 ? 'verified' : 'absent');
      expect(fromBin.entries).toEqual(v.rows.map(entry));
    });
  }

  it('finds the NVS partition the firmware opens (label "nvs")', () => {
    const arduino = parsePartitionTableBinary(vector('arduino-default', 'bin')).entries;
    expect(findNvsPartition(arduino)).toMatchObject({ offset: 0x9000, size: 0x5000 });
    const moved = parsePartitionTableBinary(vector('own-table-offset', 'bin'), { tableOffset: 0xf000 }).entries;
    expect(findNvsPartition(moved)).toMatchObject({ offset: 0x10000, size: 0x5000 });
    expect(findBootAppPartition(arduino)).toMatchObject({ name: 'app0', offset: 0x10000 });
    expect(findBootAppPartition(moved)).toMatchObject({ name: 'factory', offset: 0x20000 });
  });
});

describe('binary partition table errors', () => {
  const good = vector('single-app', 'bin');

  it('refuses a table whose MD5 entry does not match its entries', () => {
    const bad = good.slice();
    bad[12] = bad[12]! ^ 0x20; // "nvs" -> "Nvs": an entry changed, the MD5 entry not
    expectInvalid(() => parsePartitionTableBinary(bad), /MD5 entry .* does not match/);
    const badMd5 = good.slice();
    badMd5[3 * 32 + 20] = badMd5[3 * 32 + 20]! ^ 0xff;
    expectInvalid(() => parsePartitionTableBinary(badMd5), /MD5/);
  });

  it('refuses a table without an end marker, or cut in the middle of an entry', () => {
    const full = new Uint8Array(0xc00);
    for (let i = 0; i < 0xc00; i += 32) full.set(good.subarray(0, 32), i);
    expectInvalid(() => parsePartitionTableBinary(full), /no end marker/);
    expectInvalid(() => parsePartitionTableBinary(good.subarray(0, 3 * 32 + 16)), /32-byte entries/);
  });

  it('refuses erased flash and an entry with a wrong magic', () => {
    expectInvalid(() => parsePartitionTableFile(new Uint8Array(0xc00).fill(0xff)), /not CSV|neither/);
    const bad = good.slice();
    bad[32] = 0x00;
    expectInvalid(() => parsePartitionTableBinary(bad), /entry 1 has no 0x50AA magic/);
    expectInvalid(() => parsePartitionTableBinary(new Uint8Array(64)), /not an ESP-IDF partition table/);
  });

  it('verifies what it reads (overlap, alignment), as the tool does by default', () => {
    const overlapping = buildPartitionTableBinary([
      entry(['nvs', 1, 2, 0x9000, 0x6000]),
      entry(['phy_init', 1, 1, 0xe000, 0x1000]),
    ]);
    expectInvalid(() => parsePartitionTableBinary(overlapping), /overlaps "nvs"/);
    const misaligned = buildPartitionTableBinary([entry(['factory', 0, 0, 0x18000, 0x10000])]);
    expectInvalid(() => parsePartitionTableBinary(misaligned), /not aligned to 0x10000/);
    const tooBig = parsePartitionTableBinary(good);
    expectInvalid(() => parsePartitionTableBinary(good, { flashSize: M }), /beyond the 1 MB flash/);
    expect(tooBig.entries).toHaveLength(3);
  });

  it('keeps unknown flag bits and a 16-character label without a NUL', () => {
    const e = { ...entry(['sixteen_chars_ab', 1, 0x81, 0x9000, 0x10000]), otherFlags: 0x100 };
    const parsed = parsePartitionTableBinary(buildPartitionTableBinary([e]));
    expect(parsed.entries).toEqual([e]);
  });

  it('refuses more entries than the 0xC00-byte table holds', () => {
    const many = Array.from({ length: 95 }, (_, i) => entry([`p${i}`, 1, 0x81, 0x10000 + i * 0x1000, 0x1000]));
    expect(buildPartitionTableBinary(many.slice(0, 94)).length).toBe(0xc00);
    expectInvalid(() => buildPartitionTableBinary(many), /too many entries/);
  });

  it('writes the MD5 of the entries the way the bootloader checks it', () => {
    const bin = buildPartitionTableBinary([entry(['nvs', 1, 2, 0x9000, 0x6000])]);
    expect([...bin.subarray(32, 48)]).toEqual([0xeb, 0xeb, ...new Array(14).fill(0xff)]);
    expect(Buffer.from(bin.subarray(48, 64))).toEqual(createHash('md5').update(bin.subarray(0, 32)).digest());
    expect(bin.subarray(64).every((b) => b === 0xff)).toBe(true);
  });
});

describe('CSV partition table rules and errors', () => {
  it('lays out empty offsets with 64 KB alignment for apps and 4 KB for data, from the table sector', () => {
    const t = csv('nvs,data,nvs,,0x5000\napp,app,factory,,0x1000\nafter,data,fat,,0x800\nnext,data,fat,,4K\n');
    expect(t.entries.map((e) => [e.name, e.offset, e.size])).toEqual([
      ['nvs', 0x9000, 0x5000],
      ['app', 0x10000, 0x1000],
      ['after', 0x11000, 0x800],
      ['next', 0x12000, 0x1000],
    ]);
    const moved = csv('nvs,data,nvs,,0x5000\n', { tableOffset: 0x10000 });
    expect(moved.entries[0]!.offset).toBe(0x11000);
  });

  it('reads suffixes, Python int() literals and keywords in any case', () => {
    const t = csv('a,DATA,NvS,0x9000,0x3000\nb,1,0x81,,1_0_2_4K\nc,data,fat,,0o10k\nd,data,fat,,2kk\n');
    expect(t.entries.map((e) => [e.subtype, e.size])).toEqual([
      [2, 0x3000],
      [0x81, 1024 * 1024],
      [0x81, 8 * 1024],
      [0x81, 2 * 1024 * 1024],
    ]);
    expect(pyIntBase0(' +0X_1f ')).toBe(31n);
    expect(pyIntBase0('007')).toBeUndefined();
    expect(pyIntBase0('000')).toBe(0n);
    expect(pyIntBase0('1__0')).toBeUndefined();
    expect(pyIntBase0('-0b101')).toBe(-5n);
  });

  it('expands only the variables it is given and refuses any other', () => {
    const t = csv('nvs,data,nvs,$NVS_OFF,${NVS_SIZE}\n', { variables: { NVS_OFF: '0x9000', NVS_SIZE: '0x6000' } });
    expect(t.entries[0]).toMatchObject({ offset: 0x9000, size: 0x6000 });
    expectInvalid(() => csv('nvs,data,nvs,$NVS_OFF,0x6000\n'), /line 1: unknown variable "NVS_OFF"/);
  });

  const refusals: Array<[string, string, RegExp, PartitionTableOptions?]> = [
    ['overlap with the previous partition', 'nvs,data,nvs,,0x6000\nphy,data,phy,0xe000,0x1000\n', /line 2: offset 0xe000 overlaps the previous partition/],
    ['a first partition inside the table sector', 'nvs,data,nvs,0x8000,0x6000\n', /inside the partition table's sector/],
    ['an app offset not on 64 KB', 'nvs,data,nvs,,0x6000\nfactory,app,factory,0x18000,1M\n', /"factory": offset 0x18000 is not aligned to 0x10000/],
    ['a data offset not on 4 KB', 'nvs,data,nvs,0x9800,0x6000\n', /not aligned to 0x1000/],
    ['an app size not on 4 KB', 'factory,app,factory,,0x10800\n', /size 0x10800 is not aligned/],
    ['an app size not on 64 KB under secure boot v1', 'factory,app,factory,,0x11000\n', /size 0x11000 is not aligned to 0x10000/, { secure: 'v1' }],
    ['an unknown type keyword', 'nvs,dta,nvs,,0x6000\n', /"dta" is not valid here; known keywords: bootloader, partition_table, app, data/],
    ['an unknown subtype keyword', 'nvs,data,nvs2,,0x6000\n', /"nvs2" is not valid here/],
    ['a subtype keyword of a custom type', 'x,0x40,nvs,,0x6000\n', /"nvs" is not a number/],
    ['an empty type', 'nvs,,nvs,,0x6000\n', /type field is empty/],
    ['an app without subtype', 'factory,app,,,1M\n', /app partition needs a subtype/],
    ['an empty size', 'nvs,data,nvs,,\n', /size field is empty/],
    ['an unknown flag', 'nvs,data,nvs,,0x6000,secret\n', /unknown flag "secret"/],
    ['a flag list with a space', 'nvs,data,nvs,,0x6000,readonly: encrypted\n', /unknown flag " encrypted"/],
    ['duplicate names', 'nvs,data,nvs,,0x6000\nnvs,data,fat,,0x1000\n', /"nvs" appears twice/],
    ['two otadata partitions', 'a,data,ota,,0x2000\nb,data,ota,,0x2000\n', /2 otadata partitions/],
    ['otadata of the wrong size', 'otadata,data,ota,,0x1000\n', /must be exactly 0x2000/],
    ['a small read/write NVS', 'nvs,data,nvs,,0x2000\n', /at least 0x3000/],
    ['a read-only coredump', 'core,data,coredump,,64K,readonly\n', /always read\/write/],
    ['a name longer than 16 bytes', 'a_very_long_partition_name,data,nvs,,0x6000\n', /at most 16 bytes/],
    ['a negative size that ends before the start', 'nvs,data,nvs,,-0x1000\n', /negative/],
    ['a bootloader row without its offset', 'bootloader,bootloader,primary,,\n', /primary bootloader offset/],
    ['a table beyond the flash', 'factory,app,factory,,4M\n', /beyond the 4 MB flash/, { flashSize: 4 * M }],
  ];
  for (const [what, text, pattern, options] of refusals) {
    it(`refuses ${what}`, () => expectInvalid(() => csv(text, options), pattern));
  }

  it('accepts a small NVS partition when it is read-only', () => {
    expect(csv('factory_nvs,data,nvs,,0x1000,readonly\n').entries[0]).toMatchObject({ size: 0x1000, readonly: true });
  });
});

describe('findNvsPartition', () => {
  it('refuses a table without a partition labelled nvs, naming the NVS partitions it has', () => {
    const t = csv('storage,data,nvs,,0x6000\nfactory,app,factory,,1M\n').entries;
    expectInvalid(() => findNvsPartition(t), /no partition labelled "nvs" \(NVS partitions: "storage"\)/);
    expect(findNvsPartition(t, 'storage').offset).toBe(0x9000);
    expectInvalid(() => findNvsPartition(csv('factory,app,factory,,1M\n').entries), /no NVS partition at all/);
    expectInvalid(() => findNvsPartition(csv('nvs,data,fat,,0x6000\n').entries), /"nvs" is data\/fat, not data\/nvs/);
  });
});
