import type { BoardInfo } from './board.js';
import type { StationErrorData } from './errors.js';
import type { TokenState } from './token-state.js';

/**
 * One fixture position. The UI renders nothing but these states; the station engine is the only
 * writer and moves a slot only along SLOT_TRANSITIONS (same shape as the token table).
 */
export interface TokenRef {
  /** Row id in the station's queue. */
  id: number;
  /** The claim code printed on the label (`sqr_…`). Not secret. */
  qrToken: string;
}

export interface FlashProgress {
  phase: 'connecting' | 'uploading-stub' | 'writing' | 'verifying';
  bytesDone: number;
  bytesTotal: number;
  /** Bytes per second over the link in the current phase. */
  rateBps: number;
}

export interface LabelRef {
  /** Sheet id and 0-based position on it. */
  sheetId: string;
  position: number;
}

/** A board that already holds one of our tokens (re-plugged after a cable pull or a crash). */
export interface ResumeOffer {
  token: TokenRef;
  tokenState: TokenState;
}

export interface ScanMismatch {
  /** The short code of the label that was scanned instead, when it is one of ours; else null. */
  scannedShort: string | null;
  at: string;
}

export type SlotState =
  | { kind: 'empty' }
  /** Reading the board's chip, MAC, flash size and NVS through its bootloader; no token touched. */
  | { kind: 'probing'; board: BoardInfo }
  /** Ready to provision; `resume` when it already holds a token of ours (Provision resumes it). */
  | { kind: 'detected'; board: BoardInfo; resume?: ResumeOffer }
  /** `token` absent: a dynamic-token product's shared firmware is written (no token, no payload). */
  | { kind: 'flashing'; board: BoardInfo; token?: TokenRef; progress: FlashProgress }
  | { kind: 'testing'; board: BoardInfo; token: TokenRef }
  /**
   * Dynamic-token products only: the freshly flashed board comes online with a test provisioning
   * token, then is factory-reset and confirmed unconfigured (core/qa/dynamic-qa.ts).
   */
  | { kind: 'qa'; board: BoardInfo }
  | { kind: 'labelling'; board: BoardInfo; token: TokenRef }
  /**
   * Scan-back: the label is on the sheet; the operator sticks it on and scans it, and only a scan
   * of this board's own label makes the token `labelled`. `mismatch` after a wrong scan: the slot
   * stays blocked until the right label is scanned.
   */
  | { kind: 'awaiting-scan'; board: BoardInfo; token: TokenRef; label: LabelRef; mismatch?: ScanMismatch }
  /**
   * A static-token board: its token and label. A dynamic-token board: neither (it ships
   * unconfigured; the customer's phone app gives it its token) — `token` and `label` both absent.
   */
  | { kind: 'done'; board: BoardInfo; token?: TokenRef; label?: LabelRef }
  | { kind: 'failed'; board?: BoardInfo; token?: TokenRef; error: StationErrorData };

export type SlotKind = SlotState['kind'];

export const SLOT_TRANSITIONS: Readonly<Record<SlotKind, readonly SlotKind[]>> = {
  empty: ['probing', 'detected'],
  // probing -> done: the board already holds a labelled token of ours.
  probing: ['detected', 'done', 'failed', 'empty'],
  // detected -> testing: resuming a board whose token was already written and verified by MD5.
  detected: ['flashing', 'testing', 'probing', 'failed', 'empty'],
  // flashing -> flashing carries progress updates.
  // flashing -> qa: a dynamic-token product's firmware is on the board (no token, no label).
  flashing: ['flashing', 'testing', 'qa', 'failed'],
  testing: ['labelling', 'failed'],
  // qa -> done: online with a test token, then factory-reset and confirmed unconfigured.
  qa: ['done', 'failed'],
  labelling: ['awaiting-scan', 'done', 'failed'],
  // awaiting-scan -> awaiting-scan records a wrong scan.
  'awaiting-scan': ['awaiting-scan', 'done', 'failed'],
  done: ['empty', 'detected', 'probing'],
  failed: ['empty', 'detected', 'probing'],
};

export class IllegalSlotTransition extends Error {
  constructor(
    readonly from: SlotKind,
    readonly to: SlotKind,
  ) {
    super(`illegal slot transition ${from} -> ${to}`);
    this.name = 'IllegalSlotTransition';
  }
}

export function transitionSlot(from: SlotState, to: SlotState): SlotState {
  if (!SLOT_TRANSITIONS[from.kind].includes(to.kind)) throw new IllegalSlotTransition(from.kind, to.kind);
  return to;
}

export interface SlotView {
  /** Stable id of the fixture position, e.g. "slot-1". */
  id: string;
  /** 1-based position shown to the operator. */
  index: number;
  state: SlotState;
}
