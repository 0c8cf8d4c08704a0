import { createHash } from 'node:crypto';
import type { StockView } from '../../common/api.js';
import type { BoardInfo } from '../../common/board.js';
import { StationError, stationError, toErrorData } from '../../common/errors.js';
import { transitionSlot, type LabelRef, type SlotState, type SlotView, type TokenRef } from '../../common/slot-state.js';
import type { SelfTestResult } from '../../common/self-test-protocol.js';
import type { FlashJob, FlashOutcome } from '../../native/flash/esptool-flasher.js';
import type { SelfTestOptions } from '../../native/selftest/self-test-runner.js';
import type { AttachedBoard, BoardWatcher } from '../../native/usb/board-watcher.js';
import type { DeviceRecord } from '../cloud/cloud-client.js';
import type { ProductConfig } from '../product/product.js';
import type { TokenQueue, TokenRecord } from '../queue/token-queue.js';

export interface LabelPlacer {
  /** Queues the label of a board that passed; returns where it sits on the sheet. */
  place(token: TokenRecord, board: BoardInfo, slotIndex: number): Promise<LabelRef>;
}

export interface StationEngineDeps {
  stationId: string;
  product: ProductConfig;
  queue: TokenQueue;
  watcher: BoardWatcher;
  labels: LabelPlacer;
  /** NVS image (or patched firmware) carrying this AuthToken. */
  buildPayload: (authToken: string) => Uint8Array;
  flash: (job: FlashJob) => Promise<FlashOutcome>;
  selfTest: (options: SelfTestOptions) => Promise<SelfTestResult>;
  slotCount: number;
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
  running: boolean;
}

/** Progress events are rate-limited so eight slots flashing at once do not flood the UI. */
const PROGRESS_MIN_INTERVAL_MS = 100;

/**
 * Drives each slot through detected -> flashing -> testing -> labelling -> done. The order of
 * durable steps is the safety argument: the token is reserved (committed) before the first byte goes
 * to the board; `written` only after the chip's MD5 matched; `verified` only after the board proved
 * it holds the token; `labelled` only once its label is on the sheet. Any failure after the
 * reservation burns the token. One slot's failure never touches another slot.
 */
export class StationEngine {
  private readonly slots: Slot[];
  private readonly listeners: { [E in keyof StationEngineEvents]: Set<StationEngineEvents[E]> } = {
    slot: new Set(),
    stock: new Set(),
  };

  constructor(private readonly deps: StationEngineDeps) {
    this.slots = Array.from({ length: deps.slotCount }, (_, i) => ({
      id: `slot-${i + 1}`,
      index: i + 1,
      state: { kind: 'empty' },
      board: null,
      running: false,
    }));
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
    return this.deps.queue.stock();
  }

  /** Provision the board in a slot. Resolves when the run has started; progress comes as events. */
  runSlot(slotId: string): Promise<void> {
    const slot = this.slot(slotId);
    if (slot.running) throw stationError('BUSY', `Slot ${slot.index} is already working on its board.`, true);
    if (slot.state.kind !== 'detected' || !slot.board) {
      throw stationError('INVALID_INPUT', `Slot ${slot.index} has no board waiting — plug a board first.`, true);
    }
    slot.running = true;
    const board = slot.board;
    return this.provision(slot, board).finally(() => {
      slot.running = false;
    });
  }

  /** Operator acknowledged a finished or failed slot: ready for the next board. */
  clearSlot(slotId: string): void {
    const slot = this.slot(slotId);
    if (slot.running) throw stationError('BUSY', `Slot ${slot.index} is still working.`, true);
    if (slot.state.kind !== 'done' && slot.state.kind !== 'failed') return;
    this.setState(slot, slot.board ? { kind: 'detected', board: slot.board.info } : { kind: 'empty' });
  }

