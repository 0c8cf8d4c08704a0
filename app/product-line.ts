import type { SlotView } from '../common/slot-state.js';
import type { StationDatabase } from '../core/db/open-database.js';
import { loadProductManifest, defaultProductManifestPath } from '../core/product/manifest.js';
import { loadProductCatalog, productSources } from '../core/product/product-catalog.js';
import { ProductLine } from '../core/product/product-line.js';
import type { TokenQueue } from '../core/queue/token-queue.js';
import { ProductionControl } from '../core/settings/production-control.js';
import { StationSettings } from '../core/settings/station-settings.js';

export interface ProductLineWiringOptions {
  db: StationDatabase;
  queue: TokenQueue;
  /** The data folder: its `products/` may hold more manifests than the shipped ones. */
  dataDir: string;
  /** The product a new station starts with (and the fallback when the chosen one stops loading). */
  defaultProductId: string;
  plan: 'token-only' | 'full';
  /** Every product of this station provisions into the station's cloud template and organisation. */
  templateId: string;
  orgId: number;
  autoRunDefault: boolean;
  slotCount: number;
  log?: (line: string) => void;
}

export interface ProductLineWiring {
  line: ProductLine;
  settings: StationSettings;
  production: ProductionControl;
  /** Once the engine and printer exist: what the settings view and the busy check read. */
  bind(parts: { slots: () => SlotView[]; printer: string }): void;
}

/**
 * The product-dependent part of the embedded station: the product the line builds (restored from
 * the settings table; the default product on a new station), the live views the engine, label
 * queue, puller and QA read, and the control that switches product and batch at runtime.
 */
export function openProductLine(options: ProductLineWiringOptions): ProductLineWiring {
  const sources = productSources(options.dataDir);
  // The default product must load: a station that cannot build its default does not start.
  const initial = loadProductManifest(defaultProductManifestPath(options.defaultProductId));
  const line = new ProductLine({ templateId: options.templateId, orgId: options.orgId, plan: options.plan }, initial);
  const settings = new StationSettings(options.db);
  let slots: () => SlotView[] = () => [];
  let printer = '';
  const production = new ProductionControl({
    db: options.db,
    settings,
    line,
    queue: options.queue,
    catalog: () => loadProductCatalog(sources, options.plan),
    slots: () => slots(),
    defaultProductId: options.defaultProductId,
    slotCount: options.slotCount,
    printer: () => printer,
    autoRunDefault: options.autoRunDefault,
    ...(options.log ? { log: options.log } : {}),
  });
  production.restore();
  return {
    line,
    settings,
    production,
    bind(parts) {
      slots = parts.slots;
      printer = parts.printer;
    },
  };
}
