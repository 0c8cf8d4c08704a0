import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { exportBatchZip, importBatchZip, readBatchForExport } from '../../../core/batches/batch-store.js';
import { buildBatchZip, parseBatchZip } from '../../../core/batches/batch-zip.js';
import { openStationDatabase, type StationDatabase } from '../../../core/db/open-database.js';
import { TokenQueue } from '../../../core/queue/token-queue.js';
import { writeCsv } from '../../../core/batches/csv.js';
import { writeZip } from '../../../core/batches/zip.js';
import { batchTokens } from './batch-fixtures.js';

function code(fn: () => unknown): string {
  try {
    fn();
    return 'returned';
  } catch (err) {
    return err instanceof StationError ? `${err.code}: ${err.message}` : String(err);
  }
}

describe('batch export and import against the station database', () => {
  let dir: string;
  let source: StationDatabase;
  let target: StationDatabase;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'batch-store-'));
    source = openStationDatabase(join(dir, 'source.db'));
    target = openStationDatabase(join(dir, 'target.db'));
  });
  afterEach(() => {
    source.close();
    target.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports every token of a batch with its state, and refuses an unknown batch', async () => {
    const queue = new TokenQueue(source);
    const tokens = batchTokens(6, 'store');
    queue.importBatch({ batchId: 'B1', cloudBatchId: 'c1', templateId: 'TMPL7', orgId: 4821, tokens });
    queue.importBatch({ batchId: 'B2', cloudBatchId: 'c2', templateId: 'TMPL7', orgId: 4821, tokens: batchTokens(2, 'other') });
    const reserved = queue.reserve('slot-1', '/dev/ttyUSB0');
    queue.burn(reserved.id, 'FLASH_WRITE_FAILED');
    expect(readBatchForExport(source, 'B1')).toEqual({
      batchId: 'B1',
      templateId: 'TMPL7',
      orgId: 4821,
      tokens: tokens.map((t, i) => ({ ...t, stationState: i === 0 ? 'failed' : 'available' })),
    });
    const { zip, tokens: n } = await exportBatchZip(source, 'B1');
    expect(n).toBe(6);
    // The file is the export, so it does hold the states: importing it elsewhere refuses the burned token.
    expect(code(() => importBatchZip(target, zip))).toMatch(/INVALID_INPUT: .*row 2: this token was already used at a station \(state failed\)/);
    expect(code(() => readBatchForExport(source, 'NOPE'))).toBe('NOT_FOUND: There is no batch "NOPE" in this station\'s queue (batches: B1, B2).');
  });

  it('imports an exported batch into another station as available tokens, once', async () => {
    const tokens = batchTokens(10, 'move');
    new TokenQueue(source).importBatch({ batchId: 'B1', cloudBatchId: 'c1', templateId: 'TMPL7', orgId: 4821, tokens });
    const { zip } = await exportBatchZip(source, 'B1');
    const first = importBatchZip(target, zip, { source: 'b1.zip' });
    expect(first).toMatchObject({ imported: 10, alreadyImported: false, orgId: 4821, templateId: 'TMPL7' });
    expect(first.batchId).toMatch(/^file-[0-9a-f]{12}$/);
    const queue = new TokenQueue(target);
    expect(queue.stock().available).toBe(10);
    const reserved = queue.reserve('slot-1', 'p');
    expect({ authToken: reserved.authToken, qrToken: reserved.qrToken, orgId: reserved.orgId, templateId: reserved.templateId }).toEqual({
      ...tokens[0],
      orgId: 4821,
      templateId: 'TMPL7',
    });
    expect(target.prepare('SELECT cloud_batch_id AS c FROM batches WHERE id = ?').get(first.batchId)).toEqual({ c: 'file:b1.zip' });
    // Same tokens again, even zipped differently: nothing added.
    const rezipped = await buildBatchZip({ orgId: 4821, templateId: 'TMPL7', tokens: [...tokens].reverse() }, { modified: new Date('2027-01-01') });
    expect(importBatchZip(target, rezipped)).toMatchObject({ batchId: first.batchId, imported: 0, alreadyImported: true });
    expect(queue.stock().available).toBe(9);
  });

  it('refuses, all or nothing, a file that shares one token with the queue', async () => {
    const tokens = batchTokens(5, 'clash');
    new TokenQueue(target).importBatch({ batchId: 'B1', cloudBatchId: 'c1', templateId: 'TMPL7', orgId: 4821, tokens: tokens.slice(0, 1) });
    const zip = await buildBatchZip({ orgId: 4821, templateId: 'TMPL7', tokens: [...batchTokens(3, 'fresh'), tokens[0]!] });
    const result = code(() => importBatchZip(target, zip));
    expect(result).toMatch(/INVALID_INPUT: Row 5 of the CSV holds a token that is already in this station's queue \(batch B1\); nothing was imported\./);
    expect(result).not.toContain(tokens[0]!.authToken.slice(0, 8));
    expect(new TokenQueue(target).stock().available).toBe(1);
  });

  it('takes the organisation and template from the options when the file has none, and refuses a conflict', async () => {
    const tokens = batchTokens(3, 'opts');
    const zip = await buildBatchZip({ orgId: 4821, templateId: 'TMPL7', tokens });
    expect(code(() => importBatchZip(target, zip, { orgId: 99 }))).toMatch(/Organization ID \(4821\) differs from the organisation id given \(99\)/);
    expect(code(() => importBatchZip(target, zip, { templateId: 'OTHER' }))).toMatch(/Template ID \(TMPL7\) differs/);
    expect(parseBatchZip(zip).orgId).toBe(4821);
    expect(importBatchZip(target, zip, { orgId: 4821, templateId: 'TMPL7' }).imported).toBe(3);

    // A bare file (no Organization ID, QR Payload or Template ID columns) needs both from the options.
    const others = batchTokens(2, 'bare');
    const bare = writeZip([
      { name: 'tokens.csv', data: Buffer.from(writeCsv([['QR Token', 'AuthToken'], ...others.map((t) => [t.qrToken, t.authToken])])) },
      ...others.map((t) => ({ name: `png/${t.authToken}.png`, data: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) })),
    ]);
    expect(code(() => importBatchZip(target, bare, { templateId: 'TMPL7' }))).toMatch(/no Organization ID column; give the organisation id with --org-id/);
    expect(code(() => importBatchZip(target, bare, { orgId: 7 }))).toMatch(/no Template ID column; give the template id with --template-id/);
    expect(importBatchZip(target, bare, { orgId: 7, templateId: 'T2' })).toMatchObject({ imported: 2, orgId: 7, templateId: 'T2' });
  });
});
