import { createHash } from 'node:crypto';
import type { StockView } from '../../common/api.js';
import type { BoardInfo } from '../../common/board.js';
import { StationError, stationError, toErrorData } from '../../common/errors.js';
import { transitionSlot, type LabelRef, type ResumeOffer, type SlotState, type SlotView, type TokenRef } from '../../common/slot-state.js';
import type { SelfTestResult } from '../../common/self-test-protocol.js';
import type { CheckResult, SelfTestPlan } from '../../common/self-test-plan.js';
import type { TokenState } from '../../common/token-state.js';
import type { FlashJob, FlashOutcome, FlashRegion } from '../../native/flash/esptool-flasher.js';
import type { ProbeJob, ProbeOutcome } from '../../native/flash/probe-board.js';
import type { SelfTestOptions } from '../../native/selftest/self-test-runner.js';
import type { AttachedBoard, BoardWatcher } from '../../native/usb/board-watcher.js';
import type { DeviceRecord } from '../cloud/cloud-client.js';
import type { ProductConfig } from '../product/product.js';
import { withExtraCheck, type CloudCheckJob } from '../qa/cloud-check.js';
import { flashOnlyProof } from './flash-proof.js';
import { runDynamicBoard, type DynamicLineDeps } from './dynamic-line-run.js';
import type { TokenQueue, TokenRecord } from '../queue/token-queue.js';

/** Where a label went, and the exact string its QR code carries (what a scan must read back). */
export interface PlacedLabel extends LabelRef {
  qrPayload: string;
}

export interface LabelPlacer {
  /** Queues the label of a board that passed; returns where it sits on the sheet. */
  place(token: TokenRecord, board: BoardInfo, slotIndex: number): Promise<PlacedLabel>;
}

export interface StationEngineDeps {
  stationId: string;
  product: ProductConfig;
  queue: TokenQueue;
  watcher: BoardWatcher;
  labels: LabelPlacer;
  /** The per-board regions (NVS image, or the patched app) for this token. Deterministic per token. */
  buildPayload: (token: { authToken: string; qrToken: string }) => FlashRegion[];
  /** The shared firmware (bootloader, partition table, app), written too when the plan is `full`. */
  firmwareRegions?: FlashRegion[];
  /** The AuthToken a board's NVS partition holds, read the way the product's firmware reads it. */
  readToken: (nvs: Uint8Array) => string | undefined;
  probe: (job: ProbeJob) => Promise<ProbeOutcome>;
  flash: (job: FlashJob) => Promise<FlashOutcome>;
  selfTest: (options: SelfTestOptions) => Promise<SelfTestResult>;
  /** The product's test plan (checks, limits, timeouts); default: the token proof only. */
  testPlan?: SelfTestPlan;
  /**
   * The cloud check of a static-token product (manifest `flashline.cloudCheck`), run after the
   * self-test passed; its check is added to the run. Absent, or null for the product: no cloud check.
   */
  cloudCheck?: (job: CloudCheckJob) => Promise<CheckResult | null>;
  /**
   * Why the line's product cannot be provisioned with a token here (a dynamic-token product gets
   * none at the factory: QA's dynamic run instead), or null. Read at each run.
   */
  provisionRefusal?: () => string | null;
  /**
   * Dynamic-token products (product `tokenKind: dynamic`): firmware, dynamic QA, factory reset, no
   * token and no label (core/station/dynamic-line-run.ts). Absent: such a product is refused.
   */
  dynamicLine?: DynamicLineDeps;
  /** Where each self-test run is kept per board (checks, values, redacted serial log). */
  recordTestRun?: (run: { tokenId: number; boardMac: string; slotId: string; result: SelfTestResult; expectedToken: string }) => void;
  slotCount: number;
  /** Port path -> slot id from earlier runs, and where to record new ones. */
  slotAssignments?: Record<string, string>;
  /** Provision every fresh board as soon as its probe passed (plug -> … -> label, no click). */
  autoRun?: boolean;
  /** Warn below this many available tokens (a supervisor's setting); default from the slot count. */
  lowStockThreshold?: number | null;
  /**
   * After a restart, tokens left mid-job (the station was killed or lost power) wait this long for
   * their board to be plugged back and resumed; then they are burned (never reused). Default 10 min.
   */
  interruptedGraceMs?: number;
  onSlotAssigned?: (location: string, slotId: string) => void;
  /** Station log; lines never carry an AuthToken. */
  log?: (line: string) => void;
}

