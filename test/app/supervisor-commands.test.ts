import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StationEvent } from '../../common/api.js';
import { startEmbeddedStation, type EmbeddedStation } from '../../app/embedded-station.js';

describe('supervisor and sync commands on the embedded station', () => {
  let station: EmbeddedStation;
  let dir: string;
  const events: StationEvent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-supervisor-'));
    station = await startEmbeddedStation({ dataDir: dir, slots: 1, virtualBoards: 0, boardTransport: 'in-process', batchSize: 10 });
    station.subscribe((e) => events.push(e));
  });

  afterAll(async () => {
    await station.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes a PIN at first start, refuses supervisor commands without a session, and runs them with one', async () => {
    expect(station.initialSupervisorPin).toMatch(/^[0-9]{6}$/);
    expect(statSync(join(dir, 'station.key')).mode & 0o777).toBe(0o600);
    await expect(station.call('pullBatch', { session: 'x'.repeat(32), count: 3 })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(station.call('getReports', {} as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(station.call('supervisorLogin', { pin: '000000' === station.initialSupervisorPin ? '111111' : '000000' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const { session } = await station.call('supervisorLogin', { pin: station.initialSupervisorPin! });

    const before = station.queue.stock().available;
    const pulled = await station.call('pullBatch', { session, count: 3 });
    expect(pulled.imported).toBe(3);
    expect(station.queue.stock().available).toBe(before + 3);

    const qr = (station.db.prepare("SELECT qr_token AS qr FROM tokens WHERE state = 'available' LIMIT 1").get() as { qr: string }).qr;
    await expect(station.call('voidToken', { session, qrToken: qr, reason: 'x' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await station.call('voidToken', { session, qrToken: `${qr}+${station.product.orgId}`, reason: 'label torn' })).toEqual({ qrToken: qr, state: 'voided' });
    await expect(station.call('voidToken', { session, qrToken: qr, reason: 'again' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await station.call('getSyncStatus', {})).waiting).toBe(1);
    const synced = await station.call('syncNow', {});
    expect(synced).toMatchObject({ waiting: 0, lastError: null });
    expect(events.some((e) => e.type === 'sync' && e.sync.waiting === 1)).toBe(true);
    expect(station.service.snapshot().sync?.waiting).toBe(0);

    const reports = await station.call('getReports', { session, hours: 3 });
    expect(reports.devicesPerHour).toHaveLength(3);
    expect(reports.batches.reduce((n, b) => n + b.voided, 0)).toBe(1);
    const csv = await station.call('exportDeviceRecordsCsv', { session });
    expect(csv.csv.startsWith('Record ID,QR Token,MAC,')).toBe(true);

    await station.call('supervisorLogout', { session });
    await expect(station.call('getReports', { session })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
