import type { StationErrorData } from './errors.js';
import type { QaBoardHistory, QaDynamicResult, QaRetestResult } from './qa.js';
import type { SettingsChange, SettingsView } from './settings.js';
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
  /** This shift (since the station started): boards done and boards failed. */
  shift?: { since: string; done: number; failed: number };
  /** Warn the line when `available` falls below this (pull a batch before the queue runs dry). */
  lowStockAt?: number;
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
  /** Settings (common/settings.ts): the product's id, whether product and batch were chosen yet, station-wide sounds. */
  productId?: string;
  productionChosen?: boolean;
  sounds?: boolean;
  /** `dynamic`: Wi-Fi products that get their token from the phone app (no tokens, no labels at the station). */
  tokenKind?: 'static' | 'dynamic';
}

export interface StationSnapshot {
  station: StationInfo;
  slots: SlotView[];
  stock: StockView;
  sheet: LabelSheetView | null;
  /** What is waiting for the cloud; absent when the station runs without a sync engine. */
  sync?: SyncStatus;
}

/** The sync engine as the header and the supervisor see it (times are ISO 8601). */
export interface SyncStatus {
  state: 'stopped' | 'idle' | 'syncing' | 'backing-off';
  /** Outbox records not yet acknowledged by the cloud. */
  waiting: number;
  /** Records the cloud refused for good: kept, no longer retried, need a supervisor. */
  held: number;
  lastSuccessAt: string | null;
  lastAttemptAt: string | null;
  lastError: StationErrorData | null;
  nextAttemptAt: string | null;
  consecutiveFailures: number;
  /** Fewer tokens available than the low-water mark: a top-up is due (or failing). */
  lowStock: boolean;
}

/** A supervisor session: pass `session` to supervisor commands until it expires. */
export interface SupervisorSession {
  session: string;
  expiresAt: string;
}

export interface BatchView {
  id: string;
  pulledAt: string;
  tokenCount: number;
  available: number;
  used: number;
  failed: number;
  voided: number;
}

export interface ReportsView {
  /** Boards labelled per hour (UTC hour start, ISO), oldest first, the last `hours` hours. */
  devicesPerHour: { hour: string; count: number }[];
  /** Boards that passed on the first token they got / all boards that finished (0..1); null when none. */
  firstPassYield: number | null;
  passed: number;
  failed: number;
  failuresByReason: { reason: string; count: number }[];
  batches: BatchView[];
}

/** One problem of one CSV row, numbered as a spreadsheet shows it (the header is row 1). */
export interface CsvRowProblem {
  row: number;
  /** The CSV header of the cell, when the problem is one cell's. */
  column?: string;
  message: string;
}

/** The remap step of a CSV pull: what the station and the cloud found. Nothing was pulled. */
export interface CsvPullPreview {
  fileName: string;
  headers: string[];
  /** The device template's metadata fields (the names the headers map to). */
  fields: string[];
  /** Each header -> the field it fills after the remap, or null (ignored / no such field). */
  mapping: Record<string, string | null>;
  /** Data rows: one token each. */
  rowCount: number;
  /** The first data rows, cut for display. */
  sample: string[][];
  /** Problems of the whole file (missing fields, unmapped columns). */
  problems: string[];
  rowErrors: CsvRowProblem[];
  /** All row problems (rowErrors is cut). */
  rowErrorCount: number;
  /** True: confirming pulls exactly `rowCount` tokens. */
  acceptable: boolean;
}