export interface StationEngineEvents {
  slot: (slot: SlotView) => void;
  stock: (stock: StockView) => void;
}

interface Slot {
  id: string;
  index: number;
  state: SlotState;
  board: AttachedBoard | null;
  /** What the probe saw; the flash refuses a board with another MAC. */
  mac: string | null;
  running: boolean;
  /** Bumped on every attach/detach, so a probe that finishes late for a pulled board is ignored. */
  generation: number;
  /** While awaiting scan-back: what the label's QR must read, and the record to send on confirm. */
  pendingScan: { qrPayload: string; record: DeviceRecord; since: number } | null;
}

/** How long tokens left mid-job by a crash wait for their board before they are burned. */
const INTERRUPTED_GRACE_MS = 10 * 60_000;

/** The low-stock warning fires below max(LOW_STOCK_MIN_TOKENS, slots × LOW_STOCK_ROUNDS) tokens. */
const LOW_STOCK_MIN_TOKENS = 20;
const LOW_STOCK_ROUNDS = 5;

/** Progress events are rate-limited so eight slots flashing at once do not flood the UI. */
const PROGRESS_MIN_INTERVAL_MS = 100;

/** Token states from which a re-plugged board is resumed with the same token. */
const RESUMABLE: readonly TokenState[] = ['reserved', 'written', 'verified'];
const ORDER: readonly TokenState[] = ['available', 'reserved', 'written', 'verified', 'labelled', 'shipped'];

/**
 * Drives each slot: probing -> detected -> flashing -> testing -> labelling -> done. The order of
 * durable steps is the safety argument: the probe reads the board before any token is touched (a
 * board that already holds one of ours is resumed, never given a second); a new token is reserved
 * (committed) before the first byte goes to the board; `written` only after the chip's MD5
 * matched; `verified` only after the board proved it holds the token; `labelled` only once its
 * label is on the sheet. Any failure after the reservation burns the token. One slot's failure
 * never touches another slot.
 */
export class StationEngine {
  private readonly slots: Slot[];
  private readonly startedAt = new Date().toISOString();
  private readonly interruptedAtStart: Set<number>;
  private interruptedTimer: ReturnType<typeof setTimeout> | null = null;
  /** Dynamic-token boards this shift (they use no token, so the queue cannot count them). */
  private readonly dynamicShift = { done: 0, failed: 0 };
  /** Physical port path -> slot id. */
  private readonly locations: Map<string, string>;
  private readonly listeners: { [E in keyof StationEngineEvents]: Set<StationEngineEvents[E]> } = {
    slot: new Set(),
    stock: new Set(),
  };

  constructor(private readonly deps: StationEngineDeps) {
    this.locations = new Map(Object.entries(deps.slotAssignments ?? {}));
    this.slots = Array.from({ length: deps.slotCount }, (_, i) => ({
      id: `slot-${i + 1}`,
      index: i + 1,
      state: { kind: 'empty' },
      board: null,
      mac: null,
      running: false,
      generation: 0,
      pendingScan: null,
    }));
    // Tokens that were mid-job when the station last stopped: a board re-plugged within the grace
    // time resumes its own token (probe); the rest are burned, so the stock stays honest.
    this.interruptedAtStart = new Set(deps.queue.interrupted().map((t) => t.id));
    if (this.interruptedAtStart.size > 0) {
      deps.log?.(`${this.interruptedAtStart.size} token(s) were mid-job when the station stopped: waiting for their boards to resume`);
      this.interruptedTimer = setTimeout(() => this.burnInterrupted(), deps.interruptedGraceMs ?? INTERRUPTED_GRACE_MS);
      this.interruptedTimer.unref?.();
    }
    deps.watcher.on('attach', (board) => this.onAttach(board));
    deps.watcher.on('detach', (location) => this.onDetach(location));
    for (const board of deps.watcher.attached()) this.onAttach(board);
  }

  on<E extends keyof StationEngineEvents>(event: E, listener: StationEngineEvents[E]): () => void {
    (this.listeners[event] as Set<StationEngineEvents[E]>).add(listener);
    return () => (this.listeners[event] as Set<StationEngineEvents[E]>).delete(listener);
  }

