import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../../cloud/csv/csv.js';
import { boardFor, call, setupWorld, startTestCloud, STORE_KINDS, type ErrorBody, type GeneratedBatch, type TestCloud, type World } from '../cloud-test-kit.js';

type Batch = Omit<GeneratedBatch, 'tokens'> & { tokens: (GeneratedBatch['tokens'][number] & { metadata?: Record<string, string> })[] };

/** zbarimg (Debian: zbar-tools) reads a QR image back, as a phone would. */
function decodeQr(png: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'flashline-qr-'));
  try {
    const file = join(dir, 'qr.png');
    writeFileSync(file, png);
    return execFileSync('zbarimg', ['--quiet', '--raw', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch (err) {
    throw new Error(`zbarimg failed (Debian package zbar-tools): ${String(err)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each(STORE_KINDS)('creating static tokens: auto-create, CSV with remap, export zip (%s)', (store) => {
  let cloud: TestCloud;
  let w: World;
  let templateId: number;
  beforeAll(async () => {
    cloud = await startTestCloud({ store });
    w = await setupWorld(cloud);
    const made = await w.maker.post<{ id: number }>('/api/v1/organization/template/create', {
      name: 'Meter',
      blynkTemplateId: 'TMPLmeter',
      metadataFields: [
        { name: 'Serial Number', type: 'text' },
        { name: 'Batch No', type: 'number' },
      ],
    });
    templateId = made.body.id;
  });
  afterAll(async () => {
    await cloud?.close();
  });

  const importCsv = (csv: string, extra: Record<string, unknown> = {}) =>
    w.maker.post<Batch & ErrorBody>('/api/v1/organization/static-tokens/import', { templateId, csv, ...extra });
  const countTokens = async () =>
    (await w.maker.get<{ totalElements: number }>('/api/v1/organization/static-tokens')).body.totalElements;

  it('auto-creates N tokens for a template; the list pages them', async () => {
    const before = await countTokens();
    const made = await w.maker.post<Batch>('/api/v1/organization/static-tokens/create', { templateId, count: 25 });
    expect(made.status).toBe(201);
    expect(made.body.tokens).toHaveLength(25);
    expect(made.body.templateId).toBe(templateId);
    expect(await countTokens()).toBe(before + 25);
    // With a requestId it is idempotent, like the station's generate.
    const a = await w.maker.post<Batch>('/api/v1/organization/static-tokens/create', { templateId, count: 2, requestId: 'console-req-1' });
    const b = await w.maker.post<Batch>('/api/v1/organization/static-tokens/create', { templateId, count: 2, requestId: 'console-req-1' });
    expect([a.status, b.status]).toEqual([201, 200]);
    expect(b.body).toEqual(a.body);
    expect((await w.maker.post('/api/v1/organization/static-tokens/create', { templateId, count: 1001 })).status).toBe(400);
    expect((await w.stranger.api.post('/api/v1/organization/static-tokens/create', { templateId, count: 1 })).status).toBe(404);
  });

  it('creates one token per CSV row whose headers equal the field names; the row becomes the device’s metadata', async () => {
    const made = await importCsv('Serial Number,Batch No\r\nSN-1,7\r\n"SN-2, rev ""B""",8\r\n');
    expect(made.status).toBe(201);
    expect(made.body.tokens.map((t) => t.metadata)).toEqual([
      { 'Serial Number': 'SN-1', 'Batch No': '7' },
      { 'Serial Number': 'SN-2, rev "B"', 'Batch No': '8' },
    ]);
    const { deviceId } = (await boardFor(cloud, made.body.tokens[1]!.deviceToken).connect()).body;
    const meta = await w.maker.get(`/api/v1/organization/device/metafield?deviceId=${deviceId}`);
    expect(meta.body).toEqual({ 'Serial Number': 'SN-2, rev "B"', 'Batch No': '8' });
  });

  it('refuses headers that differ in case or spelling (422) and creates nothing; the remap step fixes them', async () => {
    const before = await countTokens();
    const csv = 'serial number,Batch No,Notes\nSN-9,3,fragile\n';
    const refused = await importCsv(csv);
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('INVALID_CSV');
    expect(refused.body.error.message).toContain('"Serial Number"');
    expect(refused.body.error.message).toContain('"serial number"');
    expect(await countTokens()).toBe(before);

    const preview = await w.maker.post<{ acceptable: boolean; mapping: Record<string, string | null>; missing: string[]; unexpected: string[] }>(
      '/api/v1/organization/static-tokens/import/preview',
      { templateId, csv },
    );
    expect(preview.body).toMatchObject({
      acceptable: false,
      mapping: { 'serial number': null, 'Batch No': 'Batch No', Notes: null },
      missing: ['Serial Number'],
      unexpected: ['serial number', 'Notes'],
    });
    const remap = { 'serial number': 'Serial Number', Notes: null };
    const fixed = await w.maker.post<{ acceptable: boolean }>('/api/v1/organization/static-tokens/import/preview', { templateId, csv, remap });
    expect(fixed.body.acceptable).toBe(true);
    expect(await countTokens()).toBe(before);
    const made = await importCsv(csv, { remap });
    expect(made.status).toBe(201);
    expect(made.body.tokens[0]!.metadata).toEqual({ 'Serial Number': 'SN-9', 'Batch No': '3' });

    const badRemap = await importCsv(csv, { remap: { Nope: 'Serial Number', Notes: 'Colour' } });
    expect(badRemap.status).toBe(422);
    expect(badRemap.body.error.message).toMatch(/Nope/);
  });

  it('reports every bad row with its number and creates nothing', async () => {
    const before = await countTokens();
    const csv = ['Serial Number,Batch No', 'SN-1,1', 'SN-2,two', 'SN-3', 'SN-4,4', 'SN-5,5.5.5'].join('\n');
    const res = await importCsv(csv);
    expect(res.status).toBe(422);
    expect(res.body.error.rowErrors).toEqual([
      { row: 2, column: 'Batch No', message: 'is not a number' },
      { row: 3, message: 'has 1 values; the header has 2 columns' },
      { row: 5, column: 'Batch No', message: 'is not a number' },
    ]);
    expect(await countTokens()).toBe(before);
    expect((await importCsv('Serial Number,Batch No\n')).status).toBe(422);
    expect((await importCsv('Serial Number,Batch No\n"SN-1,1\n')).body.error.message).toMatch(/cannot be read/);
    const tooMany = ['Serial Number,Batch No', ...Array.from({ length: 1001 }, (_, i) => `SN-${i},${i}`)].join('\n');
    expect((await importCsv(tooMany)).status).toBe(422);
  });

  it('exports a batch as a zip: one CSV and a QR PNG per token named after its AuthToken', async () => {
    const made = await importCsv('Serial Number,Batch No\nSN-77,1\n"=HYPERLINK(""http://x"")",2\n@SUM(A1),3\n');
    expect(made.status).toBe(201);
    const res = await fetch(`${cloud.url}/api/v1/organization/static-tokens/export?batchId=${made.body.batchId}`, {
      headers: { authorization: `Bearer ${await cloud.accessToken()}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toContain(made.body.batchId);
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    const names = Object.keys(files).sort();
    expect(names).toEqual(['static-tokens.csv', ...made.body.tokens.map((t) => `qr/${t.deviceToken}.png`)].sort());

    const csv = parseCsv(Buffer.from(files['static-tokens.csv']!).toString('utf8'), 100);
    if (!csv.ok) throw new Error(csv.message);
    const [header, ...rows] = csv.rows;
    expect(header).toEqual(['AuthToken', 'QR Token', 'QR Payload', 'Template ID', 'Organization ID', 'Status', 'Created At', 'Serial Number', 'Batch No']);
    expect(rows.map((r) => r[0])).toEqual(made.body.tokens.map((t) => t.deviceToken));
    expect(rows.map((r) => r[2])).toEqual(made.body.tokens.map((t) => `${t.token}+${w.makerOrgId}`));
    // Formula injection: cells a spreadsheet would run are defused with a leading apostrophe.
    expect(rows.map((r) => r[7])).toEqual(['SN-77', `'=HYPERLINK("http://x")`, `'@SUM(A1)`]);

    const first = made.body.tokens[0]!;
    const png = files[`qr/${first.deviceToken}.png`]!;
    expect(Buffer.from(png.subarray(0, 8)).toString('hex')).toBe('89504e470d0a1a0a');
    expect(decodeQr(png)).toBe(`${first.token}+${w.makerOrgId}`);
  });

  it('exports only to the creating organisation', async () => {
    const made = await w.maker.post<Batch>('/api/v1/organization/static-tokens/create', { templateId, count: 1 });
    for (const api of [w.orgA.api, w.stranger.api]) {
      const res = await api.get<ErrorBody>(`/api/v1/organization/static-tokens/export?batchId=${made.body.batchId}`);
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain(made.body.tokens[0]!.deviceToken);
    }
    expect((await call(`${cloud.url}/api/v1/organization/static-tokens/export?batchId=${made.body.batchId}`)).status).toBe(401);
    expect((await w.maker.get('/api/v1/organization/static-tokens/export?batchId=../../etc')).status).toBe(400);
  });
});
