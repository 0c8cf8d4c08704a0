import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import { z } from 'zod';
import { StationError, stationError } from '../../common/errors.js';
import type { LabelModel } from './label-model.js';
import { QR_PAYLOAD_MAX_CHARS } from './label-model.js';
import {
  getLabelStock,
  labelCellPt,
  labelsPerPage,
  pageSizePt,
  POINTS_PER_MM,
  printerOffsetSchema,
  type LabelStock,
  type PrinterOffsetMm,
  type RectPt,
} from './label-stock.js';

/**
 * Label sheets as PDF. The QR code is drawn as vector rectangles straight from qrcode's module
 * matrix (an order of magnitude faster than embedding PNGs, and sharp at any printer resolution).
 * Layout inside one cell: the QR square on the left, filling the cell height less a small inset;
 * to its right the product name (one line, or two when long), serial, MAC and human code, shrunk to
 * fit and cut with an ellipsis when even the smallest size is too wide. Fonts are the standard PDF
 * fonts (Helvetica, Courier), which every viewer and printer has.
 */

export interface RenderLabelSheetOptions {
  /** This station's printer calibration; replaces the stock's default offset. */
  offsetMm?: PrinterOffsetMm;
  /** 0-based cell on the first page where the first label goes (continuing a partly used sheet). */
  startPosition?: number;
  /** Fixes the PDF's creation date (and with it the file id), making the output byte-for-byte repeatable. */
  creationDate?: Date;
  /** Hairline cell borders, for an alignment test print; off for production labels (die-cut stock). */
  outline?: boolean;
}

/** QR error correction level M recovers ~15 % damage (scuffed labels) at moderate size cost. */
export const QR_ERROR_CORRECTION = 'M' as const;
/** The QR specification's quiet zone: 4 light modules on every side. */
export const QR_QUIET_ZONE_MODULES = 4;
/** Below this module size cheap scanners and 203-dpi thermal heads stop being reliable. */
export const MIN_QR_MODULE_MM = 0.33;

/** White paper kept around the QR symbol (quiet zone included) so it stays on the label when cut. */
const CELL_INSET_MM = 1;
/** Space between the right edge of the text and the cell edge. */
const TEXT_RIGHT_INSET_MM = 2;
/** Space between the QR symbol's box (its quiet zone already gives white space) and the text. */
const TEXT_GAP_MM = 0.5;
/** The QR box never takes more than this share of the cell width, leaving room for text. */
const MAX_QR_WIDTH_SHARE = 0.55;
/** Font sizes (pt) for a 37 mm tall cell; other heights scale from these. */
const REFERENCE_CELL_HEIGHT_PT = 37 * POINTS_PER_MM;
const NAME_SIZE_PT = 11;
const DETAIL_SIZE_PT = 8.5;
const CODE_SIZE_PT = 13;
/** Sizes scale as (height / 37 mm) ** this, so 1-inch labels get ~80 % rather than ~69 %. */
const FONT_SCALE_EXPONENT = 0.6;
/** The product name shrinks to this share of its size before it wraps onto a second line. */
const NAME_MIN_SHARE = 0.8;
/** Smallest size printed; below it text is truncated instead of shrunk. */
const MIN_FONT_SIZE_PT = 5;
const LINE_HEIGHT = 1.3;
const ELLIPSIS = '\u2026';

const FONT_NAME = 'Helvetica-Bold';
const FONT_DETAIL = 'Helvetica';
const FONT_CODE = 'Courier-Bold';

const labelSchema = z.strictObject({
  qrPayload: z.string().min(1).max(QR_PAYLOAD_MAX_CHARS).regex(/^[\x20-\x7e]+$/),
  productName: z.string().min(1).max(200),
  serial: z.string().min(1).max(100),
  mac: z.string().min(1).max(64).optional(),
  humanCode: z.string().min(1).max(32),
});

function invalid(message: string): never {
  throw stationError('INVALID_INPUT', message);
}

/**
 * A strict check on every label: an unexpected key (say a spread token row's `authToken`) is refused
 * rather than ignored, so a caller that builds labels the wrong way finds out at once. The message
 * names the key, never its value. Shared with the ZPL renderer, so both outputs refuse the same input.
 */
