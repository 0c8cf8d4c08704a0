import { describe, expect, it } from 'vitest';
import { selfTestPlanSchema, type SelfTestPlan } from '../../../common/self-test-plan.js';
import { openStationDatabase } from '../../../core/db/open-database.js';
import type { DynamicQaCloud, DynamicQaOptions } from '../../../core/qa/dynamic-qa.js';
import { dynamicLineQa, dynamicLineRefusal } from '../../../core/qa/dynamic-line-qa.js';
import { TestRunStore } from '../../../core/qa/test-run-store.js';
import type { WebSerialPortLike } from '../../../native/serial/web-serial-port.js';

const port = {} as WebSerialPortLike;
const withQa = selfTestPlanSchema.parse({ selfTest: false, dynamic: { wifi: { ssid: 'QA-Net', pass: 'pw' }, provisionTimeoutMs: 5000 } });

describe('dynamicLineQa: the engine\'s dynamic QA over the product on the line', () => {
  it('runs with the plan of the product read at each board, the cloud step, and stores the run by MAC', async () => {
    const db = openStationDatabase(':memory:');
    const runs = new TestRunStore(db);
    const seen: DynamicQaOptions[] = [];
    const cloud = { issueToken: async () => ({ token: 't', deviceId: 1 }) } as unknown as DynamicQaCloud;
    let plan: SelfTestPlan | undefined = withQa;
    const line = dynamicLineQa({
      run: async (options) => {
        seen.push(options);
        return { ok: true, checks: [], results: [{ check: 'unconfigured', ok: true, durationMs: 1 }], log: [], durationMs: 2 };
      },
      plan: () => plan,
      cloud,
      testRuns: runs,
    });
    const result = await line.dynamicQa({ port, slotId: 'slot-3', mac: 'AA:BB:CC:00:00:09' });
    expect(result.ok).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ port, wifi: { ssid: 'QA-Net', pass: 'pw' }, provisionTimeoutMs: 5000, cloud });
    line.recordDynamicRun?.({ boardMac: 'AA:BB:CC:00:00:09', slotId: 'slot-3', result });
    expect(runs.forMac('aa:bb:cc:00:00:09').map((r) => [r.kind, r.tokenId, r.slotId, r.ok])).toEqual([['dynamic', null, 'slot-3', true]]);
    expect(line.passedBefore?.('aa:bb:cc:00:00:09')).toBe(true);
    expect(line.passedBefore?.('aa:bb:cc:00:00:0a')).toBe(false);
    line.recordDynamicRun?.({ boardMac: 'aa:bb:cc:00:00:09', slotId: 'slot-3', result: { ...result, ok: false, reason: 'x' } });
    expect(line.passedBefore?.('aa:bb:cc:00:00:09')).toBe(false);

    // The product changed to one without a QA network: the board is not tested, and says why.
    plan = selfTestPlanSchema.parse({});
    const untested = await line.dynamicQa({ port, slotId: 'slot-3', mac: 'aa:bb:cc:00:00:09' });
    expect(untested).toMatchObject({ ok: false, reason: 'The product names no QA Wi-Fi network (testPlan.dynamic) — the board was not tested.' });
    expect(seen).toHaveLength(1);
    db.close();
  });

  it('refuses a dynamic product whose plan names no QA network, with a sentence; accepts one that does', () => {
    expect(dynamicLineRefusal('Lamp', withQa)).toBeNull();
    expect(dynamicLineRefusal('Lamp', selfTestPlanSchema.parse({}))).toBe(
      'Lamp is a dynamic-token product but its test plan names no QA Wi-Fi network (testPlan.dynamic) — ask a supervisor.',
    );
  });
});
