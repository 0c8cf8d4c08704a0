import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStationDatabase, type StationDatabase } from '../../../core/db/open-database.js';
import { DEMO_PRODUCT } from '../../../core/product/product.js';
import { TokenQueue } from '../../../core/queue/token-queue.js';
import { LabelQueue } from '../../../core/station/label-queue.js';
import { decodeLabelPdf, extractPdfText } from '../../support/label-decode.js';
import { printFailure, type Printer, type PrintJob, type PrintResult } from '../../../core/printing/printer.js';

const product = { ...DEMO_PRODUCT, templateId: '1', orgId: 42 };
const auth = (i: number) => `AUTH${String(i).padStart(28, '0')}`;
const qr = (i: number) => `sqr_${String(i).padStart(32, 'q')}`;

/** Records what it was asked to print; can be switched off like a printer out of paper. */
class FakePrinter implements Printer {
  readonly name = 'fake-zebra';
  jobs: { title: string; pdf: Buffer }[] = [];
  broken = false;
  async print(job: PrintJob): Promise<PrintResult> {
    if (this.broken) return printFailure(this.name, 'printer-stopped', 'The printer fake-zebra is stopped — check paper and lid, then print again.');
    this.jobs.push({ title: job.title, pdf: job.document.data as Buffer });
    return { ok: true, printer: this.name, jobId: `fake-${this.jobs.length}` };
  }
}

describe('LabelQueue', () => {
  let dir: string;
  let db: StationDatabase;
  let queue: TokenQueue;
  let labels: LabelQueue;
  let printer: FakePrinter;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-labels-'));
    db = openStationDatabase(join(dir, 'station.db'));
    queue = new TokenQueue(db);
    printer = new FakePrinter();
    queue.importBatch({
      batchId: 'b',
      cloudBatchId: 'b',
      templateId: '1',
      orgId: 42,
      tokens: Array.from({ length: 30 }, (_, i) => ({ authToken: auth(i + 1), qrToken: qr(i + 1) })),
    });
    labels = new LabelQueue(db, product, 'ST1', join(dir, 'labels'), printer);
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function finish(slotIndex: number): Promise<{ id: number; sheetId: string; position: number }> {
    const t = queue.reserve(`slot-${slotIndex}`, 'p');
    queue.advance(t.id, 'written', { boardMac: `24:0a:c4:00:00:${String(t.id).padStart(2, '0')}` });
    const verified = queue.advance(t.id, 'verified');
    const ref = await labels.place(verified, { port: 'p', transport: 'virtual', mac: verified.boardMac ?? undefined }, slotIndex);
    queue.advance(t.id, 'labelled', { labelSheetId: ref.sheetId, labelPosition: ref.position });
    return { id: t.id, ...ref };
  }

  it('places labels in completion order, starts a new sheet when one is full, and renders every label', async () => {
    // Two slots finishing "at once" still get consecutive positions.
    const first = await Promise.all([finish(1), finish(2)]);
    expect(first.map((r) => r.position).sort()).toEqual([0, 1]);
    const rest = [];
    for (let i = 0; i < 23; i++) rest.push(await finish((i % 2) + 1));
    const all = [...first, ...rest];
    expect(all.slice(0, 24).every((r) => r.sheetId === 'ST1-S0001')).toBe(true);
    expect(all[24]).toMatchObject({ sheetId: 'ST1-S0002', position: 0 });

    const sheet1 = readFileSync(labels.pdfPath('ST1-S0001'));
    const decoded = await decodeLabelPdf(sheet1, product.labelStockId);
    const byPosition = new Map(all.filter((r) => r.sheetId === 'ST1-S0001').map((r) => [r.position, r.id]));
    expect(decoded.filter((d) => d.payload !== null)).toHaveLength(24);
    for (const d of decoded) expect(d.payload).toBe(`${qr(byPosition.get(d.position)!)}+42`);
    const text = await extractPdfText(sheet1);
    for (let i = 1; i <= 25; i++) expect(text).not.toContain(auth(i));
    expect(labels.currentSheet()).toMatchObject({ id: 'ST1-S0002', capacity: 24, labels: [{ position: 0 }] });
  });

  it('refuses sheet ids that could escape the labels folder', () => {
    expect(() => labels.pdfPath('../station')).toThrow();
    expect(existsSync(join(dir, 'labels'))).toBe(true);
  });
  it('prints only what is new on a partial sheet, at its own positions, and keeps the queue on a printer failure', async () => {
    await finish(1);
    await finish(2);
    expect(await labels.printSheet()).toEqual({ printed: 2, printer: 'fake-zebra' });
    await finish(1);
    printer.broken = true;
    await expect(labels.printSheet()).rejects.toThrow(/stopped/);
    expect(labels.currentSheet()).toMatchObject({ printed: 2, lastPrint: { ok: false } });
    printer.broken = false;
    expect(await labels.printSheet()).toEqual({ printed: 1, printer: 'fake-zebra' });
    // The second job put its one label at position 3 (index 2), nothing at 1 and 2: no paper wasted.
    const second = await decodeLabelPdf(printer.jobs[1]!.pdf, product.labelStockId);
    expect(second.filter((d) => d.payload).map((d) => d.position)).toEqual([2]);
    await expect(labels.printSheet()).rejects.toThrow(/already printed/);
    // A reprint is a copy of everything printed, and audited.
    expect(await labels.printSheet({ reprint: true })).toEqual({ printed: 3, printer: 'fake-zebra' });
    const audit = db.prepare(`SELECT event, detail FROM audit_log WHERE event LIKE 'labels-%' ORDER BY id`).all() as { event: string; detail: string }[];
    expect(audit.map((a) => a.event)).toEqual(['labels-printed', 'labels-printed', 'labels-printed', 'labels-reprinted']);
    expect(audit[1]?.detail).toMatch(/failed/);
  });
});
