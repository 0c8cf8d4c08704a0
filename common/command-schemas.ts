import { z } from 'zod';
import type { CommandName } from './api.js';
import { LOW_STOCK_THRESHOLD_MAX } from './settings.js';

/** Argument schemas for every station command: checked at each edge (WebSocket, Electron IPC). */
const slotId = z.string().regex(/^slot-[1-8]$/, 'slot ids look like "slot-1"');
const session = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'not a supervisor session');
const productId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'product ids are kebab-case');
const batchId = z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, 'a batch id is printable text without spaces');

// A supervisor's CSV pull: the file's bytes as base64 (the station checks the encoding itself),
// at most 256 KiB of file (core/supervisor/csv-pull.ts); the remap is header -> field or null.
const CSV_PULL_BASE64_CHARS_MAX = Math.ceil((256 * 1024) / 3) * 4;
const csvPull = z.strictObject({
  session,
  fileName: z.string().trim().min(1).max(200).regex(/^\P{Cc}+$/u, 'a file name is one line of text'),
  csvBase64: z.string().min(1).max(CSV_PULL_BASE64_CHARS_MAX, 'the CSV file is larger than 256 KiB').regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64'),
  remap: z.record(z.string().max(1024), z.string().max(256).nullable()).refine((r) => Object.keys(r).length <= 200, 'at most 200 columns'),
});
const cloudQrToken = z.string().trim().min(1).max(128).regex(/^[A-Za-z0-9_+-]+$/, 'a QR token is letters, digits, _ and -');

export const COMMAND_ARG_SCHEMAS: { [N in CommandName]: z.ZodType } = {
  getSnapshot: z.strictObject({}),
  runSlot: z.strictObject({ slotId }),
  clearSlot: z.strictObject({ slotId }),
  // A scan is what a keyboard-wedge scanner typed: printable ASCII, bounded.
  scanLabel: z.strictObject({ payload: z.string().min(1).max(256).regex(/^[\x20-\x7e]+$/, 'a label scan is printable text'), slotId: slotId.optional() }),
  printSheet: z.strictObject({ reprint: z.boolean().optional() }),
  plugVirtualBoard: z.strictObject({ slotId }),
  unplugVirtualBoard: z.strictObject({ slotId }),
  getSyncStatus: z.strictObject({}),
  syncNow: z.strictObject({}),
  supervisorLogin: z.strictObject({ pin: z.string().regex(/^[0-9]{4,12}$/, 'a PIN is 4 to 12 digits') }),
  supervisorLogout: z.strictObject({ session }),
  pullBatch: z.strictObject({ session, count: z.number().int().min(1).max(1000) }),
  // A QR token as the cloud issues it (`sqr_…`), optionally with the `+{orgId}` claim suffix.
  voidToken: z.strictObject({
    session,
    qrToken: z.string().min(1).max(128).regex(/^[A-Za-z0-9_+-]+$/, 'a QR token is letters, digits, _ and -'),
    reason: z.string().trim().min(3, 'say why the token is voided').max(200).regex(/^\P{Cc}+$/u, 'a reason is one line of text'),
  }),
  exportDeviceRecordsCsv: z.strictObject({ session }),
  getReports: z.strictObject({ session, hours: z.number().int().min(1).max(24 * 31).optional() }),
  // What a keyboard-wedge scanner typed at the QA screen (a label payload or QR token), or a slot id.
  qaLookup: z.strictObject({ code: z.string().trim().min(1).max(256).regex(/^[\x20-\x7e]+$/, 'a scan is printable text') }),
  qaRetest: z.strictObject({ slotId }),
  qaDynamic: z.strictObject({ slotId }),
  shipToken: z.strictObject({ code: z.string().trim().min(1).max(256).regex(/^[\x20-\x7e]+$/, 'a scan is printable text') }),
  previewCsvPull: csvPull,
  pullBatchCsv: csvPull,
  exportBatchZip: z.strictObject({ session, batchId: z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, 'a batch id is printable text without spaces') }),
  disclaimToken: z.strictObject({ session, qrToken: cloudQrToken, confirm: z.string().max(128) }),
  deleteCloudToken: z.strictObject({ session, qrToken: cloudQrToken, confirm: z.string().max(128) }),
  listHeldRecords: z.strictObject({ session }),
  releaseHeldRecord: z.strictObject({ session, id: z.number().int().positive() }),
  getSettings: z.strictObject({}),
  chooseProduction: z.strictObject({ productId, batchId: batchId.nullable(), session: session.optional() }),
  updateSettings: z.strictObject({
    session,
    productId: productId.optional(),
    batchId: batchId.nullable().optional(),
    autoRun: z.boolean().optional(),
    labelStockId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a label stock id').nullable().optional(),
    lowStockThreshold: z.number().int().min(0).max(LOW_STOCK_THRESHOLD_MAX).nullable().optional(),
    sounds: z.boolean().optional(),
  }),
};
