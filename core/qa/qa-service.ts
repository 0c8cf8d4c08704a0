import { stationError } from '../../common/errors.js';
import { qrTokenOfScan, type QaBoardHistory, type QaDynamicResult, type QaRetestResult, type QaTestRun } from '../../common/qa.js';
import type { SelfTestPlan } from '../../common/self-test-plan.js';
import type { SelfTestResult } from '../../common/self-test-protocol.js';
import type { SlotView } from '../../common/slot-state.js';
import type { SelfTestOptions } from '../../native/selftest/self-test-runner.js';
import type { WebSerialPortLike } from '../../native/serial/web-serial-port.js';
import type { DynamicQaCloud, DynamicQaOptions } from './dynamic-qa.js';
import type { AttachedBoard } from '../../native/usb/board-watcher.js';
import type { StationDatabase } from '../db/open-database.js';
import type { TokenQueue, TokenRecord } from '../queue/token-queue.js';
import type { TestRunRecord, TestRunStore } from './test-run-store.js';

export interface QaServiceDeps {
  db: StationDatabase;
  queue: TokenQueue;
  testRuns: TestRunStore;
  engine: {
    slotViews(): SlotView[];
    withIdleBoard<T>(slotId: string, use: (board: AttachedBoard, view: SlotView, mac: string | null) => Promise<T>): Promise<T>;
  };
  selfTest: (options: SelfTestOptions) => Promise<SelfTestResult>;
  plan?: SelfTestPlan;
  /** Dynamic-token products: the Improv + cloud + `config erase` run (core/qa/dynamic-qa.ts). */
  dynamicQa?: (options: DynamicQaOptions) => Promise<SelfTestResult>;
  /** The probe leaves a board in its ROM bootloader: reset it into its app before using its console. */
  resetToApp?: (port: WebSerialPortLike) => Promise<void>;
  /** The cloud step of dynamic QA; absent: Wi-Fi and factory reset only. */
  dynamicCloud?: DynamicQaCloud;
  log?: (line: string) => void;
}

const SLOT_ID = /^slot-[1-8]$/;
/** A board's MAC as the probe reports it (`aa:bb:cc:dd:ee:ff`). */
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/**
 * QA mode: look a board up by its label (or the slot it sits in), re-run the product's test plan on
 * it, and ship it. Only a board whose latest test run passed can become `shipped`.
 */
export class QaService {
  constructor(private readonly deps: QaServiceDeps) {}

  /**
   * A board's history by its label, the slot it sits in, or its MAC. A dynamic-token board holds no
   * token of ours: its history is its `dynamic` runs, kept under its MAC.
   */
  lookup(code: string): QaBoardHistory {
    const trimmed = code.trim();
    const mac = MAC.test(trimmed) ? trimmed.toLowerCase() : SLOT_ID.test(trimmed) ? this.dynamicMacInSlot(trimmed) : null;
    if (mac) {
      const token = this.deps.db.prepare('SELECT id FROM tokens WHERE lower(board_mac) = ? ORDER BY id DESC LIMIT 1').get(mac) as { id: number } | undefined;
      if (token && MAC.test(trimmed)) return this.history(this.deps.queue.get(token.id));
      const runs = this.deps.testRuns.forMac(mac);
      if (runs.length > 0) return this.dynamicHistory(mac, runs);
      if (MAC.test(trimmed)) throw stationError('NOT_FOUND', `No board with MAC ${mac} has been through this station.`, true);
    }
    return this.history(this.resolve(code));
  }