  slotViews(): SlotView[] {
    return this.slots.map((s) => this.view(s));
  }

  stock(): StockView {
    const { queue } = this.deps;
    const shift = {
      since: this.startedAt,
      done: queue.countReachedSince('labelled', this.startedAt) + this.dynamicShift.done,
      failed: queue.countReachedSince('failed', this.startedAt) + this.dynamicShift.failed,
    };
    // A dynamic-token product uses no tokens: no low-stock warning while it is on the line.
    if (this.deps.product.tokenKind === 'dynamic') return { ...queue.stock(), shift };
    return {
      ...queue.stock(),
      shift,
      // Enough for a few rounds of every slot: time to pull a batch before the line stops.
      lowStockAt: this.deps.lowStockThreshold ?? Math.max(LOW_STOCK_MIN_TOKENS, this.slots.length * LOW_STOCK_ROUNDS),
    };
  }

  /** Provision (or resume) the board in a slot. Resolves when the run is over; progress comes as events. */
  runSlot(slotId: string): Promise<void> {
    const slot = this.slot(slotId);
    if (slot.running) throw stationError('BUSY', `Slot ${slot.index} is already working on its board.`, true);
    if (slot.state.kind === 'probing') throw stationError('BUSY', `Slot ${slot.index} is still checking its board.`, true);
    if (slot.state.kind !== 'detected' || !slot.board) {
      throw stationError('INVALID_INPUT', `Slot ${slot.index} has no board waiting — plug a board first.`, true);
    }
    const refused = this.deps.provisionRefusal?.();
    if (refused) throw stationError('INVALID_INPUT', refused, true);
    slot.running = true;
    const board = slot.board;
    const resume = slot.state.resume;
    // The product is read per board: a supervisor may switch it between boards (Settings).
    if (this.deps.product.tokenKind === 'dynamic') {
      return this.provisionDynamic(slot, board).finally(() => {
        slot.running = false;
      });
    }
    return this.provision(slot, board, resume).finally(() => {
      slot.running = false;
    });
  }

  /**
   * QA: lend the board in an idle slot to `use` (a re-test), holding the slot busy meanwhile so no
   * provisioning run starts on it. The slot's state is not changed.
   */
  async withIdleBoard<T>(slotId: string, use: (board: AttachedBoard, view: SlotView, mac: string | null) => Promise<T>): Promise<T> {
    const slot = this.slot(slotId);
    if (slot.running || slot.state.kind === 'probing') throw stationError('BUSY', `Slot ${slot.index} is busy with its board — wait until it is idle.`, true);
    if (!slot.board) throw stationError('INVALID_INPUT', `Slot ${slot.index} has no board — plug the board in first.`, true);
    slot.running = true;
    try {
      return await use(slot.board, this.view(slot), slot.mac);
    } finally {
      slot.running = false;
    }
  }

  /** Operator acknowledged a finished or failed slot: check the board again for the next run. */
  clearSlot(slotId: string): void {
    const slot = this.slot(slotId);
    if (slot.running) throw stationError('BUSY', `Slot ${slot.index} is still working.`, true);
    if (slot.state.kind === 'awaiting-scan') throw stationError('BUSY', `Slot ${slot.index} waits for its label to be scanned.`, true);
    if (slot.state.kind !== 'done' && slot.state.kind !== 'failed') return;
    if (slot.board) void this.probe(slot, slot.board);
    else this.setState(slot, { kind: 'empty' });
  }

  /**
   * Burns the tokens left mid-job by the last stop whose board did not come back: not in any slot's
   * current work, still where the crash left them. Returns how many.
   */
  burnInterrupted(): number {
    this.interruptedTimer = null;
    const busy = new Set<number>();
    for (const slot of this.slots) {
      const state = slot.state;
      if ('token' in state && state.token) busy.add(state.token.id);
      if (state.kind === 'detected' && state.resume) busy.add(state.resume.token.id);
    }
    let burned = 0;
    for (const token of this.deps.queue.interrupted()) {
      if (!this.interruptedAtStart.has(token.id) || busy.has(token.id)) continue;
      this.deps.queue.burn(token.id, 'INTERRUPTED', 'mid-job when the station stopped; its board did not come back');
      burned += 1;
    }
    if (burned > 0) {
      this.deps.log?.(`burned ${burned} token(s) left mid-job by the last stop`);
      this.emitStock();
    }
    return burned;
  }

