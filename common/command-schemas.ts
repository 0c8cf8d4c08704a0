import { z } from 'zod';
import type { CommandName } from './api.js';

/** Argument schemas for every station command: checked at each edge (WebSocket, Electron IPC). */
const slotId = z.string().regex(/^slot-[1-8]$/, 'slot ids look like "slot-1"');
const session = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'not a supervisor session');

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
  shipToken: z.strictObject({ code: z.string().trim().min(1).max(256).regex(/^[\x20-\x7e]+$/, 'a scan is printable text') }),
};
