import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabelSheetView } from '../../common/api.js';
import type { BoardInfo } from '../../common/board.js';
import type { LabelRef } from '../../common/slot-state.js';
import type { StationDatabase } from '../db/open-database.js';
import { buildLabelModel, type LabelModel } from '../labels/label-model.js';
import { renderLabelSheetPdf } from '../labels/label-sheet-pdf.js';
import { getLabelStock, labelsPerPage } from '../labels/label-stock.js';
import type { ProductConfig } from '../product/product.js';
import type { TokenRecord } from '../queue/token-queue.js';
import type { LabelPlacer, PlacedLabel } from './station-engine.js';
import { StationError, stationError } from '../../common/errors.js';
import type { Printer } from '../printing/printer.js';

/** Sheet ids: `<station id>-S<number>`, e.g. `ST1A2B-S0007`; also what the PDF file is named. */
export const SHEET_ID_PATTERN = /^[A-Z0-9]{1,16}-S[0-9]{4,9}$/;

interface LabelRow {
  position: number;
  printJobId: number | null;
  slotIndex: number;
  qrToken: string;
  serial: string;
  mac: string | null;
  orgId: number;
  templateId: string;
}

/**
 * The print queue, in lockstep with the slots: a label row is written (with the next free position
 * on the open sheet) only for a token that passed its self-test, and the sheet's PDF is re-rendered
 * from those rows, so the order on paper is the order in which boards were completed.
 */
export class LabelQueue implements LabelPlacer {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(sheet: LabelSheetView) => void>();

  private readonly lastPrint = new Map<string, NonNullable<LabelSheetView['lastPrint']>>();

  constructor(
    private readonly db: StationDatabase,
    private readonly product: ProductConfig,
    private readonly stationId: string,
    private readonly outDir: string,
    private readonly printer: Printer,
    private readonly options: { autoPrintFullSheet?: boolean; log?: (line: string) => void } = {},
  ) {
    mkdirSync(outDir, { recursive: true });
  }

