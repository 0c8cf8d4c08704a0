import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudServer, type CloudServer } from '../../../cloud/server.js';
import { FlashlineCloudClient } from '../../../core/cloud/cloud-client.js';
import { openStationDatabase, type StationDatabase } from '../../../core/db/open-database.js';
import { DEMO_PRODUCT, type ProductConfig } from '../../../core/product/product.js';
import { TokenQueue } from '../../../core/queue/token-queue.js';
import { checkPullCsv, CSV_PULL_BYTES_MAX, CSV_PULL_ROWS_MAX, readPullCsv } from '../../../core/supervisor/csv-pull.js';
import { TokenPuller } from '../../../core/sync/token-puller.js';
import { FAULTS, startFaultProxy, type FaultProxy } from '../../support/fault-proxy.js';

const CLIENT_TIMEOUT_MS = 300;
const SLOW_FAULT_MS = 1_000;
const csv = (text: string) => Buffer.from(text, 'utf8');
const GOOD = 'Serial Number,Manufacturing Batch\r\nSN-0001,B7\r\nSN-0002,B7\r\nSN-0003,B7\r\n';

describe('the station-side check of a CSV pull', () => {
  it('reads a good file: headers, rows, no problems; a UTF-8 BOM is dropped', () => {
    const local = readPullCsv(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), csv(GOOD)]), 'serials.csv');
    expect(local.headers).toEqual(['Serial Number', 'Manufacturing Batch']);
    expect(local.rows).toHaveLength(3);
    expect(local.rowErrors).toEqual([]);
    expect(local.text.startsWith('Serial Number')).toBe(true);
  });

  it.each([
    ['UTF-16 text', Buffer.from('\ufeffSerial Number\r\nA\r\n', 'utf16le'), /UTF-16.*CSV UTF-8.*Nothing was pulled/],
    ['Latin-1 bytes', Buffer.from([...csv('Serial Number\r\nM'), 0xfc, ...csv('ller\r\n')]), /not valid UTF-8.*Nothing was pulled/],
    ['binary data', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]), /binary data|UTF-16/],
    ['a duplicate header', csv('Serial Number,Serial Number\r\nA,B\r\n'), /names the column "Serial Number" twice/],
    ['a blank header', csv('Serial Number,\r\nA,B\r\n'), /column 2 of the header row has no name/],
    ['a header that is a formula', csv('=1+2,B\r\nA,B\r\n'), /header .* is a spreadsheet formula/],
    ['no data rows', csv('Serial Number\r\n'), /no data rows/],
    ['an empty file', csv(''), /is empty/],
    ['a ragged row', csv('Serial Number,Manufacturing Batch\r\nA\r\n'), /line 2: 1 field where the header has 2/],
    ['an unclosed quote', csv('Serial Number\r\n"A\r\n'), /line 2, field 1: a quoted field is never closed/],
  ])('refuses %s with one clear sentence', (_what, bytes, message) => {
    expect(() => readPullCsv(bytes, 'in.csv')).toThrow(message);
  });

  it('caps the file size and the rows', () => {
    const big = csv(`Serial Number\r\n${'x'.repeat(CSV_PULL_BYTES_MAX)}\r\n`);
    expect(() => readPullCsv(big, 'big.csv')).toThrow(/bytes; at most 262144/);
    const many = csv(`Serial Number\r\n${Array.from({ length: CSV_PULL_ROWS_MAX + 1 }, (_, i) => `SN${i}`).join('\r\n')}\r\n`);
    expect(() => readPullCsv(many, 'many.csv')).toThrow(/more than 1000 rows/);
    const max = csv(`Serial Number\r\n${Array.from({ length: CSV_PULL_ROWS_MAX }, (_, i) => `SN${i}`).join('\r\n')}\r\n`);
    expect(readPullCsv(max, 'max.csv').rows).toHaveLength(CSV_PULL_ROWS_MAX);
  });

  it('lists formula cells and blank rows per row and column, numbered as a spreadsheet shows them; a negative number is data', () => {
    const local = readPullCsv(csv('Serial Number,Offset\r\nSN1,-5\r\n=cmd|calc,1\r\n,\r\nSN4,@SUM(A1)\r\n'), 'x.csv');
    expect(local.rowErrors).toEqual([
      { row: 3, column: 'Serial Number', message: expect.stringMatching(/starts with "=": a spreadsheet formula/) },
      { row: 4, message: expect.stringMatching(/is empty/) },
      { row: 5, column: 'Offset', message: expect.stringMatching(/starts with "@"/) },
    ]);
  });
});

