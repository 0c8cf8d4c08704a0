import QRCode from 'qrcode';
import { stationError } from '../../common/errors.js';
import type { LabelModel } from './label-model.js';
import { MIN_QR_MODULE_MM, QR_ERROR_CORRECTION, QR_QUIET_ZONE_MODULES, validateLabels } from './label-sheet-pdf.js';
import { getLabelStock, MM_PER_INCH, POINTS_PER_INCH, printerOffsetSchema, toPoints, type LabelStock, type PrinterOffsetMm } from './label-stock.js';

/**
 * The same label as `label-sheet-pdf.ts`, as ZPL II for Zebra thermal printers: one `^XA … ^XZ`
 * format per label, sized by `^PW` (print width) and `^LL` (label length) in printer dots.
 *
 * ZPL facts this module relies on (Zebra ZPL II Programming Guide):
 * - Dots per millimetre: 8 on "203 dpi" heads (203.2 dpi), 11.8 on "300 dpi" heads.
 * - `^LH`, `^LS` and `^LT` are retained by the printer until changed, so every format sets all
 *   three: a station calibration never leaks into the next job. `^LHx,y` accepts 0..32000 only;
 *   `^LSa` shifts every field LEFT by a dots (-9999..9999); `^LTx` moves the format down by x dot
 *   rows (-120..120). A printer offset therefore becomes `^LH` (x ≥ 0) or `^LS` (x < 0), and `^LT`.
 * - `^BQN,2,m,M`: QR model 2, magnification m = dots per module (1..10), error correction M. Its
 *   field data is `<ecc><input mode>,<data>`; we use manual input with the 8-bit byte mode,
 *   `MM,Bnnnn<data>` (nnnn = 4-digit byte count), so the printer cannot pick another encoding and the
 *   symbol has exactly the size computed here with the same encoder settings.
 * - `^FH<c>` turns `<c>hh` in the next `^FD` into byte 0xhh. `^` and `~` in field data would start a
 *   command, so they are always sent hex-escaped; the indicator is a character the data does not
 *   contain, so nothing else needs escaping (the count in `Bnnnn` is of the decoded bytes).
 * - `^CI28` selects UTF-8 for text; every byte ≥ 0x80 is hex-escaped, so the ZPL itself stays ASCII.
 * - `^A0N,h,w`: the scalable font, h and w in dots. `^FBw,l,s,j,i` is a text block w dots wide of at
 *   most l lines; inside it `\&` is a line break and `\\` a backslash. Text beyond l lines overprints
 *   the last line, so this module wraps and ellipsises itself (with a conservative width estimate
 *   for the font) and only hands `^FB` lines that fit.
 *
 * Only `roll` stocks (continuous rolls and single thermal labels) can be printed this way: a sheet
 * of 24 labels is a laser-printer product and goes through the PDF path.
 */

export const ZPL_DPIS = [203, 300] as const;
export type ZplDpi = (typeof ZPL_DPIS)[number];
export const DEFAULT_ZPL_DPI: ZplDpi = 203;

/** Dots per millimetre of the print head. */
export function dotsPerMm(dpi: ZplDpi): number {
  return dpi === 203 ? 8 : 11.8;
}

/** A QR symbol at least this wide is easy for phones at arm's length; smaller only if the label forces it. */
export const TARGET_QR_MM = 18;
/** `^BQ` magnification limits. */
const MIN_MAGNIFICATION = 1;
const MAX_MAGNIFICATION = 10;
/** `^LT` limit in dot rows. */
const MAX_LABEL_TOP_DOTS = 120;

/** The same layout constants as the PDF renderer, so both outputs look alike. */
const CELL_INSET_MM = 1;
const TEXT_RIGHT_INSET_MM = 2;
const TEXT_GAP_MM = 0.5;
const MAX_QR_WIDTH_SHARE = 0.55;
const REFERENCE_LABEL_HEIGHT_MM = 37;
const NAME_SIZE_PT = 11;
const DETAIL_SIZE_PT = 8.5;
const CODE_SIZE_PT = 13;
const FONT_SCALE_EXPONENT = 0.6;
/** The product name shrinks to this share of its size before it wraps onto a second line. */
const NAME_MIN_SHARE = 0.8;
/** Font 0's smallest legible height: about 1.8 mm (5 pt). Zebra's own minimum is 10 dots. */
const MIN_FONT_MM = 1.8;
const MIN_FONT_DOTS = 10;
/** Line pitch as a multiple of the character height. */
const LINE_PITCH = 1.25;
const ELLIPSIS = '...';

