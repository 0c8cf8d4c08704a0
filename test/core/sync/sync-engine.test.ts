import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import type { DeviceRecord, PushResult, TokenVoid } from '../../../core/cloud/cloud-client.js';
import { openStationDatabase, type StationDatabase } from '../../../core/db/open-database.js';
import { TokenQueue } from '../../../core/queue/token-queue.js';
import { SYNC_BACKOFF_BASE_MS, SYNC_BACKOFF_MAX_MS, backoffDelayMs } from '../../../core/sync/backoff.js';
import { SyncEngine, type SyncCloud } from '../../../core/sync/sync-engine.js';
import { FakeSyncClock, settle } from './fake-sync-clock.js';

const unreachable = () =>
  new StationError({ code: 'CLOUD_UNREACHABLE', message: 'The station cannot reach the cloud.', operatorFault: true, details: { operation: 'x' } });
const refused = () => new StationError({ code: 'CLOUD_REJECTED', message: 'The cloud refused.', operatorFault: false });

/** A cloud that remembers what it acknowledged (idempotent by key) and can be told to fail. */
class FakeCloud implements SyncCloud {
  records = new Map<string, DeviceRecord>();
  voids = new Map<string, TokenVoid>();
  pushes = 0;
  failNext: (() => Error)[] = [];
  /** Acknowledge on the server, then lose the reply (the worst case for at-least-once). */
  loseReplies = 0;
  refuse = new Set<string>();

  async pushDeviceRecords(records: readonly DeviceRecord[]): Promise<PushResult> {
    this.pushes++;
    const failure = this.failNext.shift();
    if (failure) throw failure();
    if (records.some((r) => this.refuse.has(r.recordId))) throw refused();
    let accepted = 0;
    for (const r of records) {
      if (!this.records.has(r.recordId)) accepted++;
      this.records.set(r.recordId, r);
    }
    if (this.loseReplies > 0) {
      this.loseReplies--;
      throw unreachable();
    }
    return { accepted, duplicates: records.length - accepted };
  }

  async pushTokenVoids(voids: readonly TokenVoid[]): Promise<PushResult> {
    this.pushes++;
    const failure = this.failNext.shift();
    if (failure) throw failure();
    for (const v of voids) this.voids.set(v.qrToken, v);
    return { accepted: voids.length, duplicates: 0 };
  }
}

function tokens(n: number) {
  return Array.from({ length: n }, (_, i) => ({ authToken: `auth${String(i).padStart(28, '0')}`, qrToken: `sqr_${String(i).padStart(32, '0')}` }));
}