describe('CSV pull against the real cloud', () => {
  let cloud: CloudServer;
  let proxy: FaultProxy;
  let db: StationDatabase;
  let queue: TokenQueue;
  let puller: TokenPuller;
  let client: FlashlineCloudClient;
  /** The remap step's checks are not about deadlines: the default timeout keeps them steady on a loaded machine. */
  let patient: FlashlineCloudClient;
  let product: ProductConfig;

  beforeAll(async () => {
    cloud = await startCloudServer({ dbPath: ':memory:', seed: { clientId: 'station-csv', clientSecret: 'station-csv-secret-0123456789abcdef' }, log: () => undefined });
    proxy = await startFaultProxy(cloud.url, { slowMs: SLOW_FAULT_MS });
    db = openStationDatabase(':memory:');
    queue = new TokenQueue(db);
    client = new FlashlineCloudClient({ baseUrl: proxy.url, clientId: 'station-csv', clientSecret: 'station-csv-secret-0123456789abcdef', timeoutMs: CLIENT_TIMEOUT_MS });
    patient = new FlashlineCloudClient({ baseUrl: proxy.url, clientId: 'station-csv', clientSecret: 'station-csv-secret-0123456789abcdef' });
    product = { ...DEMO_PRODUCT, templateId: String(cloud.seed.templateId), orgId: cloud.seed.orgId };
    puller = new TokenPuller({ db, queue, client, product, stationId: 'ST-CSV1', batchSize: 10, lowWater: 0 });
  });

  afterAll(async () => {
    await proxy.close();
    await cloud.close();
    db.close();
  });

  const check = (text: string, remap: Record<string, string | null> = {}) =>
    checkPullCsv(patient, { fileName: 'serials.csv', bytes: csv(text), remap, templateId: cloud.seed.templateId });

  it('the remap step: template fields, mapping, sample rows, whole-file problems and row errors from the cloud', async () => {
    const unmapped = await check('serial,batch,note\r\nSN-1,B1,x\r\n');
    expect(unmapped.acceptable).toBe(false);
    expect(unmapped.fields).toEqual(['Serial Number', 'Manufacturing Batch']);
    expect(unmapped.problems.join(' ')).toMatch(/No column fills the template fields "Serial Number", "Manufacturing Batch"/);
    expect(unmapped.problems.join(' ')).toMatch(/"serial", "batch", "note" match no template field/);

    const mapped = await check('serial,batch,note\r\nSN-1,B1,x\r\nSN-2,B1,y\r\n', { serial: 'Serial Number', batch: 'Manufacturing Batch', note: null });
    expect(mapped).toMatchObject({
      acceptable: true,
      rowCount: 2,
      mapping: { serial: 'Serial Number', batch: 'Manufacturing Batch', note: null },
      sample: [['SN-1', 'B1', 'x'], ['SN-2', 'B1', 'y']],
      problems: [],
      rowErrors: [],
    });

    const long = await check(`Serial Number,Manufacturing Batch\r\nSN-1,B1\r\n${'S'.repeat(300)},B1\r\n=1+1,B1\r\n`);
    expect(long.acceptable).toBe(false);
    expect(long.rowErrors).toEqual([
      { row: 3, column: 'Serial Number', message: 'is too long' },
      { row: 4, column: 'Serial Number', message: expect.stringMatching(/formula/) },
    ]);
    expect(long.rowErrorCount).toBe(2);
  });

  it('cloud down during the remap step: one sentence saying the file is fine but cannot be matched yet', async () => {
    proxy.setRule(() => 'down');
    await expect(check(GOOD)).rejects.toThrow(/reads fine \(3 rows\), but the cloud cannot be reached.*Nothing was pulled/);
    proxy.setRule(() => 'pass');
  });

  it('a narrow station client may check a CSV (the preview creates nothing), but not disclaim: 403 as CLOUD_REJECTED', async () => {
    await cloud.store.oauth.upsertClient({ clientId: 'station-narrow', orgId: cloud.seed.orgId, secret: 'station-narrow-secret-0123456789abcdef', kind: 'station' }, Date.now());
    const narrow = new FlashlineCloudClient({ baseUrl: cloud.url, clientId: 'station-narrow', clientSecret: 'station-narrow-secret-0123456789abcdef' });
    const preview = await narrow.previewCsvBatch({ templateId: cloud.seed.templateId, csv: GOOD, remap: {} });
    expect(preview).toMatchObject({ acceptable: true, rowCount: 3, rowErrors: [] });
    await expect(narrow.disclaim(`sqr_${'x'.repeat(32)}`)).rejects.toMatchObject({ code: 'CLOUD_REJECTED', details: { status: 403 } });
  });

  it('pulls one token per row with its metadata; every network fault fails as data and the retry gets the same batch', async () => {
    for (const fault of FAULTS) {
      proxy.setRule((path) => (/static-tokens\/generate/.test(path) ? fault : 'pass'));
      await expect(puller.pullCsv({ text: GOOD, remap: {}, rows: 3 })).rejects.toMatchObject({ code: 'CLOUD_UNREACHABLE' });
    }
    proxy.setRule(() => 'pass');
    const pulled = await puller.pullCsv({ text: GOOD, remap: {}, rows: 3 });
    expect(pulled.imported).toBe(3);
    // The cut reply's batch was the one fetched again: one batch in the cloud, the same one here.
    const batches = await cloud.store.db.all<{ id: string; token_count: number }>('SELECT id, token_count FROM token_batches WHERE station_id = ?', ['ST-CSV1']);
    expect(batches).toEqual([{ id: pulled.batchId, token_count: 3 }]);
    const rows = db.prepare('SELECT metadata FROM tokens WHERE batch_id = ? ORDER BY id').all(pulled.batchId) as { metadata: string }[];
    expect(rows.map((r) => JSON.parse(r.metadata) as unknown)).toEqual([
      { 'Serial Number': 'SN-0001', 'Manufacturing Batch': 'B7' },
      { 'Serial Number': 'SN-0002', 'Manufacturing Batch': 'B7' },
      { 'Serial Number': 'SN-0003', 'Manufacturing Batch': 'B7' },
    ]);
    expect(db.prepare("SELECT value FROM settings WHERE key = 'pending_manual_pull'").get()).toBeUndefined();
  });

  it('a CSV the cloud refuses (4xx) is forgotten, so it does not block the next pull; nothing lands', async () => {
    const before = queue.stock().available;
    await expect(puller.pullCsv({ text: 'nope\r\nA\r\n', remap: {}, rows: 1 })).rejects.toMatchObject({ code: 'CLOUD_REJECTED' });
    expect(queue.stock().available).toBe(before);
    expect(db.prepare("SELECT value FROM settings WHERE key = 'pending_manual_pull'").get()).toBeUndefined();
    expect((await puller.pull(2)).imported).toBe(2);
  });

  it('a count pull left pending is completed before a CSV pull, each batch once', async () => {
    proxy.setRule((path) => (/static-tokens\/generate/.test(path) ? 'cut-reply' : 'pass'));
    await expect(puller.pull(4)).rejects.toMatchObject({ code: 'CLOUD_UNREACHABLE' });
    proxy.setRule(() => 'pass');
    const before = queue.stock().available;
    await puller.pullCsv({ text: 'Serial Number,Manufacturing Batch\r\nSN-9,B9\r\n', remap: {}, rows: 1 });
    expect(queue.stock().available).toBe(before + 4 + 1);
    const counts = await cloud.store.db.all<{ token_count: number }>('SELECT token_count FROM token_batches WHERE station_id = ? ORDER BY token_count', ['ST-CSV1']);
    expect(counts.map((c) => c.token_count)).toEqual([1, 2, 3, 4]);
  });
});
