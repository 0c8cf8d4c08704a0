import type { StationErrorData } from './errors.js';
import type { SlotView } from './slot-state.js';

/**
 * The one station API. The renderer sees only this: under Electron through the preload bridge
 * (`window.station`), in browser mode through a WebSocket (see `WireMessage`). Commands are
 * request/response; events are pushed. Nothing here ever carries an AuthToken.
 */
export interface StockView {
  available: number;
  reserved: number;
  inProgress: number;
  labelled: number;
  failed: number;
}

export interface LabelSheetView {
  id: string;
  /** Labels placed so far, in completion order. */
  labels: { position: number; slotIndex: number; qrToken: string; serial: string }[];
  capacity: number;
  /** Where the PDF can be fetched from (browser mode: a URL path under the station server). */
  pdfUrl?: string;
  /** Labels already sent to the printer (always the first `printed` positions). */
  printed: number;
  /** Where printing goes: a CUPS printer's name or the folder PDFs are saved to. */
  printer: string;
  /** The last print attempt on this sheet, for the operator. */
  lastPrint?: { ok: boolean; message: string; at: string };
}

export interface StationInfo {
  name: string;
  productName: string;
  orgId: number;
  batchId: string | null;
  /** Virtual boards can be plugged from the UI (simulator mode). */
  simulator: boolean;
}

export interface StationSnapshot {
  station: StationInfo;
  slots: SlotView[];
  stock: StockView;
  sheet: LabelSheetView | null;
}

/** Commands and what each returns. */
export interface CommandMap {
  getSnapshot: { args: Record<string, never>; result: StationSnapshot };
  /** Provision the board in the slot: reserve token, flash, verify, self-test, label. */
  runSlot: { args: { slotId: string }; result: { accepted: true } };
  /** Acknowledge a finished/failed slot so it can take the next board. */
  clearSlot: { args: { slotId: string }; result: { cleared: true } };
  /**
   * Scan-back: a label scanned (a USB barcode scanner types the QR payload). Confirms the slot's
   * label when it is that board's own; a wrong one blocks the slot. Without `slotId` the scan goes
   * to the slot that has waited longest.
   */
  scanLabel: { args: { payload: string; slotId?: string }; result: { confirmed: boolean; slotId: string } };
  /**
   * Print the labels of the open sheet not printed yet (a partial sheet continues on the same
   * paper next time), or with `reprint` an audited copy of everything printed on it so far.
   */
  printSheet: { args: { reprint?: boolean }; result: { printed: number; printer: string } };
  /** Simulator only: plug or unplug a virtual board into a slot. */
  plugVirtualBoard: { args: { slotId: string }; result: { port: string } };
  unplugVirtualBoard: { args: { slotId: string }; result: { unplugged: true } };
}

export type CommandName = keyof CommandMap;
export type CommandArgs<N extends CommandName> = CommandMap[N]['args'];
export type CommandResult<N extends CommandName> = CommandMap[N]['result'];

export type StationEvent =
  | { type: 'snapshot'; snapshot: StationSnapshot }
  | { type: 'slot'; slot: SlotView }
  | { type: 'stock'; stock: StockView }
  | { type: 'sheet'; sheet: LabelSheetView };

export interface StationApi {
  call<N extends CommandName>(name: N, args: CommandArgs<N>): Promise<CommandResult<N>>;
  /** Returns the unsubscribe function. */
  subscribe(listener: (event: StationEvent) => void): () => void;
}

/** WebSocket wire format (browser mode). One JSON object per message. */
export type WireMessage =
  | { kind: 'request'; id: number; name: CommandName; args: unknown }
  | { kind: 'response'; id: number; ok: true; result: unknown }
  | { kind: 'response'; id: number; ok: false; error: StationErrorData }
  | { kind: 'event'; event: StationEvent };

export const COMMAND_NAMES: readonly CommandName[] = [
  'getSnapshot',
  'runSlot',
  'clearSlot',
  'scanLabel',
  'printSheet',
  'plugVirtualBoard',
  'unplugVirtualBoard',
];

export function isCommandName(value: unknown): value is CommandName {
  return typeof value === 'string' && (COMMAND_NAMES as readonly string[]).includes(value);
}

/** Browser mode: the per-run secret travels as `?key=` in the page URL and the WebSocket URL. */
export const SECRET_QUERY_PARAM = 'key';
export const WS_PATH = '/api/ws';
