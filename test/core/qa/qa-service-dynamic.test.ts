import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { selfTestPlanSchema, type SelfTestPlan } from '../../../common/self-test-plan.js';
import type { SelfTestResult } from '../../../common/self-test-protocol.js';
import type { SlotView } from '../../../common/slot-state.js';
import { openStationDatabase, type StationDatabase } from '../../../core/db/open-database.js';
import type { DynamicQaOptions } from '../../../core/qa/dynamic-qa.js';
import { QaService } from '../../../core/qa/qa-service.js';
import { TestRunStore } from '../../../core/qa/test-run-store.js';
import { TokenQueue } from '../../../core/queue/token-queue.js';
import type { AttachedBoard } from '../../../native/usb/board-watcher.js';

const AUTH = 'Secr3t-Token_abcdefghijklmnopqrs';
const QR = `sqr_${'2'.repeat(32)}`;

/** QaService's dynamic run and the plan flags it honours (the run itself: dynamic-qa*.test.ts). */
describe('QaService: dynamic QA and console-less products', () => {
  let db: StationDatabase;
  let queue: TokenQueue;
  let runs: TestRunStore;
  let events: string[];
  let slot: SlotView;

  const qa = (plan: SelfTestPlan, result: SelfTestResult = { ok: true, checks: [], results: [{ check: 'unconfigured', ok: true, durationMs: 1 }], log: [], durationMs: 9 }): QaService =>
    new QaService({
      db,
      queue,
      testRuns: runs,
      engine: {
        slotViews: () => [slot],
        withIdleBoard: async (_id, use) => use({ openPort: () => ({}) } as unknown as AttachedBoard, slot, 'aa:bb:cc:00:00:02'),
      },
      selfTest: async () => {
        events.push('selftest');
        return result;
      },
      plan,
      resetToApp: async () => {
        events.push('reset-to-app');
      },
      dynamicQa: async (options: DynamicQaOptions) => {
        events.push(`dynamic ${options.wifi.ssid}`);
        return result;
      },
    });

  beforeEach(() => {
    db = openStationDatabase(':memory:');
    queue = new TokenQueue(db);
    runs = new TestRunStore(db);
    events = [];
    queue.importBatch({ batchId: 'b1', cloudBatchId: 'c1', templateId: 'T', orgId: 7, tokens: [{ authToken: AUTH, qrToken: QR }] });
    const t = queue.reserve('slot-1', '/dev/ttyUSB0');
    slot = { id: 'slot-1', index: 1, state: { kind: 'detected', board: { port: '/dev/ttyUSB0' }, resume: { token: { id: t.id, qrToken: QR }, tokenState: 'reserved' } } } as unknown as SlotView;
  });
  afterEach(() => db.close());

  it('resets the board into its app before the console is used, runs, and stores a `dynamic` run without a token', async () => {
    const plan = selfTestPlanSchema.parse({ selfTest: false, dynamic: { wifi: { ssid: 'QA-Net', pass: 'x' } } });
    const result = await qa(plan).dynamic('slot-1');
    expect(events).toEqual(['reset-to-app', 'dynamic QA-Net']);
    expect(result).toMatchObject({ ok: true, reason: null, slotId: 'slot-1', run: { kind: 'dynamic', boardMac: 'aa:bb:cc:00:00:02' } });
    expect(db.prepare('SELECT kind, token_id AS tokenId, ok FROM test_runs').all()).toEqual([{ kind: 'dynamic', tokenId: null, ok: 1 }]);
  });

  it('refuses dynamic QA for a product whose plan names no QA network', async () => {
    await expect(qa(selfTestPlanSchema.parse({})).dynamic('slot-1')).rejects.toThrow(/no dynamic QA: its test plan names no QA Wi-Fi network/);
    expect(events).toEqual([]);
  });

  it('refuses a re-test for a product without the self-test console', async () => {
    await expect(qa(selfTestPlanSchema.parse({ selfTest: false })).retest('slot-1')).rejects.toThrow(/no self-test console/);
    expect(events).toEqual([]);
    expect(runs.forToken(1)).toEqual([]);
  });
});
