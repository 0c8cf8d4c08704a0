import { stationError } from '../../common/errors.js';
import type { SlotView } from '../../common/slot-state.js';
import { WORKING_SLOT_KINDS, type BatchChoice, type SettingsChange, type SettingsView, type StationSettingsView } from '../../common/settings.js';
import type { StationDatabase } from '../db/open-database.js';
import { getLabelStock, listLabelStocks } from '../labels/label-stock.js';
import type { CatalogEntry } from '../product/product-catalog.js';
import type { ProductLine } from '../product/product-line.js';
import type { TokenQueue } from '../queue/token-queue.js';
import type { StationSettings, StoredSettings } from './station-settings.js';

export interface ProductionControlDeps {
  db: StationDatabase;
  settings: StationSettings;
  line: ProductLine;
  queue: TokenQueue;
  /** The manifests on this station, read afresh (a manifest dropped into the data folder shows up). */
  catalog: () => CatalogEntry[];
  slots: () => SlotView[];
  /** The product the station starts with when none was chosen (or the chosen one no longer loads). */
  defaultProductId: string;
  slotCount: number;
  /** Where labels print (named once the printer exists). */
  printer: () => string;
  autoRunDefault: boolean;
  /** Called after every applied change (the service pushes a fresh snapshot). */
  onChange?: () => void;
  log?: (line: string) => void;
}

/** Who made a change, for the audit log. */
export type ChangedBy = 'supervisor' | 'line worker (first-time setup)' | 'station start';

/**
 * Product, batch and line switches: validated, persisted (settings table, audited) and applied to
 * the running station. Rules:
 * - The product changes only while no slot is at work (probing … awaiting-scan): a board is never
 *   finished with another product's payload, test plan or label than it started with.
 * - Product or label stock change only when the open label sheet has no unprinted labels; the sheet
 *   is then closed, so the next label starts a fresh sheet of the new product/stock.
 * - Reservations come from the chosen batch first, then from the oldest other batch of the same
 *   cloud template and organisation (the line does not stop when the chosen batch runs dry). A
 *   batch of another template/organisation is never used, chosen or not (queue reservation scope).
 */
export class ProductionControl {
  constructor(private readonly deps: ProductionControlDeps) {}

  /** At start: the stored product (or the default, when none is stored or it no longer loads). */
  restore(): void {
    const stored = this.deps.settings.get('productId');
    const catalog = this.deps.catalog();
    const pick = (id: string): CatalogEntry | undefined => catalog.find((e) => e.listing.id === id && e.product);
    let entry = stored ? pick(stored) : undefined;
    if (stored && !entry) this.deps.log?.(`the chosen product "${stored}" does not load any more; starting with "${this.deps.defaultProductId}"`);
    else if (stored && stored !== this.deps.defaultProductId) this.deps.log?.(`building "${stored}", the product chosen in Settings (the start default is "${this.deps.defaultProductId}")`);
    entry ??= pick(this.deps.defaultProductId);
    if (entry?.product && entry.product.id !== this.deps.line.current.loaded.id) this.deps.line.activate(entry.product);
    this.applyRuntime();
  }

  /** The station header's extra facts. */
  stationInfo(): { productId: string; productionChosen: boolean; sounds: boolean; tokenKind: 'static' | 'dynamic' } {
    return {
      productId: this.deps.line.current.loaded.id,
      productionChosen: this.deps.settings.get('productionChosen') ?? false,
      sounds: this.deps.settings.get('sounds') ?? true,
      tokenKind: this.deps.line.current.config.tokenKind ?? 'static',
    };
  }

  /**
   * For the header: the batch the next board's token comes from (the chosen one while it has
   * tokens, then the oldest usable one), or the chosen one when nothing is left.
   */
  headerBatchId(): string | null {
    return this.nextBatchId() ?? this.deps.settings.get('batchId') ?? null;
  }

  get autoRun(): boolean {
    return this.deps.settings.get('autoRun') ?? this.deps.autoRunDefault;
  }

