import { z } from 'zod';
import type { CommandName } from './api.js';

/** Argument schemas for every station command: checked at each edge (WebSocket, Electron IPC). */
const slotId = z.string().regex(/^slot-[1-8]$/, 'slot ids look like "slot-1"');

export const COMMAND_ARG_SCHEMAS: { [N in CommandName]: z.ZodType } = {
  getSnapshot: z.strictObject({}),
  runSlot: z.strictObject({ slotId }),
  clearSlot: z.strictObject({ slotId }),
  // A scan is what a keyboard-wedge scanner typed: printable ASCII, bounded.
  scanLabel: z.strictObject({ payload: z.string().min(1).max(256).regex(/^[\x20-\x7e]+$/, 'a label scan is printable text'), slotId: slotId.optional() }),
  printSheet: z.strictObject({ reprint: z.boolean().optional() }),
  plugVirtualBoard: z.strictObject({ slotId }),
  unplugVirtualBoard: z.strictObject({ slotId }),
};