export function validateLabels(labels: readonly LabelModel[]): void {
  if (!Array.isArray(labels) || labels.length === 0) invalid('There are no labels to print.');
  labels.forEach((label, i) => {
    const result = labelSchema.safeParse(label);
    if (result.success) return;
    const issue = result.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      invalid(`Label ${i + 1} carries a field "${issue.keys.join('", "')}" that labels never print; build labels with buildLabelModel().`);
    }
    invalid(`Label ${i + 1} is invalid (${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'unknown problem'}).`);
  });
}

/**
 * The standard PDF fonts are encoded in WinAnsi: Latin-1 plus a few typographic characters. Anything
 * else would print as a blank box, so it is shown as '?' instead.
 */
const WIN_ANSI_EXTRAS = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
function toWinAnsi(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0x3f;
    if (code < 0x20 || (code >= 0x7f && code < 0xa0)) out += ' ';
    else if (code <= 0xff || WIN_ANSI_EXTRAS.has(ch)) out += ch;
    else out += '?';
  }
  return out;
}

interface FittedLine {
  text: string;
  font: string;
  size: number;
}

/** Width of `text` at 1 pt; widths scale linearly with the font size. */
function unitWidth(doc: PDFKit.PDFDocument, font: string, text: string): number {
  doc.font(font).fontSize(1);
  return doc.widthOfString(text);
}

/** The longest prefix of `text` that fits `maxWidth` at `size` with an ellipsis after it. */
function truncate(doc: PDFKit.PDFDocument, font: string, text: string, size: number, maxWidth: number): string {
  const chars = [...text];
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (unitWidth(doc, font, chars.slice(0, mid).join('').trimEnd() + ELLIPSIS) * size <= maxWidth) lo = mid;
    else hi = mid - 1;
  }
  return chars.slice(0, lo).join('').trimEnd() + ELLIPSIS;
}

/** Largest size (quarter points, at most `maxSize`) at which `text` fits on one line, or null below `minSize`. */
function sizeToFit(doc: PDFKit.PDFDocument, font: string, text: string, maxSize: number, minSize: number, maxWidth: number): number | null {
  const w = unitWidth(doc, font, text);
  const size = w * maxSize <= maxWidth ? maxSize : Math.floor((maxWidth / w) * 4) / 4;
  return size >= minSize ? size : null;
}

/** One line, shrunk to fit down to MIN_FONT_SIZE_PT, then cut with an ellipsis. */
function fitLine(doc: PDFKit.PDFDocument, text: string, font: string, maxSize: number, maxWidth: number): FittedLine {
  const size = sizeToFit(doc, font, text, maxSize, MIN_FONT_SIZE_PT, maxWidth);
  if (size !== null) return { text, font, size };
  return { text: truncate(doc, font, text, MIN_FONT_SIZE_PT, maxWidth), font, size: MIN_FONT_SIZE_PT };
}

/** Greedy word wrap into at most two lines; null when the words do not fit in two. */
function wrapTwo(doc: PDFKit.PDFDocument, font: string, text: string, size: number, maxWidth: number): [string, string] | null {
  const words = text.split(/\s+/).filter(Boolean);
  let first = '';
  let i = 0;
  for (; i < words.length; i++) {
    const next = first ? `${first} ${words[i]}` : (words[i] ?? '');
    if (unitWidth(doc, font, next) * size > maxWidth) break;
    first = next;
  }
  if (first === '' || i === words.length) return null;
  const second = words.slice(i).join(' ');
  return unitWidth(doc, font, second) * size <= maxWidth ? [first, second] : null;
}

/**
 * The product name: one line if it fits at NAME_MIN_SHARE of its size or more, else two lines at that
 * size (word-wrapped), else two lines with the second cut by an ellipsis. Product names are long more
 * often than anything else on the label, and shrinking them to 5 pt makes them unreadable.
 */
