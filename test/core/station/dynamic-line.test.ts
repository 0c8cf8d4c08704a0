import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stationError } from '../../../common/errors.js';
import type { SlotState } from '../../../common/slot-state.js';
import type { SelfTestResult } from '../../../common/self-test-protocol.js';
import type { StationDatabase } from '../../../core/db/open-database.js';
import { DEMO_PRODUCT, type ProductConfig } from '../../../core/product/product.js';
import { TestRunStore } from '../../../core/qa/test-run-store.js';
import type { TokenQueue } from '../../../core/queue/token-queue.js';
import type { DynamicQaJob } from '../../../core/station/dynamic-line-run.js';
import { StationEngine, type StationEngineDeps } from '../../../core/station/station-engine.js';
import type { FlashJob } from '../../../native/flash/esptool-flasher.js';
import { EngineFixture, FIXTURE_MAC, fixtureToken, flashOutcome } from '../../support/engine-fixture.js';
import type { FakeWatcher } from '../../support/fake-watcher.js';

const MAC = FIXTURE_MAC;
const token = fixtureToken;
const FIRMWARE = [
  { name: 'app', address: 0x10000, data: new Uint8Array(64).fill(3) },
  { name: 'bootloader', address: 0x1000, data: new Uint8Array(16).fill(1) },
  { name: 'partition-table', address: 0x8000, data: new Uint8Array(16).fill(2) },
];
const PASSED: SelfTestResult = { ok: true, checks: [], results: [{ check: 'unconfigured', ok: true, durationMs: 1 }], log: [], durationMs: 5 };

/**
 * The line flow of a dynamic-token product (no token at the factory): plug -> probe -> flash the
 * shared firmware -> dynamic QA (online with a test token, factory reset, unconfigured) -> done.
 */
