import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStation, type EmbeddedStation } from '../../app/embedded-station.js';
import { readZip } from '../../core/batches/zip.js';

const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

/** The supervisor's CSV pull, batch download, cloud disclaim/delete and held records, as station commands against the in-process cloud. */
describe('supervisor batch and cloud tools on the embedded station', () => {
  let station: EmbeddedStation;
  let dir: string;
  let session: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-supervisor-tools-'));
    station = await startEmbeddedStation({ dataDir: dir, slots: 1, virtualBoards: 0, boardTransport: 'in-process', batchSize: 5, supervisorPin: '246810' });
    session = (await station.call('supervisorLogin', { pin: '246810' })).session;
  });

  afterAll(async () => {
    await station.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every new command needs a supervisor session', async () => {
    const other = 'y'.repeat(32);
    await expect(station.call('listHeldRecords', { session: other })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(station.call('exportBatchZip', { session: other, batchId: 'x' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(station.call('pullBatchCsv', { session: other, fileName: 'a.csv', csvBase64: b64('a\r\n1\r\n'), remap: {} })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('CSV pull: a broken file and a file with a bad row change nothing; the fixed file lands atomically with its metadata', async () => {
    const before = station.queue.stock().available;
    const batchesBefore = (station.db.prepare('SELECT COUNT(*) AS n FROM batches').get() as { n: number }).n;

    await expect(station.call('previewCsvPull', { session, fileName: 'latin1.csv', csvBase64: b64(Buffer.from([0x53, 0x4e, 0x0d, 0x0a, 0xe9, 0x0d, 0x0a])), remap: {} })).rejects.toThrow(
      /not valid UTF-8.*Nothing was pulled/,
    );
    await expect(station.call('previewCsvPull', { session, fileName: 'x.csv', csvBase64: 'not base64!', remap: {} })).rejects.toMatchObject({ code: 'INVALID_INPUT' });

    const bad = 'serial,batch\r\nSN-1,B1\r\n=HYPERLINK(1),B1\r\n';
    const remap = { serial: 'Serial Number', batch: 'Manufacturing Batch' };
    const preview = await station.call('previewCsvPull', { session, fileName: 'bad.csv', csvBase64: b64(bad), remap });
    expect(preview).toMatchObject({ acceptable: false, rowCount: 2, rowErrorCount: 1, fields: ['Serial Number', 'Manufacturing Batch'] });
    expect(preview.rowErrors).toEqual([{ row: 3, column: 'serial', message: expect.stringMatching(/formula/) }]);
    await expect(station.call('pullBatchCsv', { session, fileName: 'bad.csv', csvBase64: b64(bad), remap })).rejects.toThrow(/1 problem .*row 3, column "serial".*Nothing was pulled/);
    expect(station.queue.stock().available).toBe(before);
    expect((station.db.prepare('SELECT COUNT(*) AS n FROM batches').get() as { n: number }).n).toBe(batchesBefore);

    const good = 'serial,batch,ignored\r\nSN-1,B1,a\r\nSN-2,B1,b\r\n"SN-3, rev B",B1,c\r\n';
    const ok = await station.call('previewCsvPull', { session, fileName: 'good.csv', csvBase64: b64(good), remap: { ...remap, ignored: null } });
    expect(ok).toMatchObject({ acceptable: true, rowCount: 3, rowErrors: [], problems: [], sample: [['SN-1', 'B1', 'a'], ['SN-2', 'B1', 'b'], ['SN-3, rev B', 'B1', 'c']] });
    const pulled = await station.call('pullBatchCsv', { session, fileName: 'good.csv', csvBase64: b64(good), remap: { ...remap, ignored: null } });
    expect(pulled.imported).toBe(3);
    expect(station.queue.stock().available).toBe(before + 3);
    const metadata = (station.db.prepare('SELECT metadata FROM tokens WHERE batch_id = ? ORDER BY id').all(pulled.batchId) as { metadata: string }[]).map((r) => JSON.parse(r.metadata) as Record<string, string>);
    expect(metadata.map((m) => m['Serial Number'])).toEqual(['SN-1', 'SN-2', 'SN-3, rev B']);
    const cloudRows = await station.cloud.store.db.all<{ metadata: string }>('SELECT metadata FROM static_tokens WHERE batch_id = ? ORDER BY id', [pulled.batchId]);
    expect(cloudRows.map((r) => (JSON.parse(r.metadata) as Record<string, string>)['Serial Number'])).toEqual(['SN-1', 'SN-2', 'SN-3, rev B']);
  });

  it('batch download: the label zip without AuthTokens, bounded, audited', async () => {
    const batch = station.db.prepare('SELECT id, token_count AS n FROM batches ORDER BY pulled_at LIMIT 1').get() as { id: string; n: number };
    const r = await station.call('exportBatchZip', { session, batchId: batch.id });
    expect(r.tokens).toBe(batch.n);
    const zip = Buffer.from(r.zipBase64, 'base64');
    expect(zip.length).toBe(r.bytes);
    expect(r.fileName).toMatch(/^labels-[A-Za-z0-9_-]+\.zip$/);
    const entries = readZip(zip);
    expect(entries[0]!.data.toString().split('\r\n')[0]).toBe('QR Token,QR Payload,Template ID,Organization ID,Station State');
    const ids = (station.db.prepare('SELECT id, qr_token AS qr FROM tokens WHERE batch_id = ?').all(batch.id) as { id: number; qr: string }[]);
    for (const t of ids) {
      expect(zip.includes(Buffer.from(station.queue.authTokenOf(t.id)))).toBe(false);
      expect(entries.some((e) => e.name === `qr/${t.qr}.png`)).toBe(true);
    }
    expect(station.db.prepare("SELECT detail FROM audit_log WHERE event = 'batch-exported'").get()).toEqual({ detail: expect.stringMatching(/no AuthTokens/) });
    await expect(station.call('exportBatchZip', { session, batchId: 'no-such-batch' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('disclaim and delete act in the cloud, with the typed confirmation, and are audited here', async () => {
    const [a, b] = station.db.prepare("SELECT id, qr_token AS qr FROM tokens WHERE state = 'available' ORDER BY id LIMIT 2").all() as { id: number; qr: string }[];
    await station.cloud.store.db.run("UPDATE static_tokens SET status = 'CLAIMED' WHERE qr_token = ?", [a!.qr]);
    await expect(station.call('disclaimToken', { session, qrToken: a!.qr, confirm: b!.qr })).rejects.toThrow(/confirmation does not match/);
    expect(await station.call('disclaimToken', { session, qrToken: `${a!.qr}+${station.product.orgId}`, confirm: a!.qr })).toEqual({ qrToken: a!.qr, status: 'UNCLAIMED' });
    expect((await station.cloud.store.db.get<{ status: string }>('SELECT status FROM static_tokens WHERE qr_token = ?', [a!.qr]))!.status).toBe('UNCLAIMED');

    expect(await station.call('deleteCloudToken', { session, qrToken: b!.qr, confirm: b!.qr })).toEqual({ qrToken: b!.qr, voidedHere: true });
    expect((await station.cloud.store.db.get<{ deleted_at: number | null }>('SELECT deleted_at FROM static_tokens WHERE qr_token = ?', [b!.qr]))!.deleted_at).not.toBeNull();
    expect(station.queue.get(b!.id).state).toBe('voided');
    // A second delete: the cloud has no such token any more; a clear error and nothing changes.
    await expect(station.call('deleteCloudToken', { session, qrToken: b!.qr, confirm: b!.qr })).rejects.toThrow(/was not deleted: the cloud has no such token/);
    const events = (station.db.prepare("SELECT event FROM audit_log WHERE event LIKE 'cloud-token-%' ORDER BY id").all() as { event: string }[]).map((e) => e.event);
    expect(events).toEqual(['cloud-token-disclaimed', 'cloud-token-deleted']);
  });

  it('held records: listed with the reason, released, sent with the next sync', async () => {
    await station.call('syncNow', {});
    const token = station.db.prepare("SELECT id FROM tokens WHERE state = 'available' ORDER BY id LIMIT 1").get() as { id: number };
    station.queue.void(token.id, 'label torn');
    const row = station.queue.pendingOutbox()[0]!;
    station.queue.holdOutbox(row.id, 'The cloud refused the request while sending voided and burned tokens (HTTP 422); call a supervisor.');
    const held = await station.call('listHeldRecords', { session });
    expect(held.records).toEqual([expect.objectContaining({ id: row.id, kind: 'token-void', reason: expect.stringMatching(/HTTP 422/) })]);
    expect((await station.call('getSyncStatus', {})).held).toBe(1);
    const released = await station.call('releaseHeldRecord', { session, id: row.id });
    expect(released.released).toBe(row.id);
    expect(released.sync).toMatchObject({ held: 0, waiting: 0, lastError: null });
    expect((await station.call('listHeldRecords', { session })).records).toEqual([]);
    await expect(station.call('releaseHeldRecord', { session, id: row.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
