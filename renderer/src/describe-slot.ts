import type { BoardInfo } from '../../common/board.js';
import type { ErrorCode } from '../../common/errors.js';
import type { FlashProgress, SlotState } from '../../common/slot-state.js';
import { failureSentence } from './failure-sentences.js';

export { FAILURE_SENTENCES, failureSentence } from './failure-sentences.js';

/**
 * What a slot card shows, as a pure function of the slot's state. State is carried three ways
 * (tone = colour, icon = shape, word) so it reads from a metre away and without colour vision.
 */
export type SlotTone = 'idle' | 'ready' | 'busy' | 'ok' | 'bad';
export type SlotIcon = 'socket' | 'search' | 'plug' | 'arrow-down' | 'gauge' | 'wifi' | 'tag' | 'barcode' | 'check' | 'cross';
export type SlotCommand = 'plugVirtualBoard' | 'unplugVirtualBoard' | 'runSlot' | 'clearSlot';

export interface SlotAction {
  command: SlotCommand;
  /** Visible text and accessible name of the button. */
  label: string;
  /** The one action Enter runs on a focused card. */
  primary: boolean;
}

export interface SlotProgressView {
  percent: number;
  phase: string;
  rate: string | null;
  timeLeft: string | null;
}

export interface SlotViewModel {
  kind: SlotState['kind'];
  word: string;
  tone: SlotTone;
  icon: SlotIcon;
  /** One short line under the state word: what is going on or what to do next. */
  hint: string;
  board: { port: string; chip: string | null; mac: string | null } | null;
  /** Last characters of the QR claim code, enough to match card and label by eye. */
  qrShort: string | null;
  /** 1-based position of the label on the sheet. */
  labelNumber: number | null;
  progress: SlotProgressView | null;
  /** `next`: the code's one sentence (what happened, what to do); `message`: the engine's specifics. */
  failure: { code: string; message: string; next: string } | null;
  actions: SlotAction[];
}

export const QR_SHORT_CHARS = 6;
const QR_PREFIX = 'sqr_';

export function shortQr(qrToken: string): string {
  const body = qrToken.startsWith(QR_PREFIX) ? qrToken.slice(QR_PREFIX.length) : qrToken;
  return body.slice(-QR_SHORT_CHARS);
}

const PHASE_WORDS: Record<FlashProgress['phase'], string> = {
  connecting: 'Connecting',
  'uploading-stub': 'Loading stub',
  writing: 'Writing',
  verifying: 'Verifying',
};

/** A few words naming the failure; the error's own sentence says what to do. */
export const FAILURE_TITLES: Record<ErrorCode, string> = {
  NO_TOKENS_AVAILABLE: 'No tokens left',
  BOARD_NOT_RESPONDING: 'Board not responding',
  BOARD_UNSUPPORTED: 'Board not supported',
  BOARD_CHANGED: 'Different board',
  CABLE_PULLED: 'Cable pulled',
  FLASH_WRITE_FAILED: 'Write failed',
  FLASH_VERIFY_MISMATCH: 'Verify mismatch',
  SELFTEST_FAILED: 'Self-test failed',
  SELFTEST_TIMEOUT: 'Self-test timed out',
  QA_FAILED: 'QA failed',
  LABEL_FAILED: 'Label failed',
  CLOUD_UNREACHABLE: 'Cloud unreachable',
  CLOUD_REJECTED: 'Cloud rejected',
  INVALID_INPUT: 'Invalid input',
  NOT_FOUND: 'Not found',
  BUSY: 'Busy',
  UNAUTHORIZED: 'Not allowed',
  ILLEGAL_TRANSITION: 'Out of order',
  INTERRUPTED: 'Interrupted',
  INTERNAL: 'Internal error',
};

export function formatRate(bytesPerSecond: number): string {
  if (bytesPerSecond >= 1_000_000) return `${(bytesPerSecond / 1_000_000).toFixed(1)} MB/s`;
  if (bytesPerSecond >= 1_000) return `${(bytesPerSecond / 1_000).toFixed(1)} kB/s`;
  return `${Math.round(bytesPerSecond)} B/s`;
}