describe('SyncEngine', () => {
  let db: StationDatabase;
  let queue: TokenQueue;
  let cloud: FakeCloud;
  let clock: FakeSyncClock;
  let engine: SyncEngine;

  /** Takes a token through to `labelled`, which writes its device record into the outbox. */
  function label(slot = 'slot-1'): number {
    const t = queue.reserve(slot, '/dev/x');
    queue.advance(t.id, 'written', { boardMac: 'aa:bb:cc:dd:ee:ff' });
    queue.advance(t.id, 'verified');
    const record: DeviceRecord = {
      recordId: `ST1:${t.id}`,
      qrToken: t.qrToken,
      mac: 'aa:bb:cc:dd:ee:ff',
      chip: 'ESP32',
      stationId: 'ST1',
      result: 'passed',
      payloadSha256: 'a'.repeat(64),
      firmwareVersion: '1.0.0',
      labelRef: { sheetId: 'S1', position: t.id },
      completedAt: clock.now(),
    };
    queue.advance(t.id, 'labelled', {}, { recordId: record.recordId, kind: 'device-record', payload: record });
    return t.id;
  }

  beforeEach(() => {
    db = openStationDatabase(':memory:');
    queue = new TokenQueue(db);
    queue.importBatch({ batchId: 'b1', cloudBatchId: 'c1', templateId: '1', orgId: 7, tokens: tokens(300) });
    cloud = new FakeCloud();
    clock = new FakeSyncClock();
    engine = new SyncEngine({ queue, cloud, stationId: 'ST1', clock, random: () => 0.5, batchSize: 10, intervalMs: 30_000 });
  });

  afterEach(async () => {
    await engine.stop();
    db.close();
  });

  it('backoff grows exponentially, is capped, and jitter stays inside [half, full]', () => {
    expect(backoffDelayMs(1, () => 0)).toBe(SYNC_BACKOFF_BASE_MS / 2);
    expect(backoffDelayMs(1, () => 0.999999)).toBe(SYNC_BACKOFF_BASE_MS);
    expect(backoffDelayMs(3, () => 0.999999)).toBe(SYNC_BACKOFF_BASE_MS * 4);
    expect(backoffDelayMs(50, () => 0.999999)).toBe(SYNC_BACKOFF_MAX_MS);
    expect(backoffDelayMs(50, () => 0)).toBe(SYNC_BACKOFF_MAX_MS / 2);
  });

  it('pushes the outbox in batches and marks rows sent only after the acknowledgement', async () => {
    for (let i = 0; i < 25; i++) label();
    expect(engine.status().waiting).toBe(25);
    const status = await engine.syncNow();
    expect(status).toMatchObject({ waiting: 0, lastError: null, consecutiveFailures: 0 });
    expect(cloud.records.size).toBe(25);
    expect(cloud.pushes).toBe(3); // 10 + 10 + 5
    expect(status.lastSuccessAt).toBe(new Date(clock.now()).toISOString());
  });

  it('a failure is data: status carries the error, retries back off exponentially, then recover', async () => {
    label();
    cloud.failNext = [unreachable, unreachable, unreachable];
    engine.start();
    await clock.advance(0); // the first run is due at once
    let status = engine.status();
    expect(status).toMatchObject({ state: 'backing-off', waiting: 1, consecutiveFailures: 1 });
    expect(status.lastError?.code).toBe('CLOUD_UNREACHABLE');
    // random() = 0.5: delay = 0.75 × capped delay
    expect(clock.pending()).toEqual([0.75 * SYNC_BACKOFF_BASE_MS]);
    await clock.advance(0.75 * SYNC_BACKOFF_BASE_MS);
    expect(engine.status().consecutiveFailures).toBe(2);
    expect(clock.pending()).toEqual([0.75 * SYNC_BACKOFF_BASE_MS * 2]);
    await clock.advance(0.75 * SYNC_BACKOFF_BASE_MS * 2);
    expect(clock.pending()).toEqual([0.75 * SYNC_BACKOFF_BASE_MS * 4]);
    await clock.advance(0.75 * SYNC_BACKOFF_BASE_MS * 4);
    status = engine.status();
    expect(status).toMatchObject({ state: 'idle', waiting: 0, lastError: null, consecutiveFailures: 0 });
    expect(cloud.records.size).toBe(1);
    // Healthy again: the next run is one interval away.
    expect(clock.pending()).toEqual([30_000]);
  });

  it('a reply lost after the cloud stored the batch: the rows go again and count once (duplicates are acknowledged)', async () => {
    for (let i = 0; i < 5; i++) label();
    cloud.loseReplies = 1;
    expect((await engine.syncNow()).waiting).toBe(5);
    expect(cloud.records.size).toBe(5);
    expect((await engine.syncNow()).waiting).toBe(0);
    expect(cloud.records.size).toBe(5);
    const attempts = db.prepare('SELECT attempts FROM outbox').all() as { attempts: number }[];
    expect(attempts.every((a) => a.attempts === 2)).toBe(true);
  });

  it('one record the cloud refuses is held for a supervisor; the others still go', async () => {
    const ids = [label(), label(), label()];
    cloud.refuse.add(`ST1:${ids[1]}`);
    const status = await engine.syncNow();
    expect(status).toMatchObject({ waiting: 0, held: 1 });
    expect([...cloud.records.keys()].sort()).toEqual([`ST1:${ids[0]}`, `ST1:${ids[2]}`]);
    const held = db.prepare('SELECT record_id AS id, last_error AS error FROM outbox WHERE held_at IS NOT NULL').get() as { id: string; error: string };
    expect(held).toEqual({ id: `ST1:${ids[1]}`, error: 'The cloud refused.' });
  });

  it('burned and voided tokens are reported with this station id, written in the same transaction as the state change', async () => {
    const burned = queue.reserve('slot-1', 'p');
    queue.burn(burned.id, 'FLASH_WRITE_FAILED');
    const voided = queue.findByQrToken(tokens(300)[5]!.qrToken)!;
    queue.void(voided.id, 'label damaged');
    expect(queue.get(voided.id).state).toBe('voided');
    expect(engine.status().waiting).toBe(2);
    await engine.syncNow();
    expect([...cloud.voids.values()].map((v) => [v.qrToken, v.reason, v.stationId])).toEqual([
      [burned.qrToken, 'burned', 'ST1'],
      [voided.qrToken, 'voided', 'ST1'],
    ]);
    expect(queue.auditFor(voided.id).at(-1)?.detail).toBe('voided by supervisor: label damaged');
    // A failed transition writes nothing: voiding a burned token is illegal and adds no outbox row.
    expect(() => queue.void(burned.id, 'again')).toThrow();
    expect((db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n).toBe(2);
  });

  it('the top-up runs after the push; its failure is reported and retried like a push failure', async () => {
    let topUps = 0;
    let fail = true;
    engine = new SyncEngine({
      queue,
      cloud,
      stationId: 'ST1',
      clock,
      random: () => 0,
      topUp: async () => {
        topUps++;
        if (fail) throw unreachable();
        return 7;
      },
      lowStock: () => true,
    });
    engine.start();
    await clock.advance(0);
    expect(engine.status()).toMatchObject({ state: 'backing-off', lowStock: true, consecutiveFailures: 1 });
    fail = false;
    await clock.advance(SYNC_BACKOFF_BASE_MS);
    expect(topUps).toBe(2);
    expect(engine.status()).toMatchObject({ state: 'idle', consecutiveFailures: 0 });
  });

  it('never overlaps runs; stop cancels the timer; events only on change', async () => {
    const seen: string[] = [];
    engine.onStatus((s) => seen.push(`${s.state}:${s.waiting}`));
    label();
    const [a, b] = await Promise.all([engine.syncNow(), engine.syncNow()]);
    expect(a.waiting).toBe(0);
    expect(b.waiting).toBe(0);
    expect(cloud.pushes).toBe(1);
    engine.start();
    await settle();
    await engine.stop();
    expect(clock.pending()).toEqual([]);
    expect(engine.status().state).toBe('stopped');
    expect(new Set(seen).size).toBeGreaterThan(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe('');
  });

  it('a non-StationError from the client becomes INTERNAL data, never a throw', async () => {
    label();
    cloud.failNext = [() => new TypeError('boom')];
    const status = await engine.syncNow();
    expect(status.lastError).toMatchObject({ code: 'INTERNAL' });
    expect(status.waiting).toBe(1);
  });
});
