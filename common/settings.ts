/**
 * Station settings as the UI sees them: which product the line builds, which token batch it uses
 * first, and the line's switches. Viewing is free; changing needs a supervisor session
 * (`updateSettings`), except the one-time first choice of product and batch (`chooseProduction`).
 */

/** A product manifest found on this station; one that fails to load is listed with its error. */
export interface ProductListing {
  id: string;
  /** The manifest file's name (e.g. `demo-thermostat.json`). */
  file: string;
  /** `built-in`: shipped in resources/products; `data`: the data folder's products/. */
  source: 'built-in' | 'data';
  /** Null when the manifest did not load. */
  name: string | null;
  chipFamilies: string[];
  /** What a board gets: `token-only` (the per-board payload) or `full` (firmware too). */
  flashPlan: 'token-only' | 'full';
  /** How the token reaches the firmware, e.g. `nvs (edgent)` or `firmware-tag`. */
  payloadKind: string | null;
  labelStockId: string | null;
  /** Self-test checks in the product's test plan. */
  testChecks: number | null;
  /** Why the manifest cannot be used (one sentence), or null. */
  error: string | null;
}

/** A token batch in the queue, and whether the current product may use it. */
export interface BatchChoice {
  id: string;
  templateId: string;
  orgId: number;
  pulledAt: string;
  tokenCount: number;
  available: number;
  /** Same cloud template and organisation as the current product: its tokens fit its boards. */
  usable: boolean;
}

export interface LabelStockChoice {
  id: string;
  name: string;
}

export interface StationSettingsView {
  productId: string;
  productName: string;
  /** The batch reservations come from first; null: oldest usable batch first. */
  batchId: string | null;
  /** False until someone chose product and batch at this station (the line shows a one-time step). */
  productionChosen: boolean;
  autoRun: boolean;
  /** The label stock labels are laid out on; `productLabelStockId` is the manifest's own. */
  labelStockId: string;
  productLabelStockId: string;
  /** Warn the line below this many available tokens; null: the station's default. */
  lowStockThreshold: number | null;
  /** Sounds on done and failure for the whole station (each browser can still mute itself). */
  sounds: boolean;
  /** Fixture positions; fixed for a run (`--slots` at start). */
  slotCount: number;
  /** Where labels print: a CUPS printer or the folder PDFs are saved to (`--printer` at start). */
  printer: string;
}

export interface SettingsView {
  settings: StationSettingsView;
  products: ProductListing[];
  batches: BatchChoice[];
  labelStocks: LabelStockChoice[];
  /** Slots with a board in work: while any, the product cannot change. */
  workingSlots: string[];
}

/** What a supervisor may change; absent fields stay as they are. */
export interface SettingsChange {
  productId?: string;
  /** null: no preferred batch (oldest usable first). */
  batchId?: string | null;
  autoRun?: boolean;
  /** null: the product's own label stock. */
  labelStockId?: string | null;
  lowStockThreshold?: number | null;
  sounds?: boolean;
}

/** Slot states in which a board is being worked on: the product must not change under it. */
export const WORKING_SLOT_KINDS: readonly string[] = ['probing', 'flashing', 'testing', 'qa', 'labelling', 'awaiting-scan'];

export const LOW_STOCK_THRESHOLD_MAX = 100_000;