  /** Stops timers (station shutdown). */
  dispose(): void {
    if (this.interruptedTimer) clearTimeout(this.interruptedTimer);
    this.interruptedTimer = null;
  }

  /** Waits until no slot is probing or running (tests, orderly shutdown). */
  async idle(): Promise<void> {
    while (this.slots.some((s) => s.running || s.state.kind === 'probing')) await new Promise((r) => setTimeout(r, 20));
  }

  private async probe(slot: Slot, board: AttachedBoard): Promise<void> {
    const generation = slot.generation;
    const current = (): boolean => slot.generation === generation && slot.board === board;
    this.setState(slot, { kind: 'probing', board: board.info });
    try {
      const outcome = await this.deps.probe({
        port: board.openPort(),
        baudRate: this.deps.product.flashBaud,
        nvs: this.deps.product.nvs,
        ...(this.deps.log ? { log: this.deps.log } : {}),
      });
      if (!current()) return;
      const info: BoardInfo = {
        ...board.info,
        chip: outcome.identity.description,
        mac: outcome.identity.mac,
        ...(outcome.identity.flashSizeBytes ? { flashSizeBytes: outcome.identity.flashSizeBytes } : {}),
      };
      slot.mac = outcome.identity.mac;
      if (outcome.identity.chipFamily !== this.deps.product.chipFamily) {
        throw stationError(
          'BOARD_UNSUPPORTED',
          `This board is an ${outcome.identity.chipFamily}, the product needs an ${this.deps.product.chipFamily} — take it off the line.`,
          true,
        );
      }
      // A dynamic-token product's boards hold none of our tokens: nothing to resume. One whose latest
      // line run passed (by MAC) shows as done, like a labelled board, so a re-check (or auto-run)
      // does not flash and test it again; QA's Dynamic QA can still re-test it.
      if (this.deps.product.tokenKind === 'dynamic' && this.deps.dynamicLine?.passedBefore?.(info.mac ?? '')) {
        this.deps.log?.(`slot ${slot.index}: board ${info.mac} already passed dynamic QA`);
        this.setState(slot, { kind: 'done', board: info });
        return;
      }
      const held = this.deps.product.tokenKind === 'dynamic' ? undefined : this.deps.readToken(outcome.nvs);
      const token = held ? this.deps.queue.findByAuthToken(held) : null;
      if (token && (token.state === 'labelled' || token.state === 'shipped') && token.labelSheetId !== null && token.labelPosition !== null) {
        this.deps.log?.(`slot ${slot.index}: board ${info.mac} already holds labelled token #${token.id}`);
        this.setState(slot, { kind: 'done', board: info, token: { id: token.id, qrToken: token.qrToken }, label: { sheetId: token.labelSheetId, position: token.labelPosition } });
        return;
      }
      if (token && RESUMABLE.includes(token.state)) {
        this.deps.log?.(`slot ${slot.index}: board ${info.mac} holds token #${token.id} (${token.state}): offering resume`);
        this.setState(slot, { kind: 'detected', board: info, resume: { token: { id: token.id, qrToken: token.qrToken }, tokenState: token.state } });
        return;
      }
      this.setState(slot, { kind: 'detected', board: info });
      // Hands-free line: a fresh board starts as soon as it is checked. A resumable board waits for
      // the operator (it holds a token already: a person decides).
      if (this.deps.autoRun) this.runSlot(slot.id).catch((err: unknown) => this.deps.log?.(`slot ${slot.index}: auto-run did not start: ${String(err)}`));
    } catch (err) {
      if (!current()) return;
      this.setState(slot, { kind: 'failed', board: board.info, error: toErrorData(err) });
    }
  }