  get lowStockThreshold(): number | null {
    return this.deps.settings.get('lowStockThreshold') ?? null;
  }

  view(): SettingsView {
    const { line, settings } = this.deps;
    const current = line.current;
    const view: StationSettingsView = {
      productId: current.loaded.id,
      productName: current.loaded.name,
      batchId: settings.get('batchId') ?? null,
      productionChosen: settings.get('productionChosen') ?? false,
      autoRun: this.autoRun,
      labelStockId: line.product.labelStockId,
      productLabelStockId: current.loaded.labelStockId,
      lowStockThreshold: this.lowStockThreshold,
      sounds: settings.get('sounds') ?? true,
      slotCount: this.deps.slotCount,
      printer: this.deps.printer(),
    };
    return {
      settings: view,
      products: this.deps.catalog().map((e) => e.listing),
      batches: this.batches(),
      labelStocks: listLabelStocks().map((s) => ({ id: s.id, name: s.name })),
      workingSlots: this.workingSlots().map((s) => s.id),
    };
  }

  /**
   * The one-time step at a new station: anyone at the line picks product and batch once. After
   * that, changes go through `update` with a supervisor session.
   */
  choose(choice: { productId: string; batchId: string | null }, supervisor: boolean): SettingsView {
    if (!supervisor && this.deps.settings.get('productionChosen')) {
      throw stationError('UNAUTHORIZED', 'Product and batch are already chosen; a supervisor changes them in Settings.', true);
    }
    return this.update({ productId: choice.productId, batchId: choice.batchId }, supervisor ? 'supervisor' : 'line worker (first-time setup)');
  }

  update(change: SettingsChange, by: ChangedBy): SettingsView {
    const { line, settings } = this.deps;
    const stored: Partial<StoredSettings> = {};
    const catalog = change.productId !== undefined ? this.deps.catalog() : [];
    const target = change.productId !== undefined ? this.productEntry(catalog, change.productId) : null;
    const switching = target !== null && target.product!.id !== line.current.loaded.id;
    const stockChanging = change.labelStockId !== undefined && (change.labelStockId ?? line.current.loaded.labelStockId) !== line.product.labelStockId;
    if (change.labelStockId) {
      try {
        getLabelStock(change.labelStockId);
      } catch {
        throw stationError('NOT_FOUND', `There is no label stock "${change.labelStockId}" in label-stocks.json.`, true);
      }
    }
    if (switching) {
      const working = this.workingSlots();
      if (working.length > 0) {
        const names = working.map((s) => `slot ${s.index} (${s.state.kind})`).join(', ');
        throw stationError('BUSY', `Boards are being worked on in ${names}: finish or clear them before switching the product.`, true, { slots: working.map((s) => s.id).join(',') });
      }
    }
    if (switching || stockChanging) this.requireSheetPrinted();
    if (switching) {
      // The label stock override belongs to the product it was set for: a new product uses its own.
      if (change.labelStockId === undefined && settings.get('labelStockId')) stored.labelStockId = null;
    }
    // The batch must fit the product the line will build.
    const templateOf = { templateId: line.product.templateId, orgId: line.product.orgId };
    if (change.batchId !== undefined && change.batchId !== null) {
      const batch = this.batches().find((b) => b.id === change.batchId);
      if (!batch) throw stationError('NOT_FOUND', `There is no batch "${change.batchId}" in this station's queue.`, true);
      if (batch.templateId !== templateOf.templateId || batch.orgId !== templateOf.orgId) {
        const name = target?.product?.name ?? line.current.loaded.name;
        throw stationError('INVALID_INPUT', `Batch ${batch.id} holds tokens of another template (${batch.templateId}); ${name} cannot use them.`, true);
      }
    }
    if (change.productId !== undefined) stored.productId = target!.product!.id;
    if (change.batchId !== undefined) stored.batchId = change.batchId;
    if (change.autoRun !== undefined) stored.autoRun = change.autoRun;
    if (change.labelStockId !== undefined) stored.labelStockId = change.labelStockId;
    if (change.lowStockThreshold !== undefined) stored.lowStockThreshold = change.lowStockThreshold;
    if (change.sounds !== undefined) stored.sounds = change.sounds;
    if (change.productId !== undefined || change.batchId !== undefined) stored.productionChosen = true;

    if (switching) line.activate(target!.product!);
    if (switching || stockChanging) this.closeOpenSheet();
    const changed = settings.set(stored, by);
    this.applyRuntime();
    if (changed.length > 0) this.deps.log?.(`settings changed by ${by}: ${changed.join(', ')}`);
    this.deps.onChange?.();
    return this.view();
  }

