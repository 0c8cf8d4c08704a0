import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * USB VID:PID -> which bridge a board carries, which chips can sit behind it, and how to reset
 * it into the bootloader: `classic` (DTR/RTS through the two-transistor circuit) for external
 * bridges, `usb-jtag` for Espressif's own USB-Serial-JTAG, whose port re-enumerates on reset.
 */
const hex4 = z.string().regex(/^[0-9a-f]{4}$/, 'four lowercase hex digits');
const entrySchema = z.strictObject({
  vendorId: hex4,
  productId: hex4,
  bridge: z.enum(['CP210x', 'CH340', 'CH9102', 'CH343', 'FTDI', 'USB-Serial-JTAG', 'native-CDC']),
  name: z.string().min(1),
  chips: z.array(z.enum(['ESP32', 'ESP32-S3', 'ESP32-C3', 'ESP8266'])).min(1),
  reset: z.enum(['classic', 'usb-jtag']),
  reenumeratesOnReset: z.boolean().optional(),
});
const fileSchema = z.object({ bridges: z.array(entrySchema).min(1) });

export type BoardTableEntry = z.infer<typeof entrySchema>;

const DEFAULT_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'resources', 'boards.json');

export class BoardTable {
  private readonly byId: Map<string, BoardTableEntry>;

  constructor(readonly entries: readonly BoardTableEntry[]) {
    this.byId = new Map();
    for (const entry of entries) {
      const key = `${entry.vendorId}:${entry.productId}`;
      if (this.byId.has(key)) throw new Error(`board table lists ${key} twice`);
      this.byId.set(key, entry);
    }
  }

  static load(path: string = DEFAULT_PATH): BoardTable {
    return new BoardTable(fileSchema.parse(JSON.parse(readFileSync(path, 'utf8'))).bridges);
  }

  /** Accepts numbers (usb package) or hex strings of any case (serialport's list). */
  lookup(vendorId: number | string | undefined, productId: number | string | undefined): BoardTableEntry | null {
    if (vendorId === undefined || productId === undefined) return null;
    const norm = (v: number | string): string => (typeof v === 'number' ? v.toString(16) : v.toLowerCase().replace(/^0x/, '')).padStart(4, '0');
    return this.byId.get(`${norm(vendorId)}:${norm(productId)}`) ?? null;
  }
}
