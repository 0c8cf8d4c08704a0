import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { stationError } from '../../../common/errors.js';
import type { SlotState } from '../../../common/slot-state.js';
import type { StationDatabase } from '../../../core/db/open-database.js';
import type { TokenQueue } from '../../../core/queue/token-queue.js';
import { StationEngine, type StationEngineDeps } from '../../../core/station/station-engine.js';
import type { FlashJob, FlashOutcome } from '../../../native/flash/esptool-flasher.js';
import { EngineFixture, fixtureToken, flashOutcome } from '../../support/engine-fixture.js';
import type { FakeWatcher } from '../../support/fake-watcher.js';


const outcome = flashOutcome;

const token = fixtureToken;

describe('StationEngine', () => {
  let fx: EngineFixture;
  let db: StationDatabase;
  let queue: TokenQueue;
  let watcher: FakeWatcher;
  let states: Record<string, SlotState['kind'][]>;
  let deps: StationEngineDeps;
  let placed: number[];
  /** What the fake probe reads back from the board's NVS (the fake readToken decodes plain text). */
  let heldNvs: Uint8Array;

  beforeEach(() => {
    fx = new EngineFixture();
    ({ db, queue, watcher, placed, states } = fx);
    heldNvs = new Uint8Array(16).fill(0xff);
    deps = fx.with({
      flash: async (job: FlashJob): Promise<FlashOutcome> => {
        job.onProgress?.({ phase: 'writing', bytesDone: 4096, bytesTotal: 4096, rateBps: 1000 });
        return outcome([{ name: 'nvs', address: 0x9000, size: 4096, md5: 'x', skipped: false }]);
      },
      probe: async () => ({ identity: { chipFamily: 'ESP32', description: 'ESP32-D0WD-V3', mac: 'aa:bb:cc:dd:ee:01', flashSizeBytes: 4 << 20 }, nvs: heldNvs }),
      readToken: (nvs) => {
        const text = new TextDecoder().decode(nvs).replace(/\xff|\ufffd/g, '');
        return text.length ? text : undefined;
      },
    }).deps;
  });

  afterEach(() => fx.close());

  // The fixture's engine records every slot's states into `states` (deps is the fixture's own object).
  const engine = (): StationEngine => fx.engine();

  it('takes a board through every state and leaves the token labelled with its device record queued', async () => {
    const e = engine();
    watcher.plug('slot-1');
    await e.idle();
    await e.runSlot('slot-1');
    expect(states['slot-1']).toEqual(['probing', 'detected', 'flashing', 'flashing', 'testing', 'labelling', 'done']);
    const t = queue.get(1);
    expect(t).toMatchObject({ state: 'labelled', boardMac: 'aa:bb:cc:dd:ee:01', labelSheetId: 'sheet', labelPosition: 0 });
    const outbox = queue.pendingOutbox();
    expect(outbox).toHaveLength(1);
    expect(JSON.stringify(outbox)).not.toContain(token(1).authToken);
    expect(outbox[0]?.payload).toMatchObject({ qrToken: token(1).qrToken, result: 'passed', chip: 'ESP32-D0WD-V3' });
  });

  it('burns the token and fails only that slot when flashing fails; the other slot carries on', async () => {
    let calls = 0;
    deps.flash = async (job) => {
      calls += 1;
      if (calls === 1) throw stationError('FLASH_WRITE_FAILED', 'Writing to the board failed — check the cable and replug the board.', true);
      return outcome([{ name: 'nvs', address: job.regions[0]!.address, size: 1, md5: '', skipped: false }]);
    };
    const e = engine();
    watcher.plug('slot-1');
    watcher.plug('slot-2');
    await e.idle();
    await Promise.all([e.runSlot('slot-1'), e.runSlot('slot-2')]);
    const views = Object.fromEntries(e.slotViews().map((v) => [v.id, v.state]));
    expect(views['slot-1']).toMatchObject({ kind: 'failed', error: { code: 'FLASH_WRITE_FAILED' } });
    expect(views['slot-2']?.kind).toBe('done');
    expect(queue.get(1).state).toBe('failed');
    expect(queue.get(2).state).toBe('labelled');
    expect(placed).toEqual([2]);
  });

  it('runs the product\'s test plan, stores each run per board, and the slot shows the failing check\'s reason', async () => {
    const { TestRunStore } = await import('../../../core/qa/test-run-store.js');
    const { selfTestPlanSchema } = await import('../../../common/self-test-plan.js');
    const runs = new TestRunStore(db);
    const plan = selfTestPlanSchema.parse({ checks: [{ check: 'token' }, { check: 'heap', min: 60_000 }] });
    const seenPlans: unknown[] = [];
    deps.testPlan = plan;
    deps.recordTestRun = (run) => runs.record({ ...run, kind: 'provision' });
    deps.selfTest = async (options) => {
      seenPlans.push(options.plan);
      return {
        ok: false,
        checks: [],
        results: [{ check: 'heap', ok: false, value: 41_000, expected: '≥ 60000', reason: 'Self-test check "heap" reported 41000, below the minimum 60000.', durationMs: 4 }],
        log: [`leaked ${options.expectedToken}`],
        reason: 'Self-test check "heap" reported 41000, below the minimum 60000.',
        durationMs: 9,
      };
    };
    const e = engine();
    watcher.plug('slot-1');
    await e.idle();
    await e.runSlot('slot-1');
    expect(seenPlans).toEqual([plan]);
    expect(e.slotViews()[0]?.state).toMatchObject({ kind: 'failed', error: { code: 'SELFTEST_FAILED', message: 'Self-test check "heap" reported 41000, below the minimum 60000.' } });
    const stored = runs.forToken(1);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ kind: 'provision', ok: false, boardMac: 'aa:bb:cc:dd:ee:01', slotId: 'slot-1', log: ['leaked ‹redacted›'] });
    expect(stored[0]?.checks[0]).toMatchObject({ check: 'heap', value: 41_000 });
    expect(queue.get(1).state).toBe('failed');
  });

  it('never labels a board that fails its self-test, and burns its token', async () => {
    deps.selfTest = async () => ({ ok: false, checks: [], reason: 'The board holds a different token than the one written — do not pack it; call a supervisor.', durationMs: 1 });
    const e = engine();
    watcher.plug('slot-1');
    await e.idle();
    await e.runSlot('slot-1');
    expect(e.slotViews()[0]?.state).toMatchObject({ kind: 'failed', error: { code: 'SELFTEST_FAILED' } });
    expect(queue.get(1)).toMatchObject({ state: 'failed', failureCode: 'SELFTEST_FAILED' });
    expect(placed).toEqual([]);
    expect(queue.pendingOutbox().filter((o) => o.kind === 'device-record')).toEqual([]);
  });

  it('commits the reservation before the first byte goes to the board', async () => {
    deps.flash = vi.fn(async () => {
      expect(queue.get(1).state).toBe('reserved');
      throw stationError('BOARD_NOT_RESPONDING', 'The board did not answer its bootloader — check the cable and replug the board.', true);
    });
    const e = engine();
    watcher.plug('slot-1');
    await e.idle();
    await e.runSlot('slot-1');
    expect(deps.flash).toHaveBeenCalledTimes(1);
    // the next board gets a new token; the burned one is never handed out again
    e.clearSlot('slot-1');
    await e.idle();
    deps.flash = async () => outcome([]);
    await e.runSlot('slot-1');
    expect(queue.get(1).state).toBe('failed');
    expect(queue.get(2).state).toBe('labelled');
  });

  it('refuses to run an empty slot or a busy one, with operator-facing errors', async () => {
    const e = engine();
    expect(() => e.runSlot('slot-1')).toThrow(/no board waiting/);
    watcher.plug('slot-1');
    await e.idle();
    const run = e.runSlot('slot-1');
    expect(() => e.runSlot('slot-1')).toThrow(/already working/);
    await run;
    expect(() => e.runSlot('slot-9')).toThrow(/no slot/);
  });

  it('fails the slot without burning anything when the queue is empty', async () => {
    const e = engine();
    watcher.plug('slot-1');
    await e.idle();
    for (let i = 0; i < 3; i++) {
      await e.runSlot('slot-1');
      e.clearSlot('slot-1');
      await e.idle();
    }
    await e.runSlot('slot-1');
    expect(e.slotViews()[0]?.state).toMatchObject({ kind: 'failed', error: { code: 'NO_TOKENS_AVAILABLE' } });
    expect(queue.stock()).toMatchObject({ available: 0, labelled: 3, failed: 0 });
  });
  it('resumes a re-plugged board that holds a reserved token of ours, without a second token', async () => {
    const e = engine();
    deps.flash = async () => {
      throw stationError('CABLE_PULLED', 'Cable pulled during write — replug the board to resume.', true);
    };
    // simulate: token 1 reserved for this board, then the station crashed before it finished
    const t = queue.reserve('slot-1', '/dev/fake-slot-1');
    heldNvs = new TextEncoder().encode(token(1).authToken);
    let flashedWith: FlashJob | null = null;
    deps.flash = async (job) => {
      flashedWith = job;
      return outcome([{ name: 'nvs', address: 0x9000, size: 4096, md5: 'x', skipped: true }]);
    };
    watcher.plug('slot-1');
    await e.idle();
    expect(e.slotViews()[0]?.state).toMatchObject({ kind: 'detected', resume: { token: { id: t.id }, tokenState: 'reserved' } });
    await e.runSlot('slot-1');
    expect(e.slotViews()[0]?.state.kind).toBe('done');
    expect(flashedWith!.skipUnchanged).toBe(true);
    expect(queue.get(t.id).state).toBe('labelled');
    // no other token was touched
    expect(queue.stock()).toMatchObject({ available: 2, labelled: 1, failed: 0 });
  });

  it('shows a board whose token is already labelled as done, and reserves nothing', async () => {
    const e = engine();
    watcher.plug('slot-1');
    await e.idle();
    await e.runSlot('slot-1');
    heldNvs = new TextEncoder().encode(token(1).authToken);
    e.clearSlot('slot-1');
    await e.idle();
    expect(e.slotViews()[0]?.state).toMatchObject({ kind: 'done', token: { id: 1 }, label: { sheetId: 'sheet', position: 0 } });
    expect(queue.stock()).toMatchObject({ available: 2, labelled: 1 });
  });

  it('refuses a board of the wrong chip family at the probe, before any token is reserved', async () => {
    deps.probe = async () => ({ identity: { chipFamily: 'ESP8266', description: 'ESP8266EX', mac: 'aa:bb:cc:dd:ee:09', flashSizeBytes: 4 << 20 }, nvs: heldNvs });
    const e = engine();
    watcher.plug('slot-1');
    await e.idle();
    expect(e.slotViews()[0]?.state).toMatchObject({ kind: 'failed', error: { code: 'BOARD_UNSUPPORTED' } });
    expect(queue.stock()).toMatchObject({ available: 3, reserved: 0, failed: 0 });
  });

  it('hands the MAC seen at the probe to the flasher, so a swapped board is refused', async () => {
    let job: FlashJob | null = null;
    deps.flash = async (j) => {
      job = j;
      return outcome([]);
    };
    const e = engine();
    watcher.plug('slot-1');
    await e.idle();
    await e.runSlot('slot-1');
    expect(job!.expectMac).toBe('aa:bb:cc:dd:ee:01');
    expect(job!.expectChip).toBe('ESP32');
  });
  it('maps each physical port to a fixed slot, remembered across re-plugs', async () => {
    const assigned: [string, string][] = [];
    deps.onSlotAssigned = (location, slotId) => assigned.push([location, slotId]);
    deps.slotAssignments = { '1-1.3': 'slot-2' };
    const e = engine();
    watcher.plug('1-1.3');
    watcher.plug('1-1.2');
    await e.idle();
    const boards = Object.fromEntries(e.slotViews().map((v) => [v.id, v.state.kind === 'detected' ? v.state.board.port : null]));
    expect(boards).toEqual({ 'slot-1': '/dev/fake-1-1.2', 'slot-2': '/dev/fake-1-1.3' });
    expect(assigned).toEqual([['1-1.2', 'slot-1']]);
  });
  describe('scan-back', () => {
    beforeEach(() => {
      deps.product = { ...deps.product, scanBack: true };
    });

    it('keeps the token verified until its own label is scanned, then labels it', async () => {
      const e = engine();
      watcher.plug('slot-1');
      await e.idle();
      await e.runSlot('slot-1');
      expect(e.slotViews()[0]?.state).toMatchObject({ kind: 'awaiting-scan', label: { sheetId: 'sheet', position: 0 } });
      expect(queue.get(1).state).toBe('verified');
      expect(queue.pendingOutbox()).toEqual([]);
      expect(() => e.clearSlot('slot-1')).toThrow(/scanned/);
      expect(e.scanLabel(`${token(1).qrToken}+1`)).toEqual({ confirmed: true, slotId: 'slot-1' });
      expect(e.slotViews()[0]?.state.kind).toBe('done');
      expect(queue.get(1).state).toBe('labelled');
      expect(queue.pendingOutbox()).toHaveLength(1);
    });

    it('blocks the slot on a wrong scan, names the slot the label belongs to, and accepts the right one after', async () => {
      const e = engine();
      watcher.plug('slot-1');
      watcher.plug('slot-2');
      await e.idle();
      await e.runSlot('slot-1');
      await e.runSlot('slot-2');
      // slot 1 waited longest; the operator scans slot 2's label by mistake
      expect(e.scanLabel(`${token(2).qrToken}+1`)).toEqual({ confirmed: false, slotId: 'slot-1' });
      expect(e.slotViews()[0]?.state).toMatchObject({ kind: 'awaiting-scan', mismatch: { scannedShort: token(2).qrToken.slice(-6) } });
      expect(queue.get(1).state).toBe('verified');
      expect(queue.get(2).state).toBe('verified');
      expect(e.scanLabel('garbage that is no label', 'slot-2')).toEqual({ confirmed: false, slotId: 'slot-2' });
      expect(e.scanLabel(`${token(1).qrToken}+1`, 'slot-1').confirmed).toBe(true);
      expect(e.scanLabel(`${token(2).qrToken}+1`).confirmed).toBe(true);
      expect(queue.stock()).toMatchObject({ labelled: 2 });
    });

    it('keeps waiting when the board is unplugged to be labelled, and refuses scans when nothing waits', async () => {
      const e = engine();
      watcher.plug('slot-1');
      await e.idle();
      await e.runSlot('slot-1');
      watcher.unplug('slot-1');
      expect(e.slotViews()[0]?.state.kind).toBe('awaiting-scan');
      expect(e.scanLabel(`${token(1).qrToken}+1`).confirmed).toBe(true);
      expect(() => e.scanLabel(`${token(1).qrToken}+1`)).toThrow(/No slot is waiting/);
    });
  });
  it('writes the shared firmware too on a full plan, payload replacing the part at its address, in address order', async () => {
    let job: FlashJob | null = null;
    deps.flash = async (j) => {
      job = j;
      return outcome([]);
    };
    deps.product = { ...deps.product, plan: 'full' };
    deps.firmwareRegions = [
      { name: 'app', address: 0x10000, data: new Uint8Array(64) },
      { name: 'bootloader', address: 0x1000, data: new Uint8Array(32) },
      { name: 'partition-table', address: 0x8000, data: new Uint8Array(32) },
    ];
    const e = engine();
    watcher.plug('slot-1');
    await e.idle();
    await e.runSlot('slot-1');
    expect(job!.regions.map((r) => [r.name, r.address])).toEqual([
      ['bootloader', 0x1000],
      ['partition-table', 0x8000],
      ['nvs', 0x9000],
      ['app', 0x10000],
    ]);
  });
  it('runs itself with autoRun: a plugged board goes all the way without a click', async () => {
    deps.autoRun = true;
    const e = engine();
    watcher.plug('slot-1');
    await e.idle();
    expect(e.slotViews()[0]?.state.kind).toBe('done');
    expect(queue.get(1).state).toBe('labelled');
  });
  it('after a restart, resumes a mid-job token whose board comes back and burns the others after the grace time', async () => {
    const a = queue.reserve('slot-1', '/dev/fake-slot-1'); // board A was being flashed
    const b = queue.reserve('slot-2', '/dev/fake-slot-2'); // board B too; it never comes back
    queue.advance(b.id, 'written');
    deps.interruptedGraceMs = 60_000;
    const e = engine(); // the station restarts
    heldNvs = new TextEncoder().encode(token(a.id).authToken);
    watcher.plug('slot-1');
    await e.idle();
    expect(e.slotViews()[0]?.state).toMatchObject({ kind: 'detected', resume: { token: { id: a.id } } });
    expect(e.burnInterrupted()).toBe(1);
    expect(queue.get(b.id)).toMatchObject({ state: 'failed', failureCode: 'INTERRUPTED' });
    expect(queue.get(a.id).state).toBe('reserved');
    await e.runSlot('slot-1');
    expect(queue.get(a.id).state).toBe('labelled');
    e.dispose();
  });
});
