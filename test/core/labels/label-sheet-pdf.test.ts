import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { buildLabelModel, QR_PAYLOAD_MAX_CHARS, type LabelModel } from '../../../core/labels/label-model.js';
import { renderLabelSheetPdf } from '../../../core/labels/label-sheet-pdf.js';
import { getLabelStock, labelCellPt, pageSizePt, POINTS_PER_MM } from '../../../core/labels/label-stock.js';
import {
  assertLabelToolsInstalled,
  decodeLabelSheet,
  extractPdfText,
  pdfPageSizes,
  pdfRawContent,
  pdfWordBoxes,
  rasterizePdfPage,
  type DecodedLabel,
  type GrayImage,
} from '../../support/label-decode.js';

const FIXED_DATE = new Date('2026-11-22T08:00:00Z');
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** 32 characters of the static-token alphabet, derived from a seed so runs are repeatable. */
function token32(seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  return Array.from(digest.subarray(0, 32), (b) => ALPHABET[b % 64]).join('');
}

interface TokenRow {
  qrToken: string;
  authToken: string;
  orgId: number;
  productName: string;
  serial: string;
  mac: string;
}

/** What the station's queue would hand the label step: a row that also carries the AuthToken. */
function tokenRows(n: number, batch = 'b1'): TokenRow[] {
  return Array.from({ length: n }, (_, i) => ({
    qrToken: `sqr_${token32(`${batch}-qr-${i}`)}`,
    authToken: token32(`${batch}-auth-${i}`),
    orgId: 4821,
    productName: 'Smart Plug Mini',
    serial: `FL-2026-${String(i + 1).padStart(6, '0')}`,
    mac: `24:0A:C4:00:${String(Math.floor(i / 100)).padStart(2, '0')}:${String(i % 100).padStart(2, '0')}`,
  }));
}

function labelsFor(rows: TokenRow[]): LabelModel[] {
  return rows.map((row) => buildLabelModel(row));
}

/** Expected decode result: every cell of every page (pages 1-based), payload or null. */
function expectedCells(payloads: string[], perPage: number, start: number): DecodedLabel[] {
  const pages = Math.ceil((start + payloads.length) / perPage);
  const cells: DecodedLabel[] = [];
  for (let page = 0; page < pages; page++) {
    for (let position = 0; position < perPage; position++) {
      const i = page * perPage + position - start;
      cells.push({ page: page + 1, position, payload: i >= 0 && i < payloads.length ? (payloads[i] ?? null) : null });
    }
  }
  return cells;
}

/** Bounding box (px) of ink inside a rectangle of a raster. */
function inkBox(img: GrayImage, x0: number, y0: number, x1: number, y1: number) {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let y = Math.max(0, y0); y < Math.min(img.height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(img.width, x1); x++) {
      if ((img.pixels[y * img.width + x] ?? 255) < 128) {
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
    }
  }
  return { minX, minY, maxX, maxY };
}

/** A secret counts as leaked when any run of this many of its characters shows up (a cut-off line too). */
const LEAK_WINDOW_CHARS = 8;

function containsPart(haystack: string, secret: string): boolean {
  for (let i = 0; i + LEAK_WINDOW_CHARS <= secret.length; i++) {
    if (haystack.includes(secret.slice(i, i + LEAK_WINDOW_CHARS))) return true;
  }
  return false;
}

/**
 * Every place a secret could leak into a printed sheet: the decoded QR codes, the text a reader
 * extracts, and the raw file (streams inflated, metadata included). Returns where each was found.
 */
async function findLeaks(pdf: Buffer, stockId: string, secrets: string[]): Promise<string[]> {
  const [cells, text, raw] = await Promise.all([decodeLabelSheet(pdf, stockId), extractPdfText(pdf), pdfRawContent(pdf)]);
  const payloads = cells.map((c) => c.payload ?? '').join('\n');
  const found: string[] = [];
  for (const secret of secrets) {
    if (containsPart(payloads, secret)) found.push(`qr:${secret}`);
    if (containsPart(text, secret)) found.push(`text:${secret}`);
    if (containsPart(raw, secret)) found.push(`raw:${secret}`);
  }
  return found;
}

