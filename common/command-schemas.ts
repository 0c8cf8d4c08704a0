import { z } from 'zod';
import type { CommandName } from './api.js';

/** Argument schemas for every station command: checked at each edge (WebSocket, Electron IPC). */
const slotId = z.string().regex(/^slot-[1-8]$/, 'slot ids look like "slot-1"');

export const COMMAND_ARG_SCHEMAS: { [N in CommandName]: z.ZodType } = {
  getSnapshot: z.strictObject({}),
  runSlot: z.strictObject({ slotId }),
  clearSlot: z.strictObject({ slotId }),
  plugVirtualBoard: z.strictObject({ slotId }),
  unplugVirtualBoard: z.strictObject({ slotId }),
};
