import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { selfTestPlanSchema } from '../../../common/self-test-plan.js';
import type { CheckResult } from '../../../common/self-test-plan.js';
import type { StationDatabase } from '../../../core/db/open-database.js';
import { TestRunStore } from '../../../core/qa/test-run-store.js';
import type { TokenQueue } from '../../../core/queue/token-queue.js';
import { StationEngine, type StationEngineDeps } from '../../../core/station/station-engine.js';
import type { FlashJob, FlashOutcome } from '../../../native/flash/esptool-flasher.js';
import { EngineFixture, fixtureToken, flashOutcome } from '../../support/engine-fixture.js';
import type { FakeWatcher } from '../../support/fake-watcher.js';

const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('hex');

/**
 * What proves a board before its label: a product without the console (`selfTest: false`) by the
 * chip's MD5 of its payload alone; a static-token product with a cloud check by the cloud too.
 */
describe('StationEngine: the proof the test plan asks for', () => {
  let fx: EngineFixture;
  let db: StationDatabase;
  let queue: TokenQueue;
  let runs: TestRunStore;
  let watcher: FakeWatcher;
  let deps: StationEngineDeps;
  let placed: number[];
  let selfTests: number;
  /** What the fake flasher reports the chip's MD5 of each region to be. */
  let chipMd5: (data: Uint8Array) => string;

  beforeEach(() => {
    fx = new EngineFixture();
    ({ db, queue, watcher, placed } = fx);
    runs = new TestRunStore(db);
    selfTests = 0;
    chipMd5 = md5;
    deps = fx.with({
      flash: async (job: FlashJob): Promise<FlashOutcome> =>
        flashOutcome(job.regions.map((r) => ({ name: r.name, address: r.address, size: r.data.length, md5: chipMd5(r.data), skipped: false }))),
      selfTest: async () => {
        selfTests += 1;
        return { ok: true, checks: [{ check: 'token', ok: true }], durationMs: 3 };
      },
      recordTestRun: (run) => runs.record({ ...run, kind: 'provision' }),
      slotCount: 1,
    }).deps;
  });

  afterEach(() => fx.close());

  async function provision(): Promise<StationEngine> {
    const e = fx.engine();
    watcher.plug('slot-1');
    await e.idle();
    await e.runSlot('slot-1');
    return e;
  }

  describe('selfTest: false (a firmware without the console)', () => {
    beforeEach(() => {
      deps.testPlan = selfTestPlanSchema.parse({ selfTest: false });
    });

    it('labels the board on the chip MD5 alone, never opens the console, and records the run as such', async () => {
      const e = await provision();
      expect(e.slotViews()[0]!.state.kind).toBe('done');
      expect(selfTests).toBe(0);
      expect(queue.get(1).state).toBe('labelled');
      const [run] = runs.forToken(1);
      expect(run).toMatchObject({ kind: 'provision', ok: true });
      expect(run!.checks).toEqual([
        expect.objectContaining({ check: 'flash_md5', ok: true, expected: 'chip MD5 = payload MD5 (1 region)', value: expect.stringContaining('no self-test') }),
      ]);
      expect(queue.auditFor(1).some((a) => a.toState === 'verified' && a.detail?.includes('chip MD5 only'))).toBe(true);
    });

    it('never labels a board whose chip MD5 does not prove the payload; the token is burned', async () => {
      chipMd5 = () => '0'.repeat(32);
      const e = await provision();
      const state = e.slotViews()[0]!.state;
      expect(state.kind).toBe('failed');
      expect(state.kind === 'failed' && state.error.message).toBe("The chip's MD5 does not prove nvs at 0x9000 — re-flash the board.");
      expect(placed).toEqual([]);
      expect(queue.get(1).state).toBe('failed');
      expect(runs.forToken(1)[0]).toMatchObject({ ok: false });
    });

    it('refuses a flash report that leaves a payload region out', async () => {
      const flash = deps.flash;
      deps.flash = async (job) => ({ ...(await flash(job)), regions: [] });
      const e = await provision();
      expect(e.slotViews()[0]!.state.kind).toBe('failed');
      expect(placed).toEqual([]);
    });
  });

  it('selfTest: true (the default) still runs the self-test', async () => {
    deps.testPlan = selfTestPlanSchema.parse({});
    await provision();
    expect(selfTests).toBe(1);
    expect(queue.get(1).state).toBe('labelled');
  });

  describe('cloud check', () => {
    let cloudJobs: { authToken: string; qrToken: string; orgId: number }[];
    beforeEach(() => {
      cloudJobs = [];
    });
    const check = (result: Omit<CheckResult, 'check' | 'durationMs'>) => async (job: { authToken: string; qrToken: string; orgId: number }) => {
      cloudJobs.push(job);
      return { check: 'cloud', durationMs: 7, ...result };
    };

    it('runs after the self-test and is stored as a check of the run before the label is placed', async () => {
      deps.cloudCheck = check({ ok: true, value: 'online, unclaimed in org 1' });
      await provision();
      expect(cloudJobs).toEqual([{ authToken: fixtureToken(1).authToken, qrToken: fixtureToken(1).qrToken, orgId: 1 }]);
      expect(placed).toEqual([1]);
      expect(runs.forToken(1)[0]!.checks.map((c) => [c.check, c.ok])).toEqual([
        ['token', true],
        ['cloud', true],
      ]);
    });

    it('a board that failed the cloud check gets no label, its slot says why, and its token is burned', async () => {
      deps.cloudCheck = check({ ok: false, reason: 'The board did not come online in the cloud within 15 s — check its network link, then test it again.' });
      const e = await provision();
      const state = e.slotViews()[0]!.state;
      expect(state.kind === 'failed' && state.error.message).toBe('The board did not come online in the cloud within 15 s — check its network link, then test it again.');
      expect(placed).toEqual([]);
      // The token touched a board: never handed out again.
      expect(queue.get(1).state).toBe('failed');
      expect(runs.forToken(1)[0]).toMatchObject({ ok: false });
      expect(JSON.stringify(runs.forToken(1))).not.toContain(fixtureToken(1).authToken);
    });

    it('is not run when the self-test failed', async () => {
      deps.selfTest = async () => ({ ok: false, checks: [], reason: 'The board failed.', durationMs: 1 });
      deps.cloudCheck = check({ ok: true });
      await provision();
      expect(cloudJobs).toEqual([]);
    });
  });
});
