import type { SelfTestPlan } from '../../common/self-test-plan.js';
import type { SelfTestResult } from '../../common/self-test-protocol.js';
import type { DynamicLineDeps, DynamicQaJob } from '../station/dynamic-line-run.js';
import type { DynamicQaCloud, DynamicQaOptions } from './dynamic-qa.js';
import type { TestRunStore } from './test-run-store.js';

export interface DynamicLineQaOptions {
  /** The Improv + cloud + `config erase` run (core/qa/dynamic-qa.ts). */
  run: (options: DynamicQaOptions) => Promise<SelfTestResult>;
  /** The test plan of the product on the line now (read per board: the product may change). */
  plan: () => SelfTestPlan | undefined;
  /** The cloud step (test provisioning token, online, test device removed); absent: Wi-Fi and reset only. */
  cloud?: DynamicQaCloud;
  testRuns?: TestRunStore;
  log?: (line: string) => void;
}

/** Why a dynamic-token product cannot run on the line, or null (its plan names the QA network). */
export function dynamicLineRefusal(productName: string, plan: SelfTestPlan | undefined): string | null {
  if (plan?.dynamic) return null;
  return `${productName} is a dynamic-token product but its test plan names no QA Wi-Fi network (testPlan.dynamic) — ask a supervisor.`;
}

/**
 * The engine's dynamic-line dependencies: QA runs the same flow as the QA screen's Dynamic QA, on the
 * board the line just flashed, and each run is stored as kind `dynamic`, keyed by the board's MAC.
 */
export function dynamicLineQa(options: DynamicLineQaOptions): DynamicLineDeps {
  return {
    dynamicQa: async (job: DynamicQaJob): Promise<SelfTestResult> => {
      const setup = options.plan()?.dynamic;
      if (!setup) {
        return { ok: false, checks: [], results: [], log: [], reason: 'The product names no QA Wi-Fi network (testPlan.dynamic) — the board was not tested.', durationMs: 0 };
      }
      return options.run({
        port: job.port,
        wifi: setup.wifi,
        provisionTimeoutMs: setup.provisionTimeoutMs,
        ...(options.cloud ? { cloud: options.cloud } : {}),
        ...(options.log ? { log: options.log } : {}),
      });
    },
    ...(options.testRuns
      ? {
          recordDynamicRun: (run: { boardMac: string; slotId: string; result: SelfTestResult }) => {
            options.testRuns?.record({ tokenId: null, boardMac: run.boardMac, slotId: run.slotId, kind: 'dynamic', result: run.result });
          },
          passedBefore: (mac: string) => options.testRuns?.forMac(mac).at(-1)?.ok === true,
        }
      : {}),
  };
}