  /** Re-runs the test plan on the board in `slotId`; the board must prove it holds its token. */
  async retest(slotId: string): Promise<QaRetestResult> {
    const { run, tokenId } = await this.deps.engine.withIdleBoard(slotId, async (board, view, mac) => {
      const ref = tokenOfSlot(view);
      if (!ref) throw stationError('INVALID_INPUT', `The board in slot ${view.index} holds no token of this station — provision it first.`, true);
      const token = this.deps.queue.get(ref.id);
      const expectedToken = this.deps.queue.authTokenOf(token.id);
      let result: SelfTestResult;
      if (this.deps.plan?.selfTest === false) {
        throw stationError('INVALID_INPUT', "This product's firmware has no self-test console: its boards are proven by the chip's MD5 when flashed — re-test is not possible.", true);
      }
      if (mac && token.boardMac && mac.toLowerCase() !== token.boardMac.toLowerCase()) {
        // The slot's probe read another chip than the one the token was written to.
        result = { ok: false, checks: [], results: [], log: [], reason: `This is not the board token …${token.qrToken.slice(-6)} was written to (MAC ${mac}) — do not ship it.`, durationMs: 0 };
      } else {
        // A board plugged in for QA was probed, which leaves it in its ROM bootloader: its app must run.
        await this.deps.resetToApp?.(board.openPort());
        result = await this.deps.selfTest({ port: board.openPort(), expectedToken, ...(this.deps.plan ? { plan: this.deps.plan } : {}) });
      }
      const stored = this.deps.testRuns.record({ tokenId: token.id, boardMac: mac ?? token.boardMac, slotId, kind: 'retest', result, expectedToken });
      this.deps.log?.(`qa: re-test of token #${token.id} in ${slotId}: ${stored.ok ? 'passed' : 'failed'}`);
      return { run: stored, tokenId: token.id };
    });
    return { ok: run.ok, reason: run.reason, history: this.history(this.deps.queue.get(tokenId)) };
  }

  /**
   * Dynamic QA of the board in `slotId` (a dynamic-token product: the plan names a QA network in
   * `testPlan.dynamic`): reset into its app, provision the QA Wi-Fi over Improv, give it a fresh
   * provisioning token and see it online (with a cloud), factory-reset it and confirm it is
   * unconfigured, remove the test device. Stored as a run of kind `dynamic` (no token of ours).
   */
  async dynamic(slotId: string): Promise<QaDynamicResult> {
    const setup = this.deps.plan?.dynamic;
    const run = this.deps.dynamicQa;
    if (!setup || !run) throw stationError('INVALID_INPUT', "This product has no dynamic QA: its test plan names no QA Wi-Fi network (testPlan.dynamic).", true);
    const stored = await this.deps.engine.withIdleBoard(slotId, async (board, _view, mac) => {
      await this.deps.resetToApp?.(board.openPort());
      const result = await run({
        port: board.openPort(),
        wifi: setup.wifi,
        provisionTimeoutMs: setup.provisionTimeoutMs,
        ...(this.deps.dynamicCloud ? { cloud: this.deps.dynamicCloud } : {}),
        ...(this.deps.log ? { log: this.deps.log } : {}),
      });
      return this.deps.testRuns.record({ tokenId: null, boardMac: mac, slotId, kind: 'dynamic', result });
    });
    this.deps.log?.(`qa: dynamic QA in ${slotId}: ${stored.ok ? 'passed' : 'failed'}`);
    return { ok: stored.ok, reason: stored.reason, slotId, run: toQaRun(stored) };
  }

  /** labelled -> shipped, only when the board's latest test run passed. */
  ship(code: string): QaBoardHistory {
    const token = this.resolve(code);
    const blocker = this.shipBlocker(token);
    if (blocker) throw stationError('INVALID_INPUT', blocker, true);
    const latest = this.deps.testRuns.latestForToken(token.id);
    this.deps.queue.advance(token.id, 'shipped', {}, undefined, `shipped after test run #${latest?.id ?? '?'} passed`);
    this.deps.log?.(`qa: token #${token.id} shipped`);
    return this.history(this.deps.queue.get(token.id));
  }

  /** The MAC of the board in a slot that holds no token of ours (a dynamic-token board), if any. */
  private dynamicMacInSlot(slotId: string): string | null {
    const view = this.deps.engine.slotViews().find((v) => v.id === slotId);
    if (!view || tokenOfSlot(view)) return null;
    const board = (view.state as { board?: { mac?: string } }).board;
    return board?.mac ? board.mac.toLowerCase() : null;
  }