function fitName(doc: PDFKit.PDFDocument, text: string, maxSize: number, maxWidth: number): FittedLine[] {
  const floor = Math.max(MIN_FONT_SIZE_PT, maxSize * NAME_MIN_SHARE);
  const single = sizeToFit(doc, FONT_NAME, text, maxSize, floor, maxWidth);
  if (single !== null) return [{ text, font: FONT_NAME, size: single }];
  const wrapped = wrapTwo(doc, FONT_NAME, text, floor, maxWidth);
  if (wrapped) return wrapped.map((t) => ({ text: t, font: FONT_NAME, size: floor }));
  const words = text.split(/\s+/).filter(Boolean);
  let first = '';
  let rest = text;
  for (let i = 0; i < words.length; i++) {
    const next = first ? `${first} ${words[i]}` : (words[i] ?? '');
    if (unitWidth(doc, FONT_NAME, next) * floor > maxWidth) break;
    first = next;
    rest = words.slice(i + 1).join(' ');
  }
  // A single word wider than the whole line: cut it on one line.
  if (first === '') return [{ text: truncate(doc, FONT_NAME, text, floor, maxWidth), font: FONT_NAME, size: floor }];
  return [
    { text: first, font: FONT_NAME, size: floor },
    { text: truncate(doc, FONT_NAME, rest, floor, maxWidth), font: FONT_NAME, size: floor },
  ];
}

/**
 * QR symbols already encoded, by payload. The open sheet is drawn again after every placement, so
 * without this each label's symbol (mask selection is most of the QR cost) would be encoded up to
 * a sheet's capacity times. Payloads are `{qrToken}+{orgId}`, never an AuthToken. Oldest dropped first.
 */
const QR_CACHE_ENTRIES = 512;
const qrCache = new Map<string, QRCode.QRCode>();

function encodeQr(payload: string): QRCode.QRCode {
  const cached = qrCache.get(payload);
  if (cached) return cached;
  const qr = QRCode.create(payload, { errorCorrectionLevel: QR_ERROR_CORRECTION });
  if (qrCache.size >= QR_CACHE_ENTRIES) qrCache.delete(qrCache.keys().next().value!);
  qrCache.set(payload, qr);
  return qr;
}

/** Lets timers and I/O run between two labels: a sheet is many small tasks, not one long one. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Draws the QR symbol, quiet zone included, into the square at (x, y) of side `box`. */
function drawQr(doc: PDFKit.PDFDocument, payload: string, x: number, y: number, box: number, labelIndex: number): void {
  const qr = encodeQr(payload);
  const n = qr.modules.size;
  const dark = qr.modules.data;
  const module = box / (n + 2 * QR_QUIET_ZONE_MODULES);
  if (module / POINTS_PER_MM < MIN_QR_MODULE_MM) {
    throw stationError(
      'LABEL_FAILED',
      `Label ${labelIndex + 1}: the QR payload is too long for this label size; shorten the QR template or use a larger stock.`,
    );
  }
  // Drawn in module units (one unit = one module) so every rectangle is four small integers: the
  // content stream stays short, which is most of the rendering and compression time.
  doc.save();
  doc.transform(module, 0, 0, module, x + QR_QUIET_ZONE_MODULES * module, y + QR_QUIET_ZONE_MODULES * module);
  // One rectangle per run of dark modules in a row; all rectangles are filled as a single path, so
  // rasterisers compute coverage over the union and leave no hairline seams between rows.
  for (let row = 0; row < n; row++) {
    let col = 0;
    while (col < n) {
      if (!dark[row * n + col]) {
        col++;
        continue;
      }
      const start = col;
      while (col < n && dark[row * n + col]) col++;
      doc.rect(start, row, col - start, 1);
    }
  }
  doc.fill('#000000');
  doc.restore();
}