  private async provision(slot: Slot, board: AttachedBoard): Promise<void> {
    let reserved: TokenRecord | null = null;
    const info = board.info;
    try {
      const token = this.deps.queue.reserve(slot.id, info.port);
      reserved = token;
      const tokenRef: TokenRef = { id: token.id, qrToken: token.qrToken };
      this.emitStock();
      this.setState(slot, {
        kind: 'flashing',
        board: info,
        token: tokenRef,
        progress: { phase: 'connecting', bytesDone: 0, bytesTotal: 0, rateBps: 0 },
      });
      const payload = this.deps.buildPayload(token.authToken);
      const payloadSha256 = createHash('sha256').update(payload).digest('hex');
      let lastProgress = 0;
      const outcome = await this.deps.flash({
        port: board.openPort(),
        regions: [{ name: 'nvs', address: this.deps.product.nvs.offset, data: payload }],
        baudRate: this.deps.product.flashBaud,
        expectChip: this.deps.product.chipFamily,
        onProgress: (progress) => {
          const now = Date.now();
          if (now - lastProgress < PROGRESS_MIN_INTERVAL_MS && progress.bytesDone < progress.bytesTotal) return;
          lastProgress = now;
          if (slot.state.kind === 'flashing') this.setState(slot, { ...slot.state, progress });
        },
      });
      const boardInfo: BoardInfo = { ...info, chip: outcome.chip, mac: outcome.mac };
      this.deps.queue.advance(token.id, 'written', { boardMac: outcome.mac, payloadSha256 }, undefined, `nvs md5 ${outcome.regions[0]?.md5 ?? ''}`);
      this.setState(slot, { kind: 'testing', board: boardInfo, token: tokenRef });

      const result = await this.deps.selfTest({ port: board.openPort(), expectedToken: token.authToken });
      if (!result.ok) {
        throw stationError('SELFTEST_FAILED', result.reason ?? 'The board failed its self-test.', false);
      }
      const verified = this.deps.queue.advance(token.id, 'verified', {}, undefined, `selftest ${result.checks.length} checks in ${result.durationMs} ms`);
      this.setState(slot, { kind: 'labelling', board: boardInfo, token: tokenRef });

      const label = await this.deps.labels.place(verified, boardInfo, slot.index);
      this.deps.queue.advance(
        token.id,
        'labelled',
        { labelSheetId: label.sheetId, labelPosition: label.position },
        {
          recordId: `${this.deps.stationId}:${token.id}`,
          kind: 'device-record',
          payload: {
            recordId: `${this.deps.stationId}:${token.id}`,
            qrToken: token.qrToken,
            mac: outcome.mac,
            chip: outcome.chip,
            stationId: this.deps.stationId,
            result: 'passed',
            payloadSha256,
            firmwareVersion: firmwareVersionOf(result),
            labelRef: label,
            completedAt: Date.now(),
          } satisfies DeviceRecord,
        },
      );
      this.setState(slot, { kind: 'done', board: boardInfo, token: tokenRef, label });
      this.deps.log?.(`slot ${slot.index}: token #${token.id} provisioned on ${outcome.mac}`);
    } catch (err) {
      const error = toErrorData(err);
      if (!(err instanceof StationError)) this.deps.log?.(`slot ${slot.index}: unexpected error: ${describe(err)}`);
      if (reserved) {
        // The token may have reached the board: burn it, never hand it out again.
        try {
          this.deps.queue.burn(reserved.id, error.code, error.message);
        } catch (burnErr) {
          this.deps.log?.(`slot ${slot.index}: could not burn token #${reserved.id}: ${describe(burnErr)}`);
        }
      }
      const failed: SlotState = { kind: 'failed', board: info, error };
      if (reserved) failed.token = { id: reserved.id, qrToken: reserved.qrToken };
      this.setState(slot, failed);
      this.deps.log?.(`slot ${slot.index}: failed ${error.code}`);
    } finally {
      this.emitStock();
    }
  }

  private onAttach(board: AttachedBoard): void {
    const slot = this.slots.find((s) => s.id === board.location) ?? this.slots.find((s) => s.state.kind === 'empty' && !s.board);
    if (!slot) {
      this.deps.log?.(`board on ${board.info.port} has no free slot`);
      return;
    }
    slot.board = board;
    if (slot.state.kind === 'empty' || slot.state.kind === 'done' || slot.state.kind === 'failed') {
      this.setState(slot, { kind: 'detected', board: board.info });
    }
  }

  private onDetach(location: string): void {
    const slot = this.slots.find((s) => s.board?.location === location);
    if (!slot) return;
    slot.board = null;
    // A running provision notices the pulled cable through its own I/O errors and fails the slot;
    // an idle slot just empties.
    if (!slot.running) this.setState(slot, { kind: 'empty' });
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