  private dynamicHistory(mac: string, runs: TestRunRecord[]): QaBoardHistory {
    const slot = this.deps.engine.slotViews().find((v) => (v.state as { board?: { mac?: string } }).board?.mac?.toLowerCase() === mac);
    const latest = runs[runs.length - 1];
    return {
      token: null,
      dynamicMac: mac,
      label: null,
      audit: [],
      testRuns: runs.map(toQaRun),
      sync: [],
      slotId: slot?.id ?? null,
      canShip: false,
      shipBlocker: `A dynamic-token board holds no token of ours: it ships factory-reset once its latest dynamic QA passed (latest: ${latest?.ok ? 'passed' : 'failed'}).`,
    };
  }

  private resolve(code: string): TokenRecord {
    const trimmed = code.trim();
    if (SLOT_ID.test(trimmed)) {
      const view = this.deps.engine.slotViews().find((v) => v.id === trimmed);
      const ref = view ? tokenOfSlot(view) : null;
      if (!ref) throw stationError('NOT_FOUND', `Slot ${trimmed.replace('slot-', '')} holds no provisioned board.`, true);
      return this.deps.queue.get(ref.id);
    }
    const token = this.deps.queue.findByQrToken(qrTokenOfScan(trimmed));
    if (!token) throw stationError('NOT_FOUND', 'No board of this station carries that label.', true);
    return token;
  }

  private shipBlocker(token: TokenRecord): string | undefined {
    if (token.state === 'shipped') return 'This board is already shipped.';
    if (token.state !== 'labelled') return `This board cannot ship: its token is ${token.state}, not labelled.`;
    const latest = this.deps.testRuns.latestForToken(token.id);
    if (!latest) return 'This board has no test run — re-test it first.';
    if (!latest.ok) return `This board's latest test failed (${latest.reason ?? 'no reason'}) — it cannot ship.`;
    return undefined;
  }

  private history(token: TokenRecord): QaBoardHistory {
    const { db, queue, testRuns } = this.deps;
    const label = db
      .prepare('SELECT sheet_id AS sheetId, position, serial, print_job_id AS printJobId FROM labels WHERE token_id = ?')
      .get(token.id) as { sheetId: string; position: number; serial: string; printJobId: number | null } | undefined;
    const sync = db
      .prepare(`SELECT record_id AS recordId, kind, created_at AS queuedAt, sent_at AS sentAt, attempts FROM outbox WHERE record_id LIKE ? ORDER BY id`)
      .all(`%:${token.id}`) as QaBoardHistory['sync'];
    const slot = this.deps.engine.slotViews().find((v) => tokenOfSlot(v)?.id === token.id);
    const blocker = this.shipBlocker(token);
    return {
      token: {
        id: token.id,
        qrToken: token.qrToken,
        state: token.state,
        boardMac: token.boardMac,
        failureCode: token.failureCode,
        payloadSha256: token.payloadSha256,
        batchId: token.batchId,
        updatedAt: token.updatedAt,
      },
      label: label
        ? { sheetId: label.sheetId, position: label.position, serial: label.serial, printed: label.printJobId !== null }
        : token.labelSheetId !== null && token.labelPosition !== null
          ? { sheetId: token.labelSheetId, position: token.labelPosition, serial: null, printed: false }
          : null,
      audit: queue.auditFor(token.id).map((a) => ({ at: a.at, event: a.event, fromState: a.fromState, toState: a.toState, detail: a.detail })),
      testRuns: testRuns.forToken(token.id).map(toQaRun),
      sync,
      slotId: slot?.id ?? null,
      canShip: blocker === undefined,
      ...(blocker !== undefined && token.state !== 'shipped' ? { shipBlocker: blocker } : {}),
    };
  }
}

function toQaRun(run: TestRunRecord): QaTestRun {
  return {
    id: run.id,
    kind: run.kind,
    ok: run.ok,
    reason: run.reason,
    checks: run.checks,
    log: run.log,
    durationMs: run.durationMs,
    boardMac: run.boardMac,
    slotId: run.slotId,
    at: run.createdAt,
  };
}

/** The token a slot's board holds, in any state that names one. */
function tokenOfSlot(view: SlotView): { id: number; qrToken: string } | null {
  const state = view.state as { token?: { id: number; qrToken: string }; resume?: { token: { id: number; qrToken: string } } };
  return state.token ?? state.resume?.token ?? null;
}