  private async provision(slot: Slot, board: AttachedBoard, resume: ResumeOffer | undefined): Promise<void> {
    let token: TokenRecord | null = null;
    const info = slot.state.kind === 'detected' ? slot.state.board : board.info;
    try {
      let authToken: string;
      if (resume) {
        token = this.deps.queue.get(resume.token.id);
        if (!RESUMABLE.includes(token.state)) throw stationError('ILLEGAL_TRANSITION', `Token …${resume.token.qrToken.slice(-6)} can no longer be resumed — clear the slot.`, true);
        authToken = this.deps.queue.authTokenOf(token.id);
        this.deps.log?.(`slot ${slot.index}: resuming token #${token.id} from ${token.state}`);
      } else {
        const reserved = this.deps.queue.reserve(slot.id, info.port);
        authToken = reserved.authToken;
        token = reserved;
      }
      const tokenId = token.id;
      const tokenRef: TokenRef = { id: token.id, qrToken: token.qrToken };
      this.emitStock();
      this.setState(slot, { kind: 'flashing', board: info, token: tokenRef, progress: { phase: 'connecting', bytesDone: 0, bytesTotal: 0, rateBps: 0 } });
      const payload = this.deps.buildPayload({ authToken, qrToken: token.qrToken });
      const hash = createHash('sha256');
      for (const region of payload) hash.update(region.data);
      const payloadSha256 = hash.digest('hex');
      const firmware = this.deps.product.plan === 'full' ? (this.deps.firmwareRegions ?? []).filter((f) => !payload.some((p) => p.address === f.address)) : [];
      const regions = [...firmware, ...payload].sort((a, b) => a.address - b.address);
      let lastProgress = 0;
      const outcome = await this.deps.flash({
        port: board.openPort(),
        regions,
        baudRate: this.deps.product.flashBaud,
        expectChip: this.deps.product.chipFamily,
        ...(slot.mac ? { expectMac: slot.mac } : {}),
        // Whatever the chip already holds byte for byte (pre-flashed firmware, a resumed board's
        // payload) is verified by MD5 instead of rewritten.
        skipUnchanged: true,
        ...(this.deps.log ? { log: this.deps.log } : {}),
        onProgress: (progress) => {
          const now = Date.now();
          if (now - lastProgress < PROGRESS_MIN_INTERVAL_MS && progress.bytesDone < progress.bytesTotal) return;
          lastProgress = now;
          if (slot.state.kind === 'flashing') this.setState(slot, { ...slot.state, progress });
        },
      });
      const boardInfo: BoardInfo = { ...info, chip: outcome.chip, mac: outcome.mac };
      const written = outcome.regions.map((r) => `${r.name} ${r.skipped ? 'already there' : 'written'} md5 ${r.md5}`).join('; ');
      this.advanceTo(tokenId, 'written', { boardMac: outcome.mac, payloadSha256 }, `${written} at ${outcome.baudRate} baud${outcome.retries.length ? `, ${outcome.retries.length} retries` : ''}`);
      this.setState(slot, { kind: 'testing', board: boardInfo, token: tokenRef });

      // A product without the console (`selfTest: false`) is proven by the chip's MD5 of every
      // payload region (core/station/flash-proof.ts); otherwise the board answers its self-test.
      // The board reset into its app: a native-USB board may have re-enumerated under a new tty
      // name meanwhile, so open whatever is attached at this slot's port now.
      let result =
        this.deps.testPlan?.selfTest === false
          ? flashOnlyProof(payload, outcome)
          : await this.deps.selfTest({
              port: (slot.board ?? board).openPort(),
              expectedToken: authToken,
              ...(this.deps.testPlan ? { plan: this.deps.testPlan } : {}),
            });
      // Static-token products with a cloud check: the board must show up online, unclaimed, in the
      // maker's organisation before its label is placed (core/qa/cloud-check.ts).
      const cloud = result.ok && this.deps.cloudCheck ? await this.deps.cloudCheck({ authToken, qrToken: token.qrToken, orgId: this.deps.product.orgId }) : null;
      if (cloud) result = withExtraCheck(result, cloud);
      // The run is kept whatever its outcome (QA reads it back); a failure to store it fails the board.
      this.deps.recordTestRun?.({ tokenId, boardMac: outcome.mac, slotId: slot.id, result, expectedToken: authToken });
      if (!result.ok) throw stationError('SELFTEST_FAILED', result.reason ?? 'The board failed its self-test.', false);
      const proof = this.deps.testPlan?.selfTest === false ? 'chip MD5 only (no self-test in the plan)' : `selftest ${result.checks.length} checks`;
      const verified = this.advanceTo(tokenId, 'verified', {}, `${proof}${cloud ? `, cloud ${String(cloud.value ?? 'checked')}` : ''} in ${result.durationMs} ms`);
      this.setState(slot, { kind: 'labelling', board: boardInfo, token: tokenRef });

      const placed = await this.deps.labels.place(verified, boardInfo, slot.index);
      const label: LabelRef = { sheetId: placed.sheetId, position: placed.position };
      const record: DeviceRecord = {
        recordId: `${this.deps.stationId}:${tokenId}`,
        qrToken: tokenRef.qrToken,
        mac: outcome.mac,
        chip: outcome.chip,
        stationId: this.deps.stationId,
        result: 'passed',
        payloadSha256,
        firmwareVersion: firmwareVersionOf(result),
        labelRef: label,
        completedAt: Date.now(),
      };
      if (this.deps.product.scanBack) {
        // The token stays `verified` until the operator scans this very label back.
        slot.pendingScan = { qrPayload: placed.qrPayload, record, since: Date.now() };
        this.setState(slot, { kind: 'awaiting-scan', board: boardInfo, token: tokenRef, label });
        this.deps.log?.(`slot ${slot.index}: token #${tokenId} passed; label ${label.sheetId}#${label.position + 1} waits for its scan`);
        return;
      }
      this.completeLabel(tokenId, record);
      this.setState(slot, { kind: 'done', board: boardInfo, token: tokenRef, label });
      this.deps.log?.(`slot ${slot.index}: token #${tokenId} provisioned on ${outcome.mac}`);
    } catch (err) {
      const error = toErrorData(err);
      if (!(err instanceof StationError)) this.deps.log?.(`slot ${slot.index}: unexpected error: ${describe(err)}`);
      if (token) {
        // The token may have reached the board: burn it, never hand it out again.
        try {
          this.deps.queue.burn(token.id, error.code, error.message);
        } catch (burnErr) {
          this.deps.log?.(`slot ${slot.index}: could not burn token #${token.id}: ${describe(burnErr)}`);
        }
      }
      const failed: SlotState = { kind: 'failed', board: info, error };
      if (token) failed.token = { id: token.id, qrToken: token.qrToken };
      this.setState(slot, failed);
      this.deps.log?.(`slot ${slot.index}: failed ${error.code}`);
    } finally {
      this.emitStock();
    }
  }

