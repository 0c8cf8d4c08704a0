import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { DEFAULT_ZIP_LIMITS, describeEntryName, readZip, writeZip, type ZipLimits } from '../../../core/batches/zip.js';

/** Python's zipfile is an independent implementation (python3 is one of the test machine's packages). */
function python(script: string, ...args: string[]): string {
  const r = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8' });
  if (r.error) throw new Error('python3 is not installed; the zip tests need the Debian package python3 (apt-get install -y python3).');
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return r.stdout;
}

function refusal(zip: Buffer, limits?: ZipLimits): string {
  try {
    readZip(zip, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(StationError);
    expect((err as StationError).code).toBe('INVALID_INPUT');
    return (err as StationError).message;
  }
  throw new Error('the zip was accepted');
}

/** Replaces every occurrence of `from` (local and central headers both hold the name). */
function patch(zip: Buffer, from: string, to: string): Buffer {
  expect(to.length).toBe(from.length);
  const out = Buffer.from(zip);
  const needle = Buffer.from(from);
  let hits = 0;
  for (let i = out.indexOf(needle); i >= 0; i = out.indexOf(needle, i + 1)) {
    Buffer.from(to, 'latin1').copy(out, i);
    hits++;
  }
  expect(hits).toBeGreaterThanOrEqual(2);
  return out;
}

/** Offset of the n-th (0-based) central directory header. */
function centralHeader(zip: Buffer, n: number): number {
  let found = -1;
  for (let i = 0; i < zip.length - 4; i++) {
    if (zip.readUInt32LE(i) === 0x02014b50 && ++found === n) return i;
  }
  throw new Error('no such central header');
}

const text = Buffer.from('token,deviceToken\r\n'.repeat(200));

describe('writeZip / readZip', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'zip-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes archives Python zipfile reads back exactly (deflate, stored, folders, UTF-8 names)', () => {
    const entries = [
      { name: 'static-tokens.csv', data: text },
      { name: 'qr-codes/', data: Buffer.alloc(0), method: 'store' as const },
      { name: 'qr-codes/a.png', data: Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]), method: 'store' as const },
      { name: 'notes/ünïcödé.txt', data: Buffer.from('hello') },
      { name: 'empty.txt', data: Buffer.alloc(0) },
    ];
    const file = join(dir, 'ours.zip');
    writeFileSync(file, writeZip(entries));
    const listing = JSON.parse(
      python(
        `import zipfile,sys,json,base64
z=zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps([[i.filename, i.compress_type, base64.b64encode(z.read(i)).decode()] for i in z.infolist()]))`,
        file,
      ),
    ) as [string, number, string][];
    expect(listing.map(([name, method, b64]) => [name, method, Buffer.from(b64, 'base64').toString('latin1')])).toEqual(
      entries.map((e) => [e.name, e.method === 'store' ? 0 : 8, e.data.toString('latin1')]),
    );
    expect(readZip(readFileSync(file))).toEqual(entries.filter((e) => !e.name.endsWith('/')).map((e) => ({ name: e.name, data: e.data })));
    // Repeatable: same input, same bytes.
    expect(writeZip(entries).equals(readFileSync(file))).toBe(true);
  });

  it('reads archives Python wrote, including streamed ones with data descriptors', () => {
    const file = join(dir, 'python.zip');
    python(
      `import zipfile,sys
with open(sys.argv[1],'wb') as raw:
  class Unseekable:
    def write(self,b): return raw.write(b)
    def flush(self): raw.flush()
  with zipfile.ZipFile(Unseekable(),'w',zipfile.ZIP_DEFLATED) as z:
    z.writestr('a.csv','x,y\\r\\n1,2\\r\\n'*100)
    z.writestr(zipfile.ZipInfo('dir/'),'')
    z.writestr('dir/b.bin',bytes(range(256)),compress_type=zipfile.ZIP_STORED)`,
      file,
    );
    const zip = readFileSync(file);
    expect(zip.readUInt16LE(6) & 0x0008).toBe(0x0008); // the first entry really uses a data descriptor
    expect(readZip(zip)).toEqual([
      { name: 'a.csv', data: Buffer.from('x,y\r\n1,2\r\n'.repeat(100)) },
      { name: 'dir/b.bin', data: Buffer.from(Array.from({ length: 256 }, (_, i) => i)) },
    ]);
  });

  it('refuses path traversal, absolute paths, drive letters, backslashes, empty segments and control characters', () => {
    const base = writeZip([
      { name: 'ok.txt', data: Buffer.from('fine') },
      { name: 'xx/evil.txt', data: Buffer.from('evil') },
    ]);
    for (const [name, why] of [
      ['../evil.txt', 'climbs out'],
      ['x/../../ev', 'climbs out'],
      ['/etc/passwd', 'absolute'],
      ['C:/evil.txt', 'drive letter'],
      ['xx\\evil.txt', 'backslash'],
      ['xx//evil.tx', 'empty or "."'],
      ['./xx/evil.t', 'empty or "."'],
      ['xx/evi\u0000.txt', 'control characters'],
    ] as const) {
      expect(refusal(patch(base, 'xx/evil.txt', name.padEnd(11, 'x').slice(0, 11))), name).toContain(why);
    }
    // The writer refuses the same names.
    expect(() => writeZip([{ name: '../x', data: Buffer.alloc(1) }])).toThrow(/climbs out/);
    expect(() => writeZip([{ name: 'a', data: Buffer.alloc(1) }, { name: 'a', data: Buffer.alloc(1) }])).toThrow(/twice/);
  });

  it('refuses duplicate names, encryption, unknown methods, ZIP64 markers and garbage', () => {
    const two = writeZip([
      { name: 'one.txt', data: Buffer.from('1') },
      { name: 'two.txt', data: Buffer.from('2') },
    ]);
    // Only the central directory's name is changed, so the duplicate check (not the local header check) fires.
    const dup = Buffer.from(two);
    const cd2 = centralHeader(dup, 1);
    dup.write('one.txt', cd2 + 46, 'latin1');
    expect(refusal(dup)).toContain('appears twice');

    const encrypted = Buffer.from(two);
    encrypted.writeUInt16LE(encrypted.readUInt16LE(centralHeader(encrypted, 0) + 8) | 1, centralHeader(encrypted, 0) + 8);
    expect(refusal(encrypted)).toContain('encrypted');

    const bzip2 = Buffer.from(two);
    bzip2.writeUInt16LE(12, centralHeader(bzip2, 0) + 10);
    expect(refusal(bzip2)).toContain('method 12');

    const zip64 = Buffer.from(two);
    zip64.writeUInt32LE(0xffffffff, centralHeader(zip64, 0) + 24);
    expect(refusal(zip64)).toContain('ZIP64');

    expect(refusal(Buffer.from('this is not a zip file at all, just text'))).toContain('end-of-central-directory');
    expect(refusal(two.subarray(0, two.length - 5))).toContain('end-of-central-directory');
    expect(refusal(Buffer.alloc(3))).toContain('too short');
  });

  it('refuses too many entries, and entries or totals over the size limits, before inflating anything', () => {
    const many = writeZip(Array.from({ length: 6 }, (_, i) => ({ name: `f${i}.txt`, data: Buffer.from('x') })));
    expect(refusal(many, { ...DEFAULT_ZIP_LIMITS, maxEntries: 5 })).toContain('6 entries');
    const big = writeZip([{ name: 'big.bin', data: Buffer.alloc(2_000_000, 7) }]);
    expect(refusal(big, { ...DEFAULT_ZIP_LIMITS, maxEntryBytes: 1_000_000, maxRatio: 1e9 })).toContain('at most 1000000 per file');
    const total = writeZip(Array.from({ length: 3 }, (_, i) => ({ name: `p${i}.bin`, data: Buffer.alloc(400_000, i) })));
    expect(refusal(total, { ...DEFAULT_ZIP_LIMITS, maxTotalBytes: 1_000_000, maxRatio: 1e9 })).toContain('more than 1000000 bytes in total');
  });

  it('refuses a zip bomb by its compression ratio, and one that lies about its size by the inflate cap', () => {
    const bomb = writeZip([{ name: 'zeros.bin', data: Buffer.alloc(20 * 1024 * 1024) }]);
    expect(bomb.length).toBeLessThan(100_000);
    expect(refusal(bomb)).toContain('compressed more than 100:1');

    // Declares 1,000 bytes but inflates to 60,000: the cap stops it at the declared size.
    const liar = Buffer.from(writeZip([{ name: 'liar.txt', data: Buffer.alloc(60_000, 0x61) }]));
    liar.writeUInt32LE(1000, 22); // local header: uncompressed size
    liar.writeUInt32LE(1000, centralHeader(liar, 0) + 24);
    expect(refusal(liar)).toContain('does not inflate to its declared 1000 bytes');
  });

  it('refuses overlapping entries (the overlapping-file bomb) and data running into the directory', () => {
    const zip = Buffer.from(
      writeZip([
        { name: 'a.txt', data: Buffer.from('a'.repeat(500)) },
        { name: 'b.txt', data: Buffer.from('b'.repeat(500)) },
      ]),
    );
    const overlap = Buffer.from(zip);
    const cdA = centralHeader(overlap, 0);
    overlap.writeUInt32LE(overlap.readUInt32LE(cdA + 20) + 40, cdA + 20);
    expect(refusal(overlap)).toMatch(/overlap/);
    const same = Buffer.from(zip);
    same.writeUInt32LE(0, centralHeader(same, 1) + 42); // b's directory entry points at a's header
    expect(refusal(same)).toContain('names another file');
    const runaway = Buffer.from(zip);
    const cdB = centralHeader(runaway, 1);
    runaway.writeUInt32LE(runaway.readUInt32LE(cdB + 20) + 10_000, cdB + 20);
    expect(refusal(runaway)).toContain('runs into the central directory');
  });

  it('checks every CRC', () => {
    const zip = Buffer.from(writeZip([{ name: 'data.bin', data: Buffer.from('0123456789'), method: 'store' }]));
    zip.writeUInt8(zip.readUInt8(30 + 'data.bin'.length + 3) ^ 0xff, 30 + 'data.bin'.length + 3);
    expect(refusal(zip)).toContain('CRC');
  });

  it('never shows a token-like run from an entry name in full', () => {
    const auth = 'Ab3dEf6hIj9kLm2oPq5sTu8wXy1zAb4d';
    expect(describeEntryName(`qr-codes/${auth}.png`)).toBe('"qr-codes/Ab3d…(32).png"');
    const zip = patch(
      writeZip([
        { name: 'ok.txt', data: Buffer.from('1') },
        { name: `qr-codes/${'x'.repeat(32)}.png`, data: Buffer.from('2') },
      ]),
      `qr-codes/${'x'.repeat(32)}.png`,
      `qr-codes\\${auth}.png`,
    );
    const message = refusal(zip);
    expect(message).toContain('backslash');
    expect(message).not.toContain(auth.slice(4, 12));
  });
});