/**
 * Advance widths of Zebra font 0 (CG Triumvirate Bold Condensed) as a share of the character width
 * `w`, rounded UP from the font's metrics so an estimated line is never shorter than the printed
 * one. Unknown characters count as the widest class.
 */
const NARROW = new Set(" !'(),-./:;I[]`fijlrt|1");
const WIDE = new Set('@%&MWmw');
const NARROW_SHARE = 0.34;
const REGULAR_SHARE = 0.56;
const UPPER_SHARE = 0.62;
const WIDE_SHARE = 0.86;

export function estimateTextWidthDots(text: string, charWidthDots: number): number {
  let total = 0;
  for (const ch of text) {
    let share: number;
    if (NARROW.has(ch)) share = NARROW_SHARE;
    else if (WIDE.has(ch)) share = WIDE_SHARE;
    else if (/[A-Z0-9#$?+=<>_~^*"{}\\]/.test(ch)) share = UPPER_SHARE;
    else if (/[a-z]/.test(ch)) share = REGULAR_SHARE;
    else share = WIDE_SHARE;
    total += share * charWidthDots;
  }
  return total;
}

export interface RenderLabelZplOptions {
  /** Print head resolution (default 203). */
  dpi?: ZplDpi;
  /** This station's printer calibration; replaces the stock's default offset. */
  offsetMm?: PrinterOffsetMm;
}

/** Where things go on one label, in dots; exported for tests and the bench. */
export interface ZplLayout {
  dpi: ZplDpi;
  widthDots: number;
  lengthDots: number;
  qr: { x: number; y: number; magnification: number; modules: number; sizeDots: number };
  text: { x: number; width: number };
}

function invalid(message: string): never {
  throw stationError('INVALID_INPUT', message);
}

function mmOf(stock: LabelStock, length: number): number {
  return (toPoints(stock, length) / POINTS_PER_INCH) * MM_PER_INCH;
}

/** In byte mode the symbol's version depends only on the byte count: cached per length. */
const modulesByLength = new Map<number, number>();

/** Modules per side of the symbol the printer will draw: byte mode, error correction M, like `MM,B…`. */
export function qrModulesFor(payload: string): number {
  const bytes = Buffer.from(payload, 'utf8');
  let modules = modulesByLength.get(bytes.length);
  if (modules === undefined) {
    modules = QRCode.create([{ data: bytes, mode: 'byte' }], { errorCorrectionLevel: QR_ERROR_CORRECTION }).modules.size;
    modulesByLength.set(bytes.length, modules);
  }
  return modules;
}

/**
 * Chooses the magnification: the smallest that makes the symbol at least TARGET_QR_MM wide, or the
 * largest that fits the label (quiet zone included, inset from the edges, at most
 * MAX_QR_WIDTH_SHARE of the width) when that is smaller. Fails when even that gives modules under
 * MIN_QR_MODULE_MM, the size below which thermal heads and phones stop being reliable.
 */
export function planZplLayout(stock: LabelStock, payload: string, dpi: ZplDpi, labelIndex = 0): ZplLayout {
  const dpm = dotsPerMm(dpi);
  const widthDots = Math.round(mmOf(stock, stock.page.width) * dpm);
  const lengthDots = Math.round(mmOf(stock, stock.page.height) * dpm);
  const inset = Math.round(CELL_INSET_MM * dpm);
  const modules = qrModulesFor(payload);
  const box = Math.min(lengthDots - 2 * inset, Math.floor(widthDots * MAX_QR_WIDTH_SHARE));
  const fits = Math.min(MAX_MAGNIFICATION, Math.floor(box / (modules + 2 * QR_QUIET_ZONE_MODULES)));
  const target = Math.ceil((TARGET_QR_MM * dpm) / modules);
  const magnification = Math.max(MIN_MAGNIFICATION, Math.min(target, fits));
  if (fits < MIN_MAGNIFICATION || magnification / dpm < MIN_QR_MODULE_MM) {
    throw stationError(
      'LABEL_FAILED',
      `Label ${labelIndex + 1}: the QR payload is too long for ${stock.name} at ${dpi} dpi; shorten the QR template or use a larger stock.`,
    );
  }
  const sizeDots = modules * magnification;
  const quiet = QR_QUIET_ZONE_MODULES * magnification;
  const x = inset + quiet;
  const y = Math.round((lengthDots - sizeDots) / 2);
  const textX = inset + sizeDots + 2 * quiet + Math.round(TEXT_GAP_MM * dpm);
  const textWidth = widthDots - Math.round(TEXT_RIGHT_INSET_MM * dpm) - textX;
  return { dpi, widthDots, lengthDots, qr: { x, y, magnification, modules, sizeDots }, text: { x: textX, width: textWidth } };
}

/** Characters `^FH` may use as its indicator: printable, not a ZPL prefix, not special in `^FB`. */
const HEX_INDICATORS = '_|`!#$%&*@=';

/**
 * Field data safe to follow `^FD`: `^`, `~`, control characters and non-ASCII bytes hex-escaped
 * behind an indicator the data does not use. Returns the `^FH` command to put before `^FD` ('' when
 * nothing needed escaping).
 */
export function escapeFieldData(text: string): { fh: string; data: string } {
  const bytes = Buffer.from(text, 'utf8');
  const needs = (b: number) => b === 0x5e || b === 0x7e || b < 0x20 || b >= 0x7f;
  if (!bytes.some(needs)) return { fh: '', data: text };
  const indicator = [...HEX_INDICATORS].find((c) => !text.includes(c));
  // Every candidate is used: take '_' and escape it as well.
  const ind = indicator ?? '_';
  const indByte = ind.charCodeAt(0);
  let data = '';
  for (const b of bytes) {
    data += needs(b) || (indicator === undefined && b === indByte) ? `${ind}${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
  }
  return { fh: `^FH${ind}`, data };
}

/** A ^FB line: control characters become spaces and `\` is doubled (`\&` and `\(` mean something in ^FB). */
function blockText(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, ' ').replace(/\\/g, '\\\\');
}

function truncateToWidth(text: string, charWidth: number, maxWidth: number): string {
  if (estimateTextWidthDots(text, charWidth) <= maxWidth) return text;
  const chars = [...text];
  let n = chars.length;
  while (n > 0 && estimateTextWidthDots(chars.slice(0, n).join('').trimEnd() + ELLIPSIS, charWidth) > maxWidth) n--;
  return chars.slice(0, n).join('').trimEnd() + ELLIPSIS;
}

/** Greedy word wrap into at most `maxLines` lines; the last line is cut with an ellipsis if needed. */
export function wrapText(text: string, charWidth: number, maxWidth: number, maxLines: number): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let i = 0;
  while (i < words.length && lines.length < maxLines - 1) {
    let line = '';
    while (i < words.length) {
      const next = line ? `${line} ${words[i]}` : (words[i] ?? '');
      if (estimateTextWidthDots(next, charWidth) > maxWidth) break;
      line = next;
      i++;
    }
    if (line === '') break; // a word wider than the line: the last line cuts it
    lines.push(line);
  }
  const rest = words.slice(i).join(' ');
  if (rest !== '') lines.push(truncateToWidth(rest, charWidth, maxWidth));
  return lines.length > 0 ? lines : [''];
}

interface TextBlock {
  lines: string[];
  /** Character height = width, in dots. */
  size: number;
}

/** Largest size (dots, at most `maxSize`) at which `text` fits on one line; `minSize` when none does. */
function sizeToFit(text: string, maxSize: number, minSize: number, maxWidth: number): number {
  const unit = estimateTextWidthDots(text, 1);
  if (unit === 0) return maxSize;
  return Math.max(minSize, Math.min(maxSize, Math.floor(maxWidth / unit)));
}

/** One line if it fits at NAME_MIN_SHARE of its size or more, else two word-wrapped lines at that size. */
function fitName(text: string, maxSize: number, minSize: number, maxWidth: number): TextBlock {
  const floor = Math.max(minSize, Math.floor(maxSize * NAME_MIN_SHARE));
  const single = sizeToFit(text, maxSize, floor, maxWidth);
  if (estimateTextWidthDots(text, single) <= maxWidth) return { lines: [text], size: single };
  return { lines: wrapText(text, floor, maxWidth, 2), size: floor };
}

function fieldFor(x: number, y: number, block: TextBlock, width: number): string {
  const text = block.lines.map(blockText).join('\\&');
  const { fh, data } = escapeFieldData(text);
  return `^FO${x},${y}^A0N,${block.size},${block.size}^FB${width},${block.lines.length},0,L,0${fh}^FD${data}^FS`;
}

function labelFormat(label: LabelModel, stock: LabelStock, dpi: ZplDpi, offset: PrinterOffsetMm, index: number): string {
  const layout = planZplLayout(stock, label.qrPayload, dpi, index);
  const dpm = dotsPerMm(dpi);
  const heightMm = layout.lengthDots / dpm;
  const scale = Math.min(1, (heightMm / REFERENCE_LABEL_HEIGHT_MM) ** FONT_SCALE_EXPONENT);
  const minSize = Math.max(MIN_FONT_DOTS, Math.round(MIN_FONT_MM * dpm));
  const ptToDots = (pt: number) => (pt / POINTS_PER_INCH) * MM_PER_INCH * dpm;
  const inset = Math.round(CELL_INSET_MM * dpm);
  const available = layout.lengthDots - 2 * inset;
  const { x: textX, width: textWidth } = layout.text;

  // Sizes start from the PDF's; each line shrinks to fit its width (the name to NAME_MIN_SHARE, then
  // it wraps), and the whole block shrinks together until it fits the label height.
  let shrink = 1;
  let blocks: TextBlock[] = [];
  for (let attempt = 0; attempt < 8; attempt++) {
    const size = (pt: number) => Math.max(minSize, Math.floor(ptToDots(pt) * scale * shrink));
    const details = [`S/N ${label.serial}`, ...(label.mac ? [`MAC ${label.mac}`] : [])];
    // Serial and MAC share one size so the block reads as a unit.
    const detailSize = Math.min(...details.map((d) => sizeToFit(d, size(DETAIL_SIZE_PT), minSize, textWidth)));
    const codeSize = sizeToFit(label.humanCode, size(CODE_SIZE_PT), minSize, textWidth);
    blocks = [
      fitName(label.productName, size(NAME_SIZE_PT), minSize, textWidth),
      ...details.map((d) => ({ lines: [truncateToWidth(d, detailSize, textWidth)], size: detailSize })),
      { lines: [truncateToWidth(label.humanCode, codeSize, textWidth)], size: codeSize },
    ];
    const natural = blocks.reduce((sum, b) => sum + b.lines.length * Math.round(b.size * LINE_PITCH), 0);
    if (natural <= available || blocks.every((b) => b.size === minSize)) break;
    shrink *= Math.max(0.5, available / natural);
  }
  const total = blocks.reduce((sum, b) => sum + b.lines.length * Math.round(b.size * LINE_PITCH), 0);
  let y = Math.max(inset, Math.round((layout.lengthDots - total) / 2));

  const dx = Math.round(offset.x * dpm);
  const dy = Math.round(offset.y * dpm);
  if (Math.abs(dy) > MAX_LABEL_TOP_DOTS) invalid(`A vertical printer offset of ${offset.y} mm is beyond what ^LT can move (±${MAX_LABEL_TOP_DOTS} dots).`);
  const qrEscaped = escapeFieldData(label.qrPayload);
  const qrBytes = Buffer.byteLength(label.qrPayload, 'utf8');
  const out = [
    '^XA',
    '^CI28',
    `^PW${layout.widthDots}`,
    `^LL${layout.lengthDots}`,
    `^LH${Math.max(0, dx)},0`,
    `^LS${Math.max(0, -dx)}`,
    `^LT${dy}`,
    `^FO${layout.qr.x},${layout.qr.y}^BQN,2,${layout.qr.magnification},M${qrEscaped.fh}^FDMM,B${String(qrBytes).padStart(4, '0')}${qrEscaped.data}^FS`,
  ];
  for (const block of blocks) {
    out.push(fieldFor(textX, y, block, textWidth));
    y += block.lines.length * Math.round(block.size * LINE_PITCH);
  }
  out.push('^XZ');
  return out.join('\n');
}

/**
 * ZPL for the labels, one format per label, in order. Throws INVALID_INPUT for a sheet stock, a bad
 * label (the same checks as the PDF) or an offset out of range, LABEL_FAILED when a payload does not
 * fit the stock.
 */
export function renderLabelZpl(labels: LabelModel[], stockId: string, options: RenderLabelZplOptions = {}): string {
  const stock = getLabelStock(stockId);
  if (stock.kind !== 'roll') {
    invalid(`${stock.name} is a sheet for office printers; ZPL is only for roll and thermal stocks. Print it as PDF.`);
  }
  const dpi = options.dpi ?? DEFAULT_ZPL_DPI;
  if (!(ZPL_DPIS as readonly number[]).includes(dpi)) invalid(`A Zebra print head of ${String(dpi)} dpi is not supported; use 203 or 300.`);
  validateLabels(labels);
  let offset = stock.printerOffsetMm;
  if (options.offsetMm !== undefined) {
    const parsed = printerOffsetSchema.safeParse(options.offsetMm);
    if (!parsed.success) invalid('The printer offset must be x and y in millimetres, each within ±10 mm.');
    offset = parsed.data;
  }
  return `${labels.map((label, i) => labelFormat(label, stock, dpi, offset, i)).join('\n')}\n`;
}