describe('StationEngine: dynamic-token products', () => {
  let fx: EngineFixture;
  let db: StationDatabase;
  let queue: TokenQueue;
  let runs: TestRunStore;
  let watcher: FakeWatcher;
  let product: ProductConfig;
  let states: Record<string, SlotState['kind'][]>;
  let flashed: FlashJob[];
  let qaJobs: DynamicQaJob[];
  let qaResult: SelfTestResult;
  let deps: StationEngineDeps;
  let placed: number[];

  beforeEach(() => {
    fx = new EngineFixture(2);
    ({ db, queue, watcher, placed, states } = fx);
    runs = new TestRunStore(db);
    product = { ...DEMO_PRODUCT, id: 'demo-wifi-lamp', name: 'Demo Wi-Fi Lamp', templateId: '1', orgId: 1, scanBack: false, plan: 'token-only', tokenKind: 'dynamic' };
    flashed = [];
    qaJobs = [];
    qaResult = PASSED;
    deps = fx.with({
      product,
      buildPayload: () => {
        throw new Error('a dynamic product has no per-board payload');
      },
      firmwareRegions: FIRMWARE,
      flash: async (job) => {
        flashed.push(job);
        job.onProgress?.({ phase: 'writing', bytesDone: 96, bytesTotal: 96, rateBps: 1000 });
        return flashOutcome(job.regions.map((r) => ({ name: r.name, address: r.address, size: r.data.length, md5: 'm', skipped: r.name === 'bootloader' })));
      },
      selfTest: async () => {
        throw new Error('a dynamic product runs no token self-test');
      },
      probe: async () => ({ identity: { chipFamily: 'ESP32', description: 'ESP32-D0WD-V3', mac: MAC, flashSizeBytes: 4 << 20 }, nvs: new TextEncoder().encode(token(2).authToken) }),
      readToken: (nvs) => new TextDecoder().decode(nvs),
      dynamicLine: {
        dynamicQa: async (job) => {
          qaJobs.push(job);
          return qaResult;
        },
        recordDynamicRun: (run) => runs.record({ tokenId: null, boardMac: run.boardMac, slotId: run.slotId, kind: 'dynamic', result: run.result }),
      },
    }).deps;
  });
  afterEach(() => fx.close());

  // The fixture's engine records every slot's states into `states` (deps is the fixture's own object).
  const engine = (): StationEngine => fx.engine();

  it('plug -> probe -> firmware -> qa -> done: no token reserved, no label, the run stored by MAC', async () => {
    const e = engine();
    watcher.plug('slot-1');
    await e.idle();
    // The board's NVS held one of our tokens (a reused module): a dynamic product ignores it.
    expect(e.slotViews()[0]?.state).toMatchObject({ kind: 'detected' });
    expect(e.slotViews()[0]?.state).not.toHaveProperty('resume');
    const before = queue.stock();
    await e.runSlot('slot-1');
    expect(states['slot-1']).toEqual(['probing', 'detected', 'flashing', 'flashing', 'qa', 'done']);
    const done = e.slotViews()[0]!.state;
    expect(done).toEqual({ kind: 'done', board: expect.objectContaining({ mac: MAC, chip: 'ESP32-D0WD-V3' }) });
    // The full plan in address order, nothing but the shared firmware; the probe's MAC is enforced.
    expect(flashed).toHaveLength(1);
    expect(flashed[0]!.regions.map((r) => r.name)).toEqual(['bootloader', 'partition-table', 'app']);
    expect(flashed[0]).toMatchObject({ skipUnchanged: true, expectMac: MAC, expectChip: 'ESP32' });
    expect(qaJobs).toMatchObject([{ slotId: 'slot-1', mac: MAC }]);
    expect(queue.stock()).toEqual(before);
    expect(queue.pendingOutbox()).toEqual([]);
    expect(placed).toEqual([]);
    expect(db.prepare('SELECT kind, token_id AS tokenId, board_mac AS mac, slot_id AS slotId, ok FROM test_runs').all()).toEqual([
      { kind: 'dynamic', tokenId: null, mac: MAC, slotId: 'slot-1', ok: 1 },
    ]);
    const stock = e.stock();
    expect(stock.shift).toMatchObject({ done: 1, failed: 0 });
    expect(stock.lowStockAt).toBeUndefined();
  });

  it('a QA failure fails the slot with the run\'s one sentence; counted as failed, nothing burned', async () => {
    qaResult = {
      ok: false,
      checks: [],
      results: [
        { check: 'cloud_online', ok: false, reason: 'the board did not come online in the cloud within 15 s', durationMs: 15 },
        { check: 'config_erase', ok: true, durationMs: 1 },
        { check: 'unconfigured', ok: true, durationMs: 1 },
      ],
      log: [],
      reason: 'Dynamic QA step "cloud_online" failed: the board did not come online in the cloud within 15 s.',
      durationMs: 20,
    };
    const e = engine();
    watcher.plug('slot-1');
    await e.idle();
    await e.runSlot('slot-1');
    expect(states['slot-1']).toEqual(['probing', 'detected', 'flashing', 'flashing', 'qa', 'failed']);
    expect(e.slotViews()[0]!.state).toMatchObject({
      kind: 'failed',
      board: { mac: MAC },
      error: { code: 'QA_FAILED', message: 'Dynamic QA step "cloud_online" failed: the board did not come online in the cloud within 15 s.' },
    });
    expect(e.slotViews()[0]!.state).not.toHaveProperty('token');
    const rows = db.prepare("SELECT ok, checks FROM test_runs WHERE kind = 'dynamic'").all() as { ok: number; checks: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]!.ok).toBe(0);
    expect((JSON.parse(rows[0]!.checks) as { check: string }[]).map((c) => c.check)).toEqual(['cloud_online', 'config_erase', 'unconfigured']);
    expect(queue.stock().failed).toBe(0);
    expect(e.stock().shift).toMatchObject({ done: 0, failed: 1 });
  });

  it('a cable pulled mid-flash fails the slot (no QA, no run stored); the other slot finishes', async () => {
    deps.flash = async (job) => {
      flashed.push(job);
      job.onProgress?.({ phase: 'writing', bytesDone: 10, bytesTotal: 96, rateBps: 1000 });
      if (flashed.length === 1) {
        watcher.unplug('slot-1');
        throw stationError('CABLE_PULLED', 'The board was unplugged while flashing — plug it back in and run it again.', true);
      }
      return { chip: 'ESP32-D0WD-V3', chipFamily: 'ESP32', mac: MAC, regions: [], durationMs: 1, baudRate: 921_600, retries: [] };
    };
    const e = engine();
    watcher.plug('slot-1');
    watcher.plug('slot-2');
    await e.idle();
    await e.runSlot('slot-1');
    await e.runSlot('slot-2');
    expect(states['slot-1']).toEqual(['probing', 'detected', 'flashing', 'flashing', 'failed']);
    expect(e.slotViews()[0]!.state).toMatchObject({ kind: 'failed', error: { code: 'CABLE_PULLED' } });
    expect(e.slotViews()[1]!.state.kind).toBe('done');
    expect(qaJobs.map((j) => j.slotId)).toEqual(['slot-2']);
    expect(e.stock().shift).toMatchObject({ done: 1, failed: 1 });
    // Acknowledging the failed slot with no board in it empties it.
    e.clearSlot('slot-1');
    expect(e.slotViews()[0]!.state.kind).toBe('empty');
  });

  it('reads the product per board: after a switch to a static product the next board gets a token again', async () => {
    const line = { kind: 'dynamic' as 'dynamic' | 'static' };
    deps.product = Object.defineProperty({ ...product }, 'tokenKind', { enumerable: true, get: () => line.kind });
    deps.buildPayload = (t) => [{ name: 'nvs', address: 0x9000, data: new TextEncoder().encode(t.authToken) }];
    deps.selfTest = async () => ({ ok: true, checks: [{ check: 'token', ok: true }], durationMs: 1 });
    deps.probe = async () => ({ identity: { chipFamily: 'ESP32', description: 'ESP32-D0WD-V3', mac: MAC, flashSizeBytes: 4 << 20 }, nvs: new Uint8Array(0) });
    deps.readToken = () => undefined;
    const e = engine();
    watcher.plug('slot-1');
    await e.idle();
    await e.runSlot('slot-1');
    expect(e.slotViews()[0]!.state).toEqual({ kind: 'done', board: expect.anything() });
    expect(e.stock().lowStockAt).toBeUndefined();
    e.clearSlot('slot-1');
    await e.idle();
    line.kind = 'static';
    await e.runSlot('slot-1');
    expect(e.slotViews()[0]!.state).toMatchObject({ kind: 'done', token: { id: 1 }, label: { sheetId: 'sheet' } });
    expect(queue.get(1).state).toBe('labelled');
    expect(e.stock().lowStockAt).toBe(20);
    expect(e.stock().shift).toMatchObject({ done: 2, failed: 0 });
  });

  it('a re-checked board whose latest run passed shows done (no second run); one whose latest failed is offered again', async () => {
    deps.dynamicLine!.passedBefore = (mac) => runs.forMac(mac).at(-1)?.ok === true;
    const e = engine();
    watcher.plug('slot-1');
    await e.idle();
    qaResult = { ...PASSED, ok: false, reason: 'Dynamic QA step "provisioned" failed: no.' };
    await e.runSlot('slot-1');
    e.clearSlot('slot-1');
    await e.idle();
    expect(e.slotViews()[0]!.state.kind).toBe('detected');
    qaResult = PASSED;
    await e.runSlot('slot-1');
    e.clearSlot('slot-1');
    await e.idle();
    expect(states['slot-1']!.slice(-3)).toEqual(['done', 'probing', 'done']);
    expect(e.slotViews()[0]!.state).toEqual({ kind: 'done', board: expect.objectContaining({ mac: MAC }) });
    expect(flashed).toHaveLength(2);
    expect(qaJobs).toHaveLength(2);
  });

  it('refuses nothing but fails clearly when the station has no dynamic QA wired', async () => {
    delete deps.dynamicLine;
    const e = engine();
    watcher.plug('slot-1');
    await e.idle();
    await e.runSlot('slot-1');
    expect(e.slotViews()[0]!.state).toMatchObject({ kind: 'failed', error: { code: 'INVALID_INPUT', message: 'Demo Wi-Fi Lamp is a dynamic-token product and this station has no dynamic QA set up.' } });
    expect(flashed).toEqual([]);
  });
});