function drawLabel(doc: PDFKit.PDFDocument, label: LabelModel, cell: RectPt, labelIndex: number): void {
  const inset = CELL_INSET_MM * POINTS_PER_MM;
  const box = Math.min(cell.height - 2 * inset, cell.width * MAX_QR_WIDTH_SHARE);
  const qrX = cell.x + inset;
  const qrY = cell.y + (cell.height - box) / 2;
  drawQr(doc, label.qrPayload, qrX, qrY, box, labelIndex);

  const textX = qrX + box + TEXT_GAP_MM * POINTS_PER_MM;
  const textWidth = cell.x + cell.width - TEXT_RIGHT_INSET_MM * POINTS_PER_MM - textX;
  // Text shrinks more slowly than the cell: on 1-inch labels a linear scale makes serials hard to read.
  const scale = Math.min(1, (cell.height / REFERENCE_CELL_HEIGHT_PT) ** FONT_SCALE_EXPONENT);

  const name = fitName(doc, toWinAnsi(label.productName), NAME_SIZE_PT * scale, textWidth);
  const detailTexts = [toWinAnsi(`S/N ${label.serial}`)];
  if (label.mac) detailTexts.push(toWinAnsi(`MAC ${label.mac}`));
  // Serial and MAC share one size so the block reads as a unit.
  const details = detailTexts.map((t) => fitLine(doc, t, FONT_DETAIL, DETAIL_SIZE_PT * scale, textWidth));
  const detailSize = Math.min(...details.map((d) => d.size));
  for (const d of details) d.size = detailSize;
  const code = fitLine(doc, toWinAnsi(label.humanCode), FONT_CODE, CODE_SIZE_PT * scale, textWidth);

  const fitted = [...name, ...details, code];
  // A little extra space above the human code sets it apart from the details.
  const codeGap = code.size * 0.35;
  const available = cell.height - 2 * inset;
  const natural = fitted.reduce((sum, l) => sum + l.size * LINE_HEIGHT, 0) + codeGap;
  const shrink = natural > available ? available / natural : 1;
  let y = cell.y + (cell.height - natural * shrink) / 2;
  fitted.forEach((line, i) => {
    const size = line.size * shrink;
    if (i === fitted.length - 1) y += codeGap * shrink;
    doc.font(line.font).fontSize(size);
    // pdfkit places text by the top of its line box; lineBreak:false keeps it one line and stops
    // pdfkit from adding pages when text nears the bottom edge.
    doc.text(line.text, textX, y + (size * (LINE_HEIGHT - 1)) / 2, { lineBreak: false });
    y += size * LINE_HEIGHT;
  });
}

function drawOutline(doc: PDFKit.PDFDocument, cell: RectPt): void {
  doc.save().lineWidth(0.25).strokeColor('#999999').rect(cell.x, cell.y, cell.width, cell.height).stroke().restore();
}

/**
 * Renders labels in order, row by row, from `startPosition` on the first page; further pages start at
 * the top-left cell. Resolves with the whole PDF.
 */
export async function renderLabelSheetPdf(
  labels: LabelModel[],
  stockId: string,
  options: RenderLabelSheetOptions = {},
): Promise<Buffer> {
  const stock: LabelStock = getLabelStock(stockId);
  validateLabels(labels);
  const perPage = labelsPerPage(stock);
  const start = options.startPosition ?? 0;
  if (!Number.isInteger(start) || start < 0 || start >= perPage) {
    invalid(`Start position ${start} is not on a ${stock.id} page (0..${perPage - 1}).`);
  }
  let offset = stock.printerOffsetMm;
  if (options.offsetMm !== undefined) {
    const parsed = printerOffsetSchema.safeParse(options.offsetMm);
    if (!parsed.success) invalid('The printer offset must be x and y in millimetres, each within ±10 mm.');
    offset = parsed.data;
  }
  const { width, height } = pageSizePt(stock);

  const doc = new PDFDocument({
    size: [width, height],
    margin: 0,
    autoFirstPage: false,
    compress: true,
    info: {
      Title: `Flashline labels (${stock.name})`,
      Creator: 'Flashline',
      Producer: 'Flashline (PDFKit)',
      CreationDate: options.creationDate ?? new Date(),
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  try {
    // The station renders sheets on its event loop (next to the slots' serial I/O): one label at a
    // time, yielding between labels, keeps every task short. The PDF is the same byte for byte.
    for (const [i, label] of labels.entries()) {
      if (i > 0) await yieldToEventLoop();
      const slot = start + i;
      const position = slot % perPage;
      if (i === 0 || position === 0) {
        doc.addPage({ size: [width, height], margin: 0 });
        if (options.outline) for (let p = 0; p < perPage; p++) drawOutline(doc, labelCellPt(stock, p, offset));
      }
      drawLabel(doc, label, labelCellPt(stock, position, offset), i);
    }
    doc.end();
  } catch (err) {
    if (err instanceof StationError) throw err;
    throw new StationError(
      { code: 'LABEL_FAILED', message: 'The label sheet could not be drawn; the station logged the cause.', operatorFault: false },
      { cause: err },
    );
  }
  return done;
}