  /** A dynamic-token board: shared firmware, dynamic QA, factory reset; no token, no label. */
  private async provisionDynamic(slot: Slot, board: AttachedBoard): Promise<void> {
    const line = this.deps.dynamicLine;
    const info = slot.state.kind === 'detected' ? slot.state.board : board.info;
    if (!line) {
      this.setState(slot, { kind: 'failed', board: info, error: toErrorData(stationError('INVALID_INPUT', `${this.deps.product.name} is a dynamic-token product and this station has no dynamic QA set up.`, true)) });
      return;
    }
    const ended = await runDynamicBoard({
      slotId: slot.id,
      slotIndex: slot.index,
      info,
      expectMac: slot.mac,
      product: { ...this.deps.product },
      firmware: this.deps.firmwareRegions ?? [],
      flash: this.deps.flash,
      // After the flash's reset a native-USB board may have re-enumerated: open what is attached now.
      openPort: () => (slot.board ?? board).openPort(),
      line,
      setState: (next) => this.setState(slot, next),
      state: () => slot.state,
      ...(this.deps.log ? { log: this.deps.log } : {}),
    });
    this.dynamicShift[ended] += 1;
    this.emitStock();
  }

  /**
   * Scan-back. A scan without a slot goes to the slot that has waited longest. The slot is
   * confirmed only by the exact QR payload of its own label; anything else is recorded as a
   * mismatch and keeps the slot blocked (a swapped label is a support ticket and a security hole).
   */
  scanLabel(payload: string, slotId?: string): { confirmed: boolean; slotId: string } {
    const waiting = this.slots.filter((s) => s.state.kind === 'awaiting-scan' && s.pendingScan);
    const slot = slotId ? this.slot(slotId) : waiting.sort((a, b) => (a.pendingScan?.since ?? 0) - (b.pendingScan?.since ?? 0))[0];
    if (!slot || slot.state.kind !== 'awaiting-scan' || !slot.pendingScan) {
      throw stationError('INVALID_INPUT', slotId ? `Slot ${slotId.replace('slot-', '')} is not waiting for a label scan.` : 'No slot is waiting for a label scan.', true);
    }
    const state = slot.state;
    const scanned = payload.trim();
    if (scanned !== slot.pendingScan.qrPayload) {
      const other = this.slots.find((s) => s !== slot && s.pendingScan?.qrPayload === scanned);
      const otherToken = other && other.state.kind === 'awaiting-scan' ? other.state.token.qrToken : null;
      this.deps.log?.(`slot ${slot.index}: wrong label scanned${other ? ` (it belongs to slot ${other.index})` : ''}`);
      this.setState(slot, { ...state, mismatch: { scannedShort: otherToken ? otherToken.slice(-6) : null, at: new Date().toISOString() } });
      return { confirmed: false, slotId: slot.id };
    }
    this.completeLabel(state.token.id, slot.pendingScan.record);
    slot.pendingScan = null;
    this.setState(slot, { kind: 'done', board: state.board, token: state.token, label: state.label });
    this.deps.log?.(`slot ${slot.index}: label scanned back for token #${state.token.id}`);
    this.emitStock();
    return { confirmed: true, slotId: slot.id };
  }