beforeAll(async () => {
  // Fails (never skips) with the Debian package names when poppler-utils or zbar-tools is missing.
  await assertLabelToolsInstalled();
});

describe('renderLabelSheetPdf', () => {
  it('prints a full A4 3x8 sheet whose 24 QR codes decode to the exact payloads in order', async () => {
    const labels = labelsFor(tokenRows(24));
    const pdf = await renderLabelSheetPdf(labels, 'a4-3x8', { creationDate: FIXED_DATE });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const cells = await decodeLabelSheet(pdf, 'a4-3x8');
    expect(cells).toEqual(expectedCells(labels.map((l) => l.qrPayload), 24, 0));
    expect(cells.filter((c) => c.payload !== null)).toHaveLength(24);
    const sizes = await pdfPageSizes(pdf);
    expect(sizes).toHaveLength(1);
    expect(sizes[0]!.width).toBeCloseTo(pageSizePt(getLabelStock('a4-3x8')).width, 1);
    expect(sizes[0]!.height).toBeCloseTo(pageSizePt(getLabelStock('a4-3x8')).height, 1);
  });

  it('prints the human-readable lines: product, serial, MAC and human code', async () => {
    const rows = tokenRows(3);
    const pdf = await renderLabelSheetPdf(labelsFor(rows), 'a4-3x8', { creationDate: FIXED_DATE });
    const text = await extractPdfText(pdf);
    for (const row of rows) {
      const label = buildLabelModel(row);
      expect(text).toContain(`S/N ${row.serial}`);
      expect(text).toContain(`MAC ${label.mac!}`);
      expect(text).toContain(label.humanCode);
    }
    expect(text.match(/Smart Plug Mini/g)).toHaveLength(3);
  });

  it('draws the QR at least 18 mm across on the A4 3x8 stock', async () => {
    const pdf = await renderLabelSheetPdf(labelsFor(tokenRows(1)), 'a4-3x8', { creationDate: FIXED_DATE });
    const dpi = 300;
    const img = await rasterizePdfPage(pdf, 1, dpi);
    const cell = labelCellPt(getLabelStock('a4-3x8'), 0);
    const px = (pt: number) => Math.round((pt * dpi) / 72);
    // The QR box (quiet zone included) is the cell height less 1 mm each side, from 1 mm in; the
    // text starts 0.5 mm right of it, so the first 36 mm of the cell hold only the QR code.
    const box = inkBox(img, px(cell.x), px(cell.y), px(cell.x + 36 * POINTS_PER_MM), px(cell.y + cell.height));
    const widthMm = ((box.maxX - box.minX + 1) / dpi) * 25.4;
    const heightMm = ((box.maxY - box.minY + 1) / dpi) * 25.4;
    expect(widthMm).toBeGreaterThanOrEqual(18);
    expect(heightMm).toBeCloseTo(widthMm, 0);
    // Quiet zone: nothing printed within 4 modules (>= 2 mm here) left of and above the symbol.
    expect(((box.minX - px(cell.x)) / dpi) * 25.4).toBeGreaterThanOrEqual(2);
    expect(((box.minY - px(cell.y)) / dpi) * 25.4).toBeGreaterThanOrEqual(2);
  });

  it('continues a partly used sheet from startPosition 5 and leaves the used cells blank', async () => {
    const labels = labelsFor(tokenRows(7, 'partial'));
    const pdf = await renderLabelSheetPdf(labels, 'a4-3x8', { startPosition: 5, creationDate: FIXED_DATE });
    const cells = await decodeLabelSheet(pdf, 'a4-3x8');
    expect(cells).toEqual(expectedCells(labels.map((l) => l.qrPayload), 24, 5));
    expect(cells.slice(0, 5).every((c) => c.payload === null)).toBe(true);
    expect(cells[5]!.payload).toBe(labels[0]!.qrPayload);
    expect(cells[11]!.payload).toBe(labels[6]!.qrPayload);
    // Nothing at all is printed in the cells before the start (not even text).
    const words = await pdfWordBoxes(pdf);
    const firstUsed = labelCellPt(getLabelStock('a4-3x8'), 5);
    expect(words.every((w) => w.yMin >= firstUsed.y - 0.5)).toBe(true);
  });

  it('flows onto more pages when the labels do not fit, each later page starting at the top', async () => {
    const labels = labelsFor(tokenRows(30, 'multi'));
    const pdf = await renderLabelSheetPdf(labels, 'a4-3x8', { startPosition: 20, creationDate: FIXED_DATE });
    const cells = await decodeLabelSheet(pdf, 'a4-3x8');
    expect(cells).toEqual(expectedCells(labels.map((l) => l.qrPayload), 24, 20));
    expect(new Set(cells.map((c) => c.page))).toEqual(new Set([1, 2, 3]));
    expect(cells.filter((c) => c.page === 1 && c.payload !== null).map((c) => c.position)).toEqual([20, 21, 22, 23]);
    expect(cells.filter((c) => c.page === 2 && c.payload !== null)).toHaveLength(24);
    expect(cells.filter((c) => c.page === 3 && c.payload !== null).map((c) => c.position)).toEqual([0, 1]);
  });

  it('prints a full Letter 3x10 sheet that decodes 30/30 in place', async () => {
    const labels = labelsFor(tokenRows(30, 'letter'));
    const pdf = await renderLabelSheetPdf(labels, 'letter-3x10', { creationDate: FIXED_DATE });
    expect(await pdfPageSizes(pdf)).toEqual([{ width: 612, height: 792 }]);
    expect(await decodeLabelSheet(pdf, 'letter-3x10')).toEqual(expectedCells(labels.map((l) => l.qrPayload), 30, 0));
  });

  it('prints one label per page on the 62 mm roll and on the 2x1 in thermal stock', async () => {
    for (const stockId of ['roll-62x29', 'thermal-2x1in']) {
      const labels = labelsFor(tokenRows(3, stockId));
      const pdf = await renderLabelSheetPdf(labels, stockId, { creationDate: FIXED_DATE });
      const page = pageSizePt(getLabelStock(stockId));
      const sizes = await pdfPageSizes(pdf);
      expect(sizes).toHaveLength(3);
      for (const s of sizes) {
        expect(s.width).toBeCloseTo(page.width, 1);
        expect(s.height).toBeCloseTo(page.height, 1);
      }
      expect(await decodeLabelSheet(pdf, stockId)).toEqual(expectedCells(labels.map((l) => l.qrPayload), 1, 0));
    }
  });

  it('fits the longest allowed payload on the smallest stock and it still scans', async () => {
    const [row] = tokenRows(1, 'long');
    const template = `https://claim.example.com/{orgId}/{qrToken}?s={serial}&p=`;
    const base = buildLabelModel(row!, template);
    const label = { ...base, qrPayload: base.qrPayload.padEnd(QR_PAYLOAD_MAX_CHARS, 'x') };
    expect(label.qrPayload).toHaveLength(QR_PAYLOAD_MAX_CHARS);
    const pdf = await renderLabelSheetPdf([label], 'thermal-2x1in', { creationDate: FIXED_DATE });
    expect((await decodeLabelSheet(pdf, 'thermal-2x1in'))[0]!.payload).toBe(label.qrPayload);
  });

  it('keeps every word of a long product name, serial and MAC inside its own label cell', async () => {
    const longName = 'Smart Greenhouse Controller Pro Max with Extra Long Name Edition 2026 Supercalifragilistic';
    const unbroken = 'W'.repeat(80);
    for (const stockId of ['a4-3x8', 'letter-3x10', 'thermal-2x1in']) {
      const rows = tokenRows(3, `overflow-${stockId}`).map((r, i) => ({
        ...r,
        productName: [longName, unbroken, 'Plug'][i]!,
        serial: i === 1 ? `SN-${'9'.repeat(60)}` : r.serial,
      }));
      const labels = labelsFor(rows);
      const pdf = await renderLabelSheetPdf(labels, stockId, { creationDate: FIXED_DATE });
      const stock = getLabelStock(stockId);
      const perPage = stock.columns * stock.rows;
      const words = await pdfWordBoxes(pdf);
      expect(words.length).toBeGreaterThan(10);
      for (const w of words) {
        // Each word must lie inside the one cell that contains its centre (1 mm in from the edges).
        const cx = (w.xMin + w.xMax) / 2;
        const cy = (w.yMin + w.yMax) / 2;
        const cells = Array.from({ length: perPage }, (_, p) => labelCellPt(stock, p));
        const cell = cells.find((c) => cx >= c.x && cx <= c.x + c.width && cy >= c.y && cy <= c.y + c.height);
        expect(cell, `${stockId}: "${w.text}" is outside every cell`).toBeDefined();
        const inset = 1 * POINTS_PER_MM;
        expect(w.xMin, `${stockId}: "${w.text}"`).toBeGreaterThanOrEqual(cell!.x + inset);
        expect(w.xMax, `${stockId}: "${w.text}"`).toBeLessThanOrEqual(cell!.x + cell!.width - inset);
        expect(w.yMin, `${stockId}: "${w.text}"`).toBeGreaterThanOrEqual(cell!.y);
        expect(w.yMax, `${stockId}: "${w.text}"`).toBeLessThanOrEqual(cell!.y + cell!.height);
      }
      const text = await extractPdfText(pdf);
      // Cut names end in an ellipsis; the short name and the human codes are untouched.
      expect(text).toContain('\u2026');
      expect(text).toContain('Plug');
      for (const l of labels) expect(text).toContain(l.humanCode);
      // Still scannable next to the squeezed text.
      expect((await decodeLabelSheet(pdf, stockId)).filter((c) => c.payload !== null).map((c) => c.payload)).toEqual(
        labels.map((l) => l.qrPayload),
      );
    }
  });

  it('never puts the AuthToken from the token row into the QR codes, the text or the file', async () => {
    for (const stockId of ['a4-3x8', 'letter-3x10']) {
      const rows = tokenRows(24, `secret-${stockId}`);
      const secrets = rows.map((r) => r.authToken);
      const pdf = await renderLabelSheetPdf(labelsFor(rows), stockId, { creationDate: FIXED_DATE });
      expect(await findLeaks(pdf, stockId, secrets)).toEqual([]);
      expect(pdf.includes(Buffer.from(secrets[0]!))).toBe(false);
      // Control: the same search does see what is on the labels, so the empty result above means something.
      expect(await findLeaks(pdf, stockId, [rows[0]!.qrToken, rows[3]!.serial])).toEqual([
        `qr:${rows[0]!.qrToken}`,
        `text:${rows[3]!.serial}`,
        `raw:${rows[3]!.serial}`,
      ]);
    }
  });

  it('the leak search catches an AuthToken that does get onto a label (QR, text or metadata-free raw)', async () => {
    const rows = tokenRows(2, 'leaky');
    const secrets = rows.map((r) => r.authToken);
    const leaky = labelsFor(rows);
    // Letter cells have room for a 32-character serial line without truncating it.
    leaky[0] = { ...leaky[0]!, serial: rows[0]!.authToken };
    leaky[1] = { ...leaky[1]!, qrPayload: `${rows[1]!.qrToken}+${rows[1]!.authToken}` };
    const pdf = await renderLabelSheetPdf(leaky, 'letter-3x10', { creationDate: FIXED_DATE });
    expect((await findLeaks(pdf, 'letter-3x10', secrets)).sort()).toEqual(
      [`qr:${rows[1]!.authToken}`, `raw:${rows[0]!.authToken}`, `text:${rows[0]!.authToken}`].sort(),
    );
  });

  it('refuses a label object that carries an extra field such as authToken, without echoing its value', async () => {
    const [row] = tokenRows(1, 'spread');
    const spread = { ...buildLabelModel(row!), authToken: row!.authToken } as LabelModel;
    const err = await renderLabelSheetPdf([spread], 'a4-3x8').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StationError);
    expect((err as StationError).code).toBe('INVALID_INPUT');
    expect((err as StationError).message).toContain('authToken');
    expect((err as StationError).message).not.toContain(row!.authToken);
  });

  it('produces byte-identical PDFs for the same input and creation date', async () => {
    const labels = labelsFor(tokenRows(5, 'det'));
    const a = await renderLabelSheetPdf(labels, 'a4-3x8', { creationDate: FIXED_DATE });
    const b = await renderLabelSheetPdf(labels, 'a4-3x8', { creationDate: FIXED_DATE });
    expect(a.equals(b)).toBe(true);
    const c = await renderLabelSheetPdf(labels, 'a4-3x8', { creationDate: new Date('2027-01-01T00:00:00Z') });
    expect(a.equals(c)).toBe(false);
  });

  it('shifts everything by the station printer offset', async () => {
    // One label in cell 4 (row 1, column 1), away from the page edges and with no neighbours.
    const [label] = labelsFor(tokenRows(1, 'offset'));
    const options = { creationDate: FIXED_DATE, startPosition: 4 };
    const plain = await renderLabelSheetPdf([label!], 'a4-3x8', options);
    const shifted = await renderLabelSheetPdf([label!], 'a4-3x8', { ...options, offsetMm: { x: 3, y: -2 } });
    const dpi = 300;
    const [imgA, imgB] = await Promise.all([rasterizePdfPage(plain, 1, dpi), rasterizePdfPage(shifted, 1, dpi)]);
    const a = inkBox(imgA, 0, 0, imgA.width, imgA.height);
    const b = inkBox(imgB, 0, 0, imgB.width, imgB.height);
    expect(Number.isFinite(a.minX)).toBe(true);
    for (const [from, to, mm] of [
      [a.minX, b.minX, 3],
      [a.maxX, b.maxX, 3],
      [a.minY, b.minY, -2],
      [a.maxY, b.maxY, -2],
    ] as const) {
      expect(Math.abs(((to - from) / dpi) * 25.4 - mm)).toBeLessThan(0.2);
    }
  });

  it('decodes a full sheet printed with an offset when the decoder is told the offset', async () => {
    const labels = labelsFor(tokenRows(24, 'offset-sheet'));
    const offsetMm = { x: -1.5, y: 2 };
    const pdf = await renderLabelSheetPdf(labels, 'a4-3x8', { creationDate: FIXED_DATE, offsetMm });
    expect(await decodeLabelSheet(pdf, 'a4-3x8', { offsetMm })).toEqual(expectedCells(labels.map((l) => l.qrPayload), 24, 0));
  });

  it('rejects bad requests with INVALID_INPUT or NOT_FOUND', async () => {
    const labels = labelsFor(tokenRows(2, 'bad'));
    const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e as StationError).code);
    expect(await code(renderLabelSheetPdf([], 'a4-3x8'))).toBe('INVALID_INPUT');
    expect(await code(renderLabelSheetPdf(labels, 'a4-3x8', { startPosition: 24 }))).toBe('INVALID_INPUT');
    expect(await code(renderLabelSheetPdf(labels, 'a4-3x8', { startPosition: -1 }))).toBe('INVALID_INPUT');
    expect(await code(renderLabelSheetPdf(labels, 'a4-3x8', { offsetMm: { x: 50, y: 0 } }))).toBe('INVALID_INPUT');
    expect(await code(renderLabelSheetPdf(labels, 'no-such-stock'))).toBe('NOT_FOUND');
    expect(await code(renderLabelSheetPdf([{ ...labels[0]!, qrPayload: 'x'.repeat(QR_PAYLOAD_MAX_CHARS + 1) }], 'a4-3x8'))).toBe(
      'INVALID_INPUT',
    );
  });
});
