import { describe, expect, it } from 'vitest';
import { exportBatchZip } from '../../../core/batches/batch-store.js';
import { parseBatchZip } from '../../../core/batches/batch-zip.js';
import { readZip } from '../../../core/batches/zip.js';
import { openStationDatabase } from '../../../core/db/open-database.js';
import { TokenQueue } from '../../../core/queue/token-queue.js';
import { batchTokens } from './batch-fixtures.js';

describe("a supervisor's batch download: Blynk's export shape without the AuthTokens", () => {
  it('holds the CSV without an AuthToken column and PNGs named after the QR token; no AuthToken anywhere; cannot be imported', async () => {
    const db = openStationDatabase(':memory:');
    const queue = new TokenQueue(db);
    const tokens = batchTokens(3, 'label-export');
    queue.importBatch({ batchId: 'b-77', cloudBatchId: 'b-77', templateId: '9', orgId: 42, tokens });
    queue.void(queue.findByQrToken(tokens[2]!.qrToken)!.id, 'label torn');

    const { zip, tokens: count } = await exportBatchZip(db, 'b-77', { authTokens: false });
    expect(count).toBe(3);
    const entries = readZip(zip);
    expect(entries.map((e) => e.name)).toEqual(['static-tokens.csv', ...tokens.map((t) => `qr/${t.qrToken}.png`)]);
    const csv = entries[0]!.data.toString('utf8').split('\r\n');
    expect(csv[0]).toBe('QR Token,QR Payload,Template ID,Organization ID,Station State');
    expect(csv[1]).toBe(`${tokens[0]!.qrToken},${tokens[0]!.qrToken}+42,9,42,available`);
    expect(csv[3]).toMatch(/,voided$/);
    for (const t of tokens) expect(zip.includes(Buffer.from(t.authToken))).toBe(false);
    // Same PNGs as the full export (its QR content is decoded with zbarimg in batch-zip.test.ts).
    expect(entries[1]!.data.subarray(1, 4).toString()).toBe('PNG');
    expect(() => parseBatchZip(zip)).toThrow(/no "AuthToken" column/);

    // The CLI's export (default) still has them: that file stays on the station's disk.
    const full = await exportBatchZip(db, 'b-77');
    expect(readZip(full.zip)[1]!.name).toBe(`qr/${tokens[0]!.authToken}.png`);
  });
});