/** An outbox record the cloud refused for good, kept for a supervisor. */
export interface HeldRecordView {
  id: number;
  kind: string;
  recordId: string;
  qrToken: string | null;
  heldAt: string;
  reason: string | null;
  attempts: number;
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
  getSyncStatus: { args: Record<string, never>; result: SyncStatus };
  /** Push the outbox and top the stock up now (anyone may ask; it is always safe). */
  syncNow: { args: Record<string, never>; result: SyncStatus };
  /** Unlocks the supervisor commands for a short while. Wrong PINs are rate-limited. */
  supervisorLogin: { args: { pin: string }; result: SupervisorSession };
  supervisorLogout: { args: { session: string }; result: { loggedOut: true } };
  /** Supervisor: pull a batch of `count` fresh tokens from the cloud into the queue. */
  pullBatch: { args: { session: string; count: number }; result: { batchId: string; imported: number } };
  /** Supervisor: withdraw a token (never shipped); reported to the cloud. */
  voidToken: { args: { session: string; qrToken: string; reason: string }; result: { qrToken: string; state: 'voided' } };
  /** Supervisor: every device record as CSV (cells that a spreadsheet would run as formulas are escaped). */
  exportDeviceRecordsCsv: { args: { session: string }; result: { fileName: string; csv: string; rows: number } };
  /** Supervisor: the remap step of a CSV pull (the file's bytes as base64); pulls nothing. */
  previewCsvPull: { args: { session: string; fileName: string; csvBase64: string; remap: Record<string, string | null> }; result: CsvPullPreview };
  /** Supervisor: pull one token per CSV row, each with its row's metadata; all or nothing. */
  pullBatchCsv: { args: { session: string; fileName: string; csvBase64: string; remap: Record<string, string | null> }; result: { batchId: string; imported: number } };
  /**
   * Supervisor: a batch as a zip in Blynk's export shape, WITHOUT AuthTokens (CSV of QR tokens and
   * payloads, QR PNGs named after the QR token): for labels and records. AuthTokens leave the
   * station only through `flashline batch export` on the station's own disk.
   */
  exportBatchZip: { args: { session: string; batchId: string }; result: { fileName: string; zipBase64: string; tokens: number; bytes: number } };
  /** Supervisor: disclaim a static token in the cloud (`confirm` repeats the QR token); audited. */
  disclaimToken: { args: { session: string; qrToken: string; confirm: string }; result: { qrToken: string; status: 'CLAIMED' | 'UNCLAIMED' } };
  /** Supervisor: delete a static token in the cloud (`confirm` repeats the QR token); an unused one is voided here too; audited. */
  deleteCloudToken: { args: { session: string; qrToken: string; confirm: string }; result: { qrToken: string; voidedHere: boolean } };
  /** Supervisor: outbox records the cloud refused for good. */
  listHeldRecords: { args: { session: string }; result: { records: HeldRecordView[] } };
  /** Supervisor: release a held record: it is sent again with the next sync; audited. */
  releaseHeldRecord: { args: { session: string; id: number }; result: { released: number; sync: SyncStatus } };
  /** Supervisor: production reports. */
  getReports: { args: { session: string; hours?: number }; result: ReportsView };
  /** QA: a scanned label (`{qrToken}+{orgId}` or a QR token) or a slot id -> the board's whole history. */
  qaLookup: { args: { code: string }; result: QaBoardHistory };
  /** QA: re-run the product's test plan on the board in the slot (it must prove it holds its token); recorded. */
  qaRetest: { args: { slotId: string }; result: QaRetestResult };
  /** QA of a dynamic-token product's board in the slot: Improv Wi-Fi, cloud token, factory reset; recorded. */
  qaDynamic: { args: { slotId: string }; result: QaDynamicResult };
  /** QA: labelled -> shipped, only when the board's latest test run passed. */
  shipToken: { args: { code: string }; result: QaBoardHistory };
  /** Settings, products (with load errors) and batches: anyone may look. */
  getSettings: { args: Record<string, never>; result: SettingsView };
  /** The one-time choice of product and batch at the line; after that only with a supervisor `session`. */
  chooseProduction: { args: { productId: string; batchId: string | null; session?: string }; result: SettingsView };
  /** Supervisor: change settings (product refused while a slot is at work); audited. */
  updateSettings: { args: { session: string } & SettingsChange; result: SettingsView };
}

export type CommandName = keyof CommandMap;
export type CommandArgs<N extends CommandName> = CommandMap[N]['args'];
export type CommandResult<N extends CommandName> = CommandMap[N]['result'];

export type StationEvent =
  | { type: 'snapshot'; snapshot: StationSnapshot }
  | { type: 'slot'; slot: SlotView }
  | { type: 'stock'; stock: StockView }
  | { type: 'sheet'; sheet: LabelSheetView }
  | { type: 'sync'; sync: SyncStatus };

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
  'getSyncStatus',
  'syncNow',
  'supervisorLogin',
  'supervisorLogout',
  'pullBatch',
  'voidToken',
  'exportDeviceRecordsCsv',
  'getReports',
  'previewCsvPull',
  'pullBatchCsv',
  'exportBatchZip',
  'disclaimToken',
  'deleteCloudToken',
  'listHeldRecords',
  'releaseHeldRecord',
  'qaLookup',
  'qaRetest',
  'qaDynamic',
  'shipToken',
  'getSettings',
  'chooseProduction',
  'updateSettings',
];

/** Commands that need a supervisor session (`session` in their arguments). */
export const SUPERVISOR_COMMANDS: readonly CommandName[] = ['supervisorLogout', 'pullBatch', 'voidToken', 'exportDeviceRecordsCsv', 'getReports',
  'previewCsvPull', 'pullBatchCsv', 'exportBatchZip', 'disclaimToken', 'deleteCloudToken', 'listHeldRecords', 'releaseHeldRecord', 'updateSettings'];

export function isCommandName(value: unknown): value is CommandName {
  return typeof value === 'string' && (COMMAND_NAMES as readonly string[]).includes(value);
}

/** Browser mode: the per-run secret travels as `?key=` in the page URL and the WebSocket URL. */
export const SECRET_QUERY_PARAM = 'key';
export const WS_PATH = '/api/ws';
