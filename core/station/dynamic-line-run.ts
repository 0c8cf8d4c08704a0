import type { BoardInfo } from '../../common/board.js';
import { StationError, stationError, toErrorData } from '../../common/errors.js';
import type { FlashProgress, SlotState } from '../../common/slot-state.js';
import type { SelfTestResult } from '../../common/self-test-protocol.js';
import type { FlashJob, FlashOutcome, FlashRegion } from '../../native/flash/esptool-flasher.js';
import type { WebSerialPortLike } from '../../native/serial/web-serial-port.js';
import type { ProductConfig } from '../product/product.js';

/** What the line's dynamic QA gets: the board's console (its app runs: the flash reset it into it). */
export interface DynamicQaJob {
  port: WebSerialPortLike;
  slotId: string;
  mac: string;
}

/** The engine's dependencies for dynamic-token products (product `tokenKind: dynamic`). */
export interface DynamicLineDeps {
  /**
   * Dynamic QA on a freshly flashed board (core/qa/dynamic-line-qa.ts): online with a test
   * provisioning token, then `config erase` and confirmed unconfigured. Never throws for a failed
   * check: the result says which step failed, in one sentence.
   */
  dynamicQa: (job: DynamicQaJob) => Promise<SelfTestResult>;
  /** Keeps the run per board (test_runs, kind `dynamic`, keyed by MAC; no token of ours). */
  recordDynamicRun?: (run: { boardMac: string; slotId: string; result: SelfTestResult }) => void;
  /** Whether this MAC's latest dynamic run passed (the probe then shows the board as done). */
  passedBefore?: (mac: string) => boolean;
}

export interface DynamicRunContext {
  slotId: string;
  slotIndex: number;
  /** What the probe saw. */
  info: BoardInfo;
  /** The MAC the probe read: the flasher refuses another board. */
  expectMac: string | null;
  product: ProductConfig;
  /** The product's shared firmware: bootloader, partition table, app. */
  firmware: FlashRegion[];
  flash: (job: FlashJob) => Promise<FlashOutcome>;
  /** A fresh port on whatever board is attached at this slot now. */
  openPort: () => WebSerialPortLike;
  line: DynamicLineDeps;
  /** Moves the slot (the engine's transition table is the judge). */
  setState: (next: SlotState) => void;
  /** The slot's state now (progress updates apply only while it is flashing). */
  state: () => SlotState;
  log?: (line: string) => void;
}

/** Progress events are rate-limited so eight slots flashing at once do not flood the UI. */
const PROGRESS_MIN_INTERVAL_MS = 100;

/**
 * One board of a dynamic-token product: detected -> flashing (the shared firmware, full plan: every
 * region whose chip MD5 already matches is skipped, every region written is MD5-verified; no token,
 * no per-board payload) -> qa (online with a test provisioning token, factory-reset, confirmed
 * unconfigured) -> done, or failed with one sentence. Nothing is reserved and no label is placed:
 * the board ships unconfigured and gets its token from the customer's phone app. Returns how the
 * run ended; never throws.
 */
export async function runDynamicBoard(ctx: DynamicRunContext): Promise<'done' | 'failed'> {
  const { info, product } = ctx;
  try {
    if (ctx.firmware.length === 0) {
      throw stationError('INVALID_INPUT', `${product.name} has no firmware parts to flash — check its manifest.`, true);
    }
    ctx.setState({ kind: 'flashing', board: info, progress: { phase: 'connecting', bytesDone: 0, bytesTotal: 0, rateBps: 0 } });
    const regions = [...ctx.firmware].sort((a, b) => a.address - b.address);
    let lastProgress = 0;
    const outcome = await ctx.flash({
      port: ctx.openPort(),
      regions,
      baudRate: product.flashBaud,
      expectChip: product.chipFamily,
      ...(ctx.expectMac ? { expectMac: ctx.expectMac } : {}),
      // A board that already holds this firmware byte for byte is verified by MD5, not rewritten.
      skipUnchanged: true,
      ...(ctx.log ? { log: ctx.log } : {}),
      onProgress: (progress: FlashProgress) => {
        const now = Date.now();
        if (now - lastProgress < PROGRESS_MIN_INTERVAL_MS && progress.bytesDone < progress.bytesTotal) return;
        lastProgress = now;
        const state = ctx.state();
        if (state.kind === 'flashing') ctx.setState({ ...state, progress });
      },
    });
    const board: BoardInfo = { ...info, chip: outcome.chip, mac: outcome.mac };
    const written = outcome.regions.map((r) => `${r.name} ${r.skipped ? 'already there' : 'written'} md5 ${r.md5}`).join('; ');
    ctx.log?.(`slot ${ctx.slotIndex}: firmware on ${outcome.mac}: ${written} at ${outcome.baudRate} baud`);

    // The flasher's hard reset left the board in its app: its console answers Improv and Edgent.
    ctx.setState({ kind: 'qa', board });
    const result = await ctx.line.dynamicQa({ port: ctx.openPort(), slotId: ctx.slotId, mac: outcome.mac });
    // Kept whatever its outcome (QA looks boards up by MAC); a failure to store it fails the board.
    ctx.line.recordDynamicRun?.({ boardMac: outcome.mac, slotId: ctx.slotId, result });
    if (!result.ok) throw stationError('QA_FAILED', result.reason ?? 'The board failed dynamic QA — set it aside.', false);
    ctx.setState({ kind: 'done', board });
    ctx.log?.(`slot ${ctx.slotIndex}: ${outcome.mac} passed dynamic QA and is factory-reset`);
    return 'done';
  } catch (err) {
    const error = toErrorData(err);
    if (!(err instanceof StationError)) ctx.log?.(`slot ${ctx.slotIndex}: unexpected error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    const state = ctx.state();
    const board = 'board' in state && state.board ? state.board : info;
    ctx.setState({ kind: 'failed', board, error });
    ctx.log?.(`slot ${ctx.slotIndex}: failed ${error.code}`);
    return 'failed';
  }
}
