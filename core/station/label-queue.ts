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

/** Sheet ids: `<station id>-S<number>`, e.g. `ST1A2B-S0007`; also what the PDF file is named. */
export const SHEET_ID_PATTERN = /^[A-Z0-9]{1,16}-S[0-9]{4,9}$/;

interface LabelRow {
  position: number;
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

  constructor(
    private readonly db: StationDatabase,
    private readonly product: ProductConfig,
    private readonly stationId: string,
    private readonly outDir: string,
  ) {
    mkdirSync(outDir, { recursive: true });
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

  currentSheet(): LabelSheetView | null {
    const sheet = this.openSheetId();
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
    return { ...ref, qrPayload: models[ref.position]?.qrPayload ?? '' };
  }

  private async renderSheet(sheetId: string): Promise<LabelModel[]> {
    const rows = this.rows(sheetId);
    const models: LabelModel[] = rows.map((row) =>
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
    // Positions are dense from 0, so rendering the rows in order puts each label in its cell.
    const pdf = await renderLabelSheetPdf(models, this.product.labelStockId);
    const path = this.pdfPath(sheetId);
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, pdf);
    renameSync(tmp, path);
    return models;
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
        `SELECT l.position, l.slot_index AS slotIndex, t.qr_token AS qrToken, l.serial, l.mac, b.org_id AS orgId,
                b.template_id AS templateId
         FROM labels l JOIN tokens t ON t.id = l.token_id JOIN batches b ON b.id = t.batch_id
         WHERE l.sheet_id = ? ORDER BY l.position`,
      )
      .all(sheetId) as LabelRow[];
  }

  private view(sheetId: string): LabelSheetView {
    const stock = getLabelStock(this.product.labelStockId);
    return {
      id: sheetId,
      capacity: labelsPerPage(stock),
      labels: this.rows(sheetId).map((r) => ({ position: r.position, slotIndex: r.slotIndex, qrToken: r.qrToken, serial: r.serial })),
      pdfUrl: `/labels/${sheetId}.pdf`,
    };
  }
}