  /** Pushes the stored choices into the running parts (queue scope, label stock). */
  private applyRuntime(): void {
    const { line, settings, queue } = this.deps;
    line.setLabelStock(settings.get('labelStockId') ?? null);
    queue.setReservationScope({ templateId: line.product.templateId, orgId: line.product.orgId, preferBatchId: settings.get('batchId') ?? null });
  }

  private productEntry(catalog: CatalogEntry[], id: string): CatalogEntry {
    const entry = catalog.find((e) => e.listing.id === id && e.product) ?? catalog.find((e) => e.listing.id === id);
    if (!entry) throw stationError('NOT_FOUND', `There is no product "${id}" on this station.`, true);
    if (!entry.product) throw stationError('INVALID_INPUT', `The product "${id}" cannot be used: ${entry.listing.error ?? 'its manifest did not load.'}`, true);
    return entry;
  }

  private workingSlots(): SlotView[] {
    return this.deps.slots().filter((s) => WORKING_SLOT_KINDS.includes(s.state.kind));
  }

  private requireSheetPrinted(): void {
    const row = this.deps.db
      .prepare(
        `SELECT s.id, COUNT(l.position) AS unprinted FROM sheets s JOIN labels l ON l.sheet_id = s.id AND l.print_job_id IS NULL
         WHERE s.closed_at IS NULL GROUP BY s.id ORDER BY s.rowid DESC LIMIT 1`,
      )
      .get() as { id: string; unprinted: number } | undefined;
    if (row && row.unprinted > 0) {
      throw stationError('BUSY', `Sheet ${row.id} has ${row.unprinted} label${row.unprinted === 1 ? '' : 's'} not printed yet: print them before changing the product or label stock.`, true);
    }
  }

  private closeOpenSheet(): void {
    this.deps.db.prepare('UPDATE sheets SET closed_at = ? WHERE closed_at IS NULL').run(new Date().toISOString());
  }

  private batches(): BatchChoice[] {
    const { templateId, orgId } = this.deps.line.product;
    const rows = this.deps.db
      .prepare(
        `SELECT b.id, b.template_id AS templateId, b.org_id AS orgId, b.pulled_at AS pulledAt, b.token_count AS tokenCount,
                SUM(CASE WHEN t.state = 'available' THEN 1 ELSE 0 END) AS available
         FROM batches b LEFT JOIN tokens t ON t.batch_id = b.id GROUP BY b.id ORDER BY b.pulled_at, b.rowid`,
      )
      .all() as Omit<BatchChoice, 'usable'>[];
    return rows.map((r) => ({ ...r, available: r.available ?? 0, usable: r.templateId === templateId && r.orgId === orgId }));
  }

  /** The batch of the next token `reserve` would hand out (same order as the queue). */
  private nextBatchId(): string | null {
    const { templateId, orgId } = this.deps.line.product;
    const row = this.deps.db
      .prepare(
        `SELECT t.batch_id AS id FROM tokens t JOIN batches b ON b.id = t.batch_id WHERE t.state = 'available' AND b.template_id = ? AND b.org_id = ?
         ORDER BY CASE WHEN t.batch_id = ? THEN 0 ELSE 1 END, t.id LIMIT 1`,
      )
      .get(templateId, orgId, this.deps.settings.get('batchId') ?? null) as { id: string } | undefined;
    return row?.id ?? null;
  }
}