  /**
   * Prints what is new on the open sheet: the labels not printed yet, placed at their own
   * positions (startPosition), so a partly used sheet is fed again and nothing printed is wasted.
   * `reprint` prints everything printed so far on the latest sheet again, as an audited copy.
   * A printer failure records the attempt and leaves the labels unprinted, to print again.
   */
  printSheet(options: { reprint?: boolean; sheetId?: string } = {}): Promise<{ printed: number; printer: string }> {
    const next = this.chain.then(() => this.printNow(options));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async printNow(options: { reprint?: boolean; sheetId?: string }): Promise<{ printed: number; printer: string }> {
    const sheetId = options.sheetId ?? this.latestSheetId();
    if (!sheetId) throw stationError('INVALID_INPUT', 'There is no label sheet yet: finish a board first.', true);
    const rows = this.rows(sheetId);
    const printedRows = rows.filter((r) => r.printJobId !== null);
    const chosen = options.reprint ? printedRows : rows.filter((r) => r.printJobId === null);
    if (chosen.length === 0) {
      throw stationError('INVALID_INPUT', options.reprint ? 'Nothing on this sheet was printed yet: print it first.' : 'Every label on this sheet is already printed.', true);
    }
    const first = chosen[0]?.position ?? 0;
    const pdf = await renderLabelSheetPdf(this.models(chosen), this.stockIdOf(sheetId), { startPosition: first });
    const result = await this.printer.print({ document: { kind: 'pdf', data: pdf }, copies: 1, title: `${sheetId}${options.reprint ? ' reprint' : ''}` });
    const at = new Date().toISOString();
    const reprintOf = options.reprint ? ((this.db.prepare('SELECT MAX(id) AS id FROM print_jobs WHERE sheet_id = ? AND ok = 1 AND reprint_of IS NULL').get(sheetId) as { id: number | null }).id ?? null) : null;
    const detail = result.ok ? (result.jobId ?? null) : result.error.message;
    this.db.transaction(() => {
      const job = this.db
        .prepare('INSERT INTO print_jobs (sheet_id, first_position, label_count, printer, reprint_of, ok, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(sheetId, first, chosen.length, this.printer.name, reprintOf, result.ok ? 1 : 0, detail, at);
      if (result.ok && !options.reprint) {
        const mark = this.db.prepare('UPDATE labels SET print_job_id = ? WHERE sheet_id = ? AND position = ?');
        for (const row of chosen) mark.run(job.lastInsertRowid, sheetId, row.position);
      }
      this.db
        .prepare('INSERT INTO audit_log (at, token_id, event, from_state, to_state, detail) VALUES (?, NULL, ?, NULL, NULL, ?)')
        .run(at, options.reprint ? 'labels-reprinted' : 'labels-printed', `sheet ${sheetId} positions ${first + 1}-${first + chosen.length} on ${this.printer.name}: ${result.ok ? 'sent' : 'failed'}`);
    })();
    const message = result.ok
      ? `${options.reprint ? 'Reprinted' : 'Printed'} ${chosen.length} label${chosen.length === 1 ? '' : 's'} (positions ${first + 1}–${first + chosen.length}) on ${this.printer.name}.`
      : result.error.message;
    this.lastPrint.set(sheetId, { ok: result.ok, message, at });
    this.options.log?.(`print ${sheetId}: ${result.ok ? 'ok' : 'failed'} (${chosen.length} labels)`);
    const view = this.view(sheetId);
    for (const listener of this.listeners) listener(view);
    if (!result.ok) throw new StationError(result.error);
    return { printed: chosen.length, printer: this.printer.name };
  }

  onSheet(listener: (sheet: LabelSheetView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Placements are serialised: two slots finishing together get consecutive positions. */
  place(token: TokenRecord, board: BoardInfo, slotIndex: number): Promise<PlacedLabel> {
    const next = this.chain.then(() => this.placeNow(token, board, slotIndex));
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** The open sheet, or the one just filled (still to print or reprint). */
  currentSheet(): LabelSheetView | null {
    const sheet = this.latestSheetId();
    return sheet ? this.view(sheet) : null;
  }

  pdfPath(sheetId: string): string {
    if (!SHEET_ID_PATTERN.test(sheetId)) throw new Error('bad sheet id');
    return join(this.outDir, `${sheetId}.pdf`);
  }

  private async placeNow(token: TokenRecord, board: BoardInfo, slotIndex: number): Promise<PlacedLabel> {
    const stock = getLabelStock(this.product.labelStockId);
    const capacity = labelsPerPage(stock);
    const serial = `${this.stationId}-${String(token.id).padStart(6, '0')}`;
    const ref = this.db.transaction((): LabelRef => {
      let sheetId = this.openSheetId();
      let position = sheetId
        ? (this.db.prepare('SELECT COUNT(*) AS n FROM labels WHERE sheet_id = ?').get(sheetId) as { n: number }).n
        : capacity;
      if (!sheetId || position >= capacity) {
        if (sheetId) this.db.prepare('UPDATE sheets SET closed_at = ? WHERE id = ?').run(new Date().toISOString(), sheetId);
        const count = (this.db.prepare('SELECT COUNT(*) AS n FROM sheets').get() as { n: number }).n;
        // Short enough to read off the screen and write on the printed sheet's edge.
        sheetId = `${this.stationId}-S${String(count + 1).padStart(4, '0')}`;
        position = 0;
        this.db
          .prepare('INSERT INTO sheets (id, stock_id, capacity, created_at) VALUES (?, ?, ?, ?)')
          .run(sheetId, stock.id, capacity, new Date().toISOString());
      }
      this.db
        .prepare('INSERT INTO labels (sheet_id, position, token_id, slot_index, serial, mac, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(sheetId, position, token.id, slotIndex, serial, board.mac ?? null, new Date().toISOString());
      return { sheetId, position };
    })();
    const models = await this.renderSheet(ref.sheetId);
    const view = this.view(ref.sheetId);
    for (const listener of this.listeners) listener(view);
    if (this.options.autoPrintFullSheet && ref.position === labelsPerPage(stock) - 1) {
      // A full sheet prints by itself; queued behind this placement, failures shown on the sheet.
      this.printSheet({ sheetId: ref.sheetId }).catch((err: unknown) => this.options.log?.(`auto-print of ${ref.sheetId} failed: ${String(err)}`));
    }
    return { ...ref, qrPayload: models[ref.position]?.qrPayload ?? '' };
  }

  private models(rows: LabelRow[]): LabelModel[] {
    return rows.map((row) =>
      buildLabelModel(
        {
          qrToken: row.qrToken,
          orgId: row.orgId,
          templateId: row.templateId,
          productName: this.product.name,
          serial: row.serial,
          ...(row.mac ? { mac: row.mac } : {}),
        },
        this.product.qrTemplate,
      ),
    );
  }

  private async renderSheet(sheetId: string): Promise<LabelModel[]> {
    const models = this.models(this.rows(sheetId));
    // Positions are dense from 0, so rendering the rows in order puts each label in its cell.
    const pdf = await renderLabelSheetPdf(models, this.stockIdOf(sheetId));
    const path = this.pdfPath(sheetId);
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, pdf);
    renameSync(tmp, path);
    return models;
  }

  /** The open sheet, or the last one closed (what "print" and "reprint" mean with no sheet named). */
  private latestSheetId(): string | null {
    const row = this.db.prepare('SELECT id FROM sheets ORDER BY rowid DESC LIMIT 1').get() as { id: string } | undefined;
    return row?.id ?? null;
  }

  private openSheetId(): string | null {
    const row = this.db.prepare('SELECT id FROM sheets WHERE closed_at IS NULL ORDER BY created_at DESC, rowid DESC LIMIT 1').get() as
      | { id: string }
      | undefined;
    return row?.id ?? null;
  }

  private rows(sheetId: string): LabelRow[] {
    return this.db
      .prepare(
        `SELECT l.position, l.print_job_id AS printJobId, l.slot_index AS slotIndex, t.qr_token AS qrToken, l.serial, l.mac, b.org_id AS orgId,
                b.template_id AS templateId
         FROM labels l JOIN tokens t ON t.id = l.token_id JOIN batches b ON b.id = t.batch_id
         WHERE l.sheet_id = ? ORDER BY l.position`,
      )
      .all(sheetId) as LabelRow[];
  }

  /** The stock a sheet was started on: the paper in the printer, even after the product's stock changed. */
  private stockIdOf(sheetId: string): string {
    const row = this.db.prepare('SELECT stock_id AS stockId FROM sheets WHERE id = ?').get(sheetId) as { stockId: string } | undefined;
    return row?.stockId ?? this.product.labelStockId;
  }

  private view(sheetId: string): LabelSheetView {
    const stock = getLabelStock(this.stockIdOf(sheetId));
    const rows = this.rows(sheetId);
    const last = this.lastPrint.get(sheetId);
    return {
      id: sheetId,
      capacity: labelsPerPage(stock),
      labels: rows.map((r) => ({ position: r.position, slotIndex: r.slotIndex, qrToken: r.qrToken, serial: r.serial })),
      pdfUrl: `/labels/${sheetId}.pdf`,
      printed: rows.filter((r) => r.printJobId !== null).length,
      printer: this.printer.name,
      ...(last ? { lastPrint: last } : {}),
    };
  }
}