export function formatTimeLeft(seconds: number): string {
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole} s left`;
  const minutes = Math.floor(whole / 60);
  return `${minutes}:${String(whole % 60).padStart(2, '0')} left`;
}

export function describeProgress(progress: FlashProgress): SlotProgressView {
  const { bytesDone, bytesTotal, rateBps } = progress;
  const fraction = bytesTotal > 0 ? Math.min(1, Math.max(0, bytesDone / bytesTotal)) : 0;
  const remaining = Math.max(0, bytesTotal - bytesDone);
  const measuring = rateBps > 0 && bytesTotal > 0;
  return {
    percent: Math.floor(fraction * 100),
    phase: PHASE_WORDS[progress.phase],
    rate: rateBps > 0 ? formatRate(rateBps) : null,
    timeLeft: measuring ? formatTimeLeft(remaining / rateBps) : null,
  };
}

function boardView(board: BoardInfo | undefined): SlotViewModel['board'] {
  if (!board) return null;
  return { port: board.port, chip: board.chip ?? null, mac: board.mac ?? null };
}

function unplug(board: BoardInfo | undefined, simulator: boolean): SlotAction[] {
  // Only virtual boards can be pulled from the screen; a real one is pulled by hand.
  return simulator && board?.transport === 'virtual'
    ? [{ command: 'unplugVirtualBoard', label: 'Unplug', primary: false }]
    : [];
}

function doneActions(board: BoardInfo, simulator: boolean): SlotAction[] {
  if (simulator && board.transport === 'virtual') return [{ command: 'unplugVirtualBoard', label: 'Unplug', primary: true }];
  return [{ command: 'clearSlot', label: 'Next board', primary: true }];
}

export interface DescribeOptions {
  simulator: boolean;
}

export function describeSlot(state: SlotState, options: DescribeOptions = { simulator: false }): SlotViewModel {
  const { simulator } = options;
  const base = { kind: state.kind, board: null, qrShort: null, labelNumber: null, progress: null, failure: null };
  switch (state.kind) {
    case 'empty':
      return {
        ...base,
        word: 'Empty',
        tone: 'idle',
        icon: 'socket',
        hint: simulator ? 'Plug in a board or a virtual one.' : 'Plug in a board.',
        actions: simulator ? [{ command: 'plugVirtualBoard', label: 'Plug virtual board', primary: true }] : [],
      };
    case 'probing':
      return {
        ...base,
        word: 'Checking',
        tone: 'busy',
        icon: 'search',
        hint: 'Checking the board: chip, MAC, flash…',
        board: boardView(state.board),
        actions: unplug(state.board, simulator),
      };
    case 'detected':
      return {
        ...base,
        word: 'Ready',
        tone: 'ready',
        icon: 'plug',
        hint: state.resume
          ? `This board already holds token …${shortQr(state.resume.token.qrToken)}: press Provision to resume it.`
          : 'Board detected: press Provision.',
        board: boardView(state.board),
        qrShort: state.resume ? shortQr(state.resume.token.qrToken) : null,
        actions: [{ command: 'runSlot', label: state.resume ? 'Resume' : 'Provision', primary: true }, ...unplug(state.board, simulator)],
      };
    case 'flashing': {
      const progress = describeProgress(state.progress);
      return {
        ...base,
        word: 'Flashing',
        tone: 'busy',
        icon: 'arrow-down',
        // No token: a dynamic-token product's shared firmware is being written.
        hint: state.token ? `${progress.phase}…` : `${progress.phase} firmware…`,
        board: boardView(state.board),
        qrShort: state.token ? shortQr(state.token.qrToken) : null,
        progress,
        actions: unplug(state.board, simulator),
      };
    }
    case 'testing':
      return {
        ...base,
        word: 'Testing',
        tone: 'busy',
        icon: 'gauge',
        hint: 'Running the self-test…',
        board: boardView(state.board),
        qrShort: shortQr(state.token.qrToken),
        actions: unplug(state.board, simulator),
      };
    case 'qa':
      return {
        ...base,
        word: 'QA',
        tone: 'busy',
        icon: 'wifi',
        hint: 'Wi-Fi and cloud check, then factory reset…',
        board: boardView(state.board),
        actions: unplug(state.board, simulator),
      };
    case 'labelling':
      return {
        ...base,
        word: 'Labelling',
        tone: 'busy',
        icon: 'tag',
        hint: 'Placing the label on the sheet…',
        board: boardView(state.board),
        qrShort: shortQr(state.token.qrToken),
        actions: unplug(state.board, simulator),
      };
    case 'awaiting-scan': {
      const labelNumber = state.label.position + 1;
      const qrShort = shortQr(state.token.qrToken);
      const wrong = state.mismatch
        ? `Wrong label scanned${state.mismatch.scannedShort ? ` (…${state.mismatch.scannedShort} is another board's)` : ''}. Find label ${labelNumber} (…${qrShort}) and scan it.`
        : null;
      return {
        ...base,
        word: state.mismatch ? 'Wrong label' : 'Scan label',
        tone: state.mismatch ? 'bad' : 'ready',
        icon: 'barcode',
        hint: wrong ?? `Stick label ${labelNumber} (…${qrShort}) on this board, then scan it.`,
        board: boardView(state.board),
        qrShort,
        labelNumber,
        actions: unplug(state.board, simulator),
      };
    }
    case 'done':
      return {
        ...base,
        word: 'Done',
        tone: 'ok',
        icon: 'check',
        // A dynamic-token board has no token and no label: it ships factory-reset.
        hint: state.label
          ? `Label ${state.label.position + 1} is this board's: unplug it, box them together, plug in the next board.`
          : 'Passed QA and factory-reset: unplug it, box it, plug in the next board.',
        board: boardView(state.board),
        qrShort: state.token ? shortQr(state.token.qrToken) : null,
        labelNumber: state.label ? state.label.position + 1 : null,
        // The board stays Done while it is plugged in (a re-check finds its labelled token): taking
        // it out is the next step, so a virtual board's Unplug is the main action there.
        actions: doneActions(state.board, simulator),
      };
    case 'failed':
      return {
        ...base,
        word: 'Failed',
        tone: 'bad',
        icon: 'cross',
        hint: FAILURE_TITLES[state.error.code] ?? 'Failed',
        board: boardView(state.board),
        qrShort: state.token ? shortQr(state.token.qrToken) : null,
        failure: { code: state.error.code, message: state.error.message, next: failureSentence(state.error.code) },
        // clearSlot re-checks the board still in the slot (or empties a slot without one).
        actions: [{ command: 'clearSlot', label: state.board ? 'Check again' : 'Clear', primary: true }, ...unplug(state.board, simulator)],
      };
  }
}

export function primaryAction(view: SlotViewModel): SlotAction | null {
  return view.actions.find((action) => action.primary) ?? null;
}
