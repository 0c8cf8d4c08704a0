/** What the station needs to know about the product being built (grows into the full manifest). */
export interface ProductConfig {
  id: string;
  name: string;
  chipFamily: 'ESP32' | 'ESP32-S3' | 'ESP32-C3' | 'ESP8266';
  templateId: string;
  orgId: number;
  /** Where the NVS partition sits, from the product's partition table. */
  nvs: { offset: number; size: number };
  /** Edgent's `host` key. */
  cloudHost: string;
  /** QR payload template; `{qrToken}+{orgId}` is what the Blynk apps accept. */
  qrTemplate: string;
  labelStockId: string;
  /** Link speed after the stub is running. */
  flashBaud: number;
  /** The operator scans each printed label back before its token counts as `labelled`. */
  scanBack: boolean;
  /**
   * `token-only`: write just the per-board payload (modules come pre-flashed with the firmware).
   * `full`: bootloader, partition table, app and payload; regions whose MD5 already matches are
   * skipped, every region written is MD5-verified.
   */
  plan?: 'token-only' | 'full';
  /**
   * `static` (default when absent): a unique AuthToken per board, flashed here. `dynamic`: the same
   * firmware for every unit and no token at the factory; the line flashes the firmware (full plan),
   * runs dynamic QA and ships the board factory-reset, with no label.
   */
  tokenKind?: 'static' | 'dynamic';
}

/** The demo product `npm start` provisions. */
export const DEMO_PRODUCT: Omit<ProductConfig, 'templateId' | 'orgId'> = {
  id: 'demo-thermostat',
  name: 'Demo Thermostat',
  chipFamily: 'ESP32',
  // ESP-IDF's default single-app table: nvs at 0x9000, 0x6000 bytes.
  nvs: { offset: 0x9000, size: 0x6000 },
  cloudHost: 'blynk.cloud',
  qrTemplate: '{qrToken}+{orgId}',
  labelStockId: 'a4-3x8',
  flashBaud: 921_600,
  scanBack: true,
  tokenKind: 'static',
};
