import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SelfTestResult } from '../../../common/self-test-protocol.js';
import type { SlotView } from '../../../common/slot-state.js';
import { openStationDatabase, type StationDatabase } from '../../../core/db/open-database.js';
import { QaService } from '../../../core/qa/qa-service.js';
import { TestRunStore } from '../../../core/qa/test-run-store.js';
import { TokenQueue } from '../../../core/queue/token-queue.js';
import type { SelfTestOptions } from '../../../native/selftest/self-test-runner.js';
import type { AttachedBoard } from '../../../native/usb/board-watcher.js';

const AUTH = 'Secr3t-Token_abcdefghijklmnopqrs';
const QR = `sqr_${'1'.repeat(32)}`;

describe('QaService', () => {
  let dir: string;
  let db: StationDatabase;
  let queue: TokenQueue;
  let runs: TestRunStore;
  let nextResult: SelfTestResult;
  let seenToken: string | null;
  let slot: SlotView;

  const qa = (): QaService =>
    new QaService({
      db,
      queue,
      testRuns: runs,
      engine: {
        slotViews: () => [slot],
        withIdleBoard: async (_id, use) => use({ openPort: () => ({}) } as unknown as AttachedBoard, slot, 'aa:bb:cc:00:00:01'),
      },
      selfTest: async (options: SelfTestOptions) => {
        seenToken = options.expectedToken;
        return nextResult;
      },
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-qa-'));
    db = openStationDatabase(join(dir, 'station.db'));
    queue = new TokenQueue(db);
    runs = new TestRunStore(db);
    queue.importBatch({ batchId: 'b1', cloudBatchId: 'c1', templateId: 'T', orgId: 7, tokens: [{ authToken: AUTH, qrToken: QR }] });
    const t = queue.reserve('slot-1', '/dev/ttyUSB0');
    queue.advance(t.id, 'written', { boardMac: 'aa:bb:cc:00:00:01', payloadSha256: 'ab'.repeat(32) });
    queue.advance(t.id, 'verified');
    queue.advance(t.id, 'labelled', { labelSheetId: 'S1', labelPosition: 0 }, { recordId: `ST1:${t.id}`, kind: 'device-record', payload: { qrToken: QR } });
    slot = { id: 'slot-1', index: 1, state: { kind: 'done', board: { port: '/dev/ttyUSB0' }, token: { id: t.id, qrToken: QR }, label: { sheetId: 'S1', position: 0 } } } as unknown as SlotView;
    seenToken = null;
    nextResult = { ok: true, checks: [], results: [{ check: 'token', ok: true, durationMs: 3 }], log: ['{"check":"token","ok":true}'], durationMs: 40 };
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('looks a board up by its label payload, its QR token or its slot', () => {
    for (const code of [`${QR}+7`, QR, 'slot-1']) {
      const history = qa().lookup(code);
      expect(history.token).toMatchObject({ qrToken: QR, state: 'labelled', boardMac: 'aa:bb:cc:00:00:01' });
      expect(history.slotId).toBe('slot-1');
      expect(history.sync).toEqual([expect.objectContaining({ kind: 'device-record', sentAt: null })]);
      expect(history.audit.map((a) => a.toState)).toContain('labelled');
      expect(JSON.stringify(history)).not.toContain(AUTH);
    }
    expect(() => qa().lookup(`sqr_${'9'.repeat(32)}+7`)).toThrow(/No board of this station/);
  });

  it('ships only after a passing test run, and only labelled boards', () => {
    expect(qa().lookup(QR)).toMatchObject({ canShip: false, shipBlocker: 'This board has no test run — re-test it first.' });
    expect(() => qa().ship(QR)).toThrow(/no test run/);
  });

  it('re-test proves the same token, records the run, and a pass allows shipping', async () => {
    const result = await qa().retest('slot-1');
    expect(seenToken).toBe(AUTH);
    expect(result.ok).toBe(true);
    expect(result.history.testRuns.map((r) => r.kind)).toEqual(['retest']);
    expect(result.history.canShip).toBe(true);
    expect(qa().ship(`${QR}+7`).token?.state).toBe('shipped');
    expect(() => qa().ship(QR)).toThrow(/already shipped/);
  });

  it('a failed re-test blocks shipping with its reason, even after an earlier pass', async () => {
    await qa().retest('slot-1');
    nextResult = { ok: false, checks: [], results: [], log: [], reason: 'Self-test check "heap" reported 10, below the minimum 60000.', durationMs: 5 };
    const failed = await qa().retest('slot-1');
    expect(failed.ok).toBe(false);
    expect(failed.history.shipBlocker).toMatch(/latest test failed \(Self-test check "heap"/);
    expect(() => qa().ship(QR)).toThrow(/cannot ship/);
  });

  it('stores runs redacted (a leak the runner missed stops here) and append-only', async () => {
    nextResult = { ok: false, checks: [], results: [{ check: 'cloud', ok: false, reason: `refused ${AUTH}`, durationMs: 1 }], log: [`auth=${AUTH}`], reason: `login ${AUTH}`, durationMs: 5 };
    await qa().retest('slot-1');
    const raw = JSON.stringify(db.prepare('SELECT * FROM test_runs').all());
    expect(raw).not.toContain(AUTH);
    expect(raw).toContain('‹redacted›');
    expect(() => db.prepare('UPDATE test_runs SET ok = 1').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM test_runs').run()).toThrow(/append-only/);
  });

  it('refuses to re-test a board that is not the one the token was written to', async () => {
    const service = new QaService({
      db,
      queue,
      testRuns: runs,
      engine: { slotViews: () => [slot], withIdleBoard: async (_id, use) => use({ openPort: () => ({}) } as unknown as AttachedBoard, slot, 'aa:bb:cc:99:99:99') },
      selfTest: async () => nextResult,
    });
    const result = await service.retest('slot-1');
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/not the board/);
  });
});