  /** `labelled` and the device record for the cloud, in one transaction. */
  private completeLabel(tokenId: number, record: DeviceRecord): void {
    const label = record.labelRef;
    this.deps.queue.advance(
      tokenId,
      'labelled',
      label ? { labelSheetId: label.sheetId, labelPosition: label.position } : {},
      { recordId: record.recordId, kind: 'device-record', payload: record },
    );
  }

  /** Moves a token forward to `to` unless a resumed token is already there or past it. */
  private advanceTo(id: number, to: TokenState, changes: Parameters<TokenQueue['advance']>[2], detail: string): TokenRecord {
    const current = this.deps.queue.get(id);
    if (ORDER.indexOf(current.state) >= ORDER.indexOf(to)) return current;
    return this.deps.queue.advance(id, to, changes, undefined, detail);
  }

  private onAttach(board: AttachedBoard): void {
    const slot = this.slotForLocation(board.location);
    if (!slot) {
      this.deps.log?.(`board on ${board.info.port} has no free slot`);
      return;
    }
    slot.board = board;
    slot.mac = null;
    slot.generation += 1;
    // The next board waits until the previous one's label was scanned back.
    if (!slot.running && slot.state.kind !== 'awaiting-scan') void this.probe(slot, board);
  }

  private onDetach(location: string): void {
    const slot = this.slots.find((s) => s.board?.location === location);
    if (!slot) return;
    slot.board = null;
    slot.mac = null;
    slot.generation += 1;
    // A running provision notices the pulled cable through its own I/O errors and fails the slot.
    // A slot waiting for its label scan keeps waiting: the board is taken off to be labelled.
    // Any other idle slot empties.
    if (!slot.running && slot.state.kind !== 'empty' && slot.state.kind !== 'awaiting-scan') this.setState(slot, { kind: 'empty' });
  }

  /**
   * Each physical port is a fixed fixture position: the first board seen on a port takes the first
   * free slot, and that port keeps mapping to it (a re-plug, or a native-USB board re-enumerating
   * during its reset, lands in the same slot).
   */
  private slotForLocation(location: string): Slot | undefined {
    const byId = this.slots.find((s) => s.id === location);
    if (byId) return byId;
    const assigned = this.locations.get(location);
    if (assigned) return this.slots.find((s) => s.id === assigned);
    const free = this.slots.find((s) => s.state.kind === 'empty' && !s.board && ![...this.locations.values()].includes(s.id));
    if (free) {
      this.locations.set(location, free.id);
      this.deps.onSlotAssigned?.(location, free.id);
    }
    return free;
  }

  private slot(slotId: string): Slot {
    const slot = this.slots.find((s) => s.id === slotId);
    if (!slot) throw stationError('NOT_FOUND', `There is no slot called "${slotId}".`, true);
    return slot;
  }

  private setState(slot: Slot, next: SlotState): void {
    slot.state = transitionSlot(slot.state, next);
    const view = this.view(slot);
    for (const listener of this.listeners.slot) listener(view);
  }

  private emitStock(): void {
    const stock = this.stock();
    for (const listener of this.listeners.stock) listener(stock);
  }

  private view(slot: Slot): SlotView {
    return { id: slot.id, index: slot.index, state: slot.state };
  }
}

function firmwareVersionOf(result: SelfTestResult): string | null {
  const fw = result.checks.find((c) => c.check === 'fw')?.value;
  return fw === undefined ? null : String(fw);
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
