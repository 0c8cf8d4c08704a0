import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import {
  getLabelStock,
  labelCellPt,
  labelsPerPage,
  type PrinterOffsetMm,
} from '../../core/labels/label-stock.js';

/**
 * Reads printed labels back the way a scanner would: each PDF page is rasterised at 300 dpi with
 * poppler's pdftoppm, every label cell is cropped on its own (zbarimg misses codes on a whole page of
 * many QR codes but reads single labels reliably) and decoded with zbarimg. Missing tools are an
 * error naming the Debian packages, never a skipped test.
 */

export const LABEL_TOOL_PACKAGES = ['poppler-utils', 'zbar-tools'] as const;
export const DEFAULT_DECODE_DPI = 300;
/** Grey level below which a pixel counts as ink; a cell with none is empty and is not scanned. */
const INK_THRESHOLD = 128;

export interface DecodedLabel {
  /** 1-based page number, as a PDF viewer and pdftoppm count pages. */
  page: number;
  /** 0-based cell on the page, row by row (the same numbering as `startPosition`). */
  position: number;
  /** The QR payload, or null when the cell holds no readable QR code. */
  payload: string | null;
}

export interface DecodeOptions {
  /** The printer offset the sheet was rendered with (default: the stock's own). */
  offsetMm?: PrinterOffsetMm;
  dpi?: number;
}

interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function missingToolError(tool: string): Error {
  return new Error(
    `${tool} is not installed; the label tests need the Debian packages ${LABEL_TOOL_PACKAGES.join(' and ')} ` +
      `(apt-get install -y ${LABEL_TOOL_PACKAGES.join(' ')}).`,
  );
}

function run(tool: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 4000) err += b.toString();
    });
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? missingToolError(tool) : e));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err }));
  });
}

async function runOk(tool: string, args: string[]): Promise<Buffer> {
  const r = await run(tool, args);
  if (r.code !== 0) throw new Error(`${tool} ${args.join(' ')} failed with exit code ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Throws the "install poppler-utils and zbar-tools" error when any of the tools is missing. */
export async function assertLabelToolsInstalled(): Promise<void> {
  for (const [tool, args] of [
    ['pdftoppm', ['-v']],
    ['pdftotext', ['-v']],
    ['pdfinfo', ['-v']],
    ['zbarimg', ['--version']],
  ] as const) {
    await run(tool, [...args]);
  }
}

async function withPdfFile<T>(pdf: string | Buffer, fn: (path: string, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'label-decode-'));
  try {
    const path = typeof pdf === 'string' ? pdf : join(dir, 'sheet.pdf');
    if (typeof pdf !== 'string') await writeFile(path, pdf);
    return await fn(path, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function pdfPageCount(pdf: string | Buffer): Promise<number> {
  return withPdfFile(pdf, async (path) => pdfPageCountAt(path));
}

async function pdfPageCountAt(path: string): Promise<number> {
  const info = (await runOk('pdfinfo', [path])).toString();
  const m = /^Pages:\s+(\d+)/m.exec(info);
  if (!m) throw new Error('pdfinfo did not report a page count');
  return Number(m[1]);
}

/** Page sizes in points, as pdfinfo reports them (for checking a stock's page size). */
export async function pdfPageSizes(pdf: string | Buffer): Promise<{ width: number; height: number }[]> {
  return withPdfFile(pdf, async (path) => {
    const pages = await pdfPageCountAt(path);
    const info = (await runOk('pdfinfo', ['-f', '1', '-l', String(pages), path])).toString();
    return [...info.matchAll(/^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts/gm)].map((m) => ({
      width: Number(m[1]),
      height: Number(m[2]),
    }));
  });
}

/** All text pdftotext finds in the PDF, pages in order. */
export async function extractPdfText(pdf: string | Buffer): Promise<string> {
  return withPdfFile(pdf, async (path) => (await runOk('pdftotext', ['-enc', 'UTF-8', path, '-'])).toString('utf8'));
}

/**
 * The PDF as searchable text beyond what a text extractor sees: the file bytes with every Flate
 * stream inflated, followed by every hex string (`<…>`, how pdfkit writes shown text) decoded.
 * For "this secret appears nowhere in the file" assertions, metadata included.
 */
export async function pdfRawContent(pdf: string | Buffer): Promise<string> {
  const bytes = typeof pdf === 'string' ? await readFile(pdf) : pdf;
  const raw = bytes.toString('latin1');
  const parts: string[] = [];
  const streamRe = /stream\r?\n/g;
  let last = 0;
  for (let m = streamRe.exec(raw); m; m = streamRe.exec(raw)) {
    const start = m.index + m[0].length;
    const end = raw.indexOf('endstream', start);
    if (end < 0) break;
    parts.push(raw.slice(last, start));
    const body = bytes.subarray(start, end);
    try {
      parts.push(inflateSync(body).toString('latin1'));
    } catch {
      parts.push(body.toString('latin1'));
    }
    last = end;
    streamRe.lastIndex = end;
  }
  parts.push(raw.slice(last));
  const text = parts.join('');
  // A TJ array splits one shown string into pieces around kerning numbers; join the pieces back.
  const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex').toString('latin1');
  const shown = [...text.matchAll(/\[((?:\s*(?:<[0-9A-Fa-f\s]*>|-?[\d.]+))*)\s*\]\s*TJ/g)].map((m) =>
    [...(m[1] ?? '').matchAll(/<([0-9A-Fa-f\s]*)>/g)].map((h) => hex(h[1] ?? '')).join(''),
  );
  const hexStrings = [...shown, ...[...text.matchAll(/<([0-9A-Fa-f\s]{2,})>/g)].map((m) => hex(m[1] ?? ''))];
  return `${text}\n${hexStrings.join('\n')}`;
}

export interface WordBox {
  /** 1-based page number. */
  page: number;
  text: string;
  /** Points from the page's top-left corner, as pdftotext -bbox reports them. */
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;|&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Every word pdftotext finds, with its bounding box: for "text stays inside its label" checks. */
export async function pdfWordBoxes(pdf: string | Buffer): Promise<WordBox[]> {
  const html = await withPdfFile(pdf, async (path) => (await runOk('pdftotext', ['-bbox', '-enc', 'UTF-8', path, '-'])).toString('utf8'));
  const boxes: WordBox[] = [];
  html.split(/<page /).slice(1).forEach((pageHtml, page) => {
    for (const m of pageHtml.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)) {
      boxes.push({ page: page + 1, xMin: Number(m[1]), yMin: Number(m[2]), xMax: Number(m[3]), yMax: Number(m[4]), text: unescapeXml(m[5] ?? '') });
    }
  });
  return boxes;
}

export interface GrayImage {
  width: number;
  height: number;
  pixels: Buffer;
}

/** Binary PGM (P5, maxval 255), what `pdftoppm -gray` writes. */
function parsePgm(buf: Buffer): GrayImage {
  const fields: string[] = [];
  let i = 0;
  while (fields.length < 4) {
    while (i < buf.length && /\s/.test(String.fromCharCode(buf[i] ?? 0))) i++;
    if (buf[i] === 0x23) {
      while (i < buf.length && buf[i] !== 0x0a) i++;
      continue;
    }
    let token = '';
    while (i < buf.length && !/\s/.test(String.fromCharCode(buf[i] ?? 0))) token += String.fromCharCode(buf[i++] ?? 0);
    fields.push(token);
  }
  i++; // exactly one whitespace byte separates the header from the pixels
  const [magic, w, h, max] = fields;
  if (magic !== 'P5' || max !== '255') throw new Error(`unexpected image from pdftoppm (${magic}, maxval ${max})`);
  const width = Number(w);
  const height = Number(h);
  return { width, height, pixels: buf.subarray(i, i + width * height) };
}

function cropPgm(img: GrayImage, x0: number, y0: number, x1: number, y1: number): { pgm: Buffer; inked: boolean } {
  const left = Math.max(0, x0);
  const top = Math.max(0, y0);
  const right = Math.min(img.width, x1);
  const bottom = Math.min(img.height, y1);
  const w = Math.max(0, right - left);
  const h = Math.max(0, bottom - top);
  const header = Buffer.from(`P5\n${w} ${h}\n255\n`, 'ascii');
  const body = Buffer.alloc(w * h);
  let inked = false;
  for (let row = 0; row < h; row++) {
    const src = (top + row) * img.width + left;
    img.pixels.copy(body, row * w, src, src + w);
  }
  for (let k = 0; k < body.length; k++) {
    if ((body[k] ?? 255) < INK_THRESHOLD) {
      inked = true;
      break;
    }
  }
  return { pgm: Buffer.concat([header, body]), inked };
}

async function decodeCell(path: string): Promise<string | null> {
  // zbarimg exits 0 when it found a symbol and 4 when it found none.
  const r = await run('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', path]);
  if (r.code === 4) return null;
  if (r.code !== 0) throw new Error(`zbarimg failed on ${path} with exit code ${r.code}: ${r.stderr.trim()}`);
  const lines = r.stdout.toString('utf8').split('\n').filter((l) => l !== '');
  if (lines.length > 1) throw new Error(`one label cell held ${lines.length} QR codes (${path})`);
  return lines[0] ?? null;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  });
  await Promise.all(workers);
  return results;
}

/**
 * Decodes every cell of every page: one entry per cell, empty cells included (payload null), ordered
 * by page then position.
 */
export async function decodeLabelPdf(
  pdf: string | Buffer,
  stockId: string,
  options: DecodeOptions = {},
): Promise<DecodedLabel[]> {
  const stock = getLabelStock(stockId);
  const dpi = options.dpi ?? DEFAULT_DECODE_DPI;
  const pxPerPt = dpi / 72;
  const perPage = labelsPerPage(stock);
  return withPdfFile(pdf, async (path, dir) => {
    const pages = await pdfPageCountAt(path);
    const out: DecodedLabel[] = [];
    // One page at a time keeps at most one 300-dpi raster (~9 MB for A4) on disk and in memory.
    for (let page = 0; page < pages; page++) {
      const prefix = join(dir, `page-${page}`);
      await runOk('pdftoppm', ['-r', String(dpi), '-gray', '-f', String(page + 1), '-l', String(page + 1), '-singlefile', path, prefix]);
      const img = parsePgm(await readFile(`${prefix}.pgm`));
      await rm(`${prefix}.pgm`);
      const cells: { position: number; file: string | null }[] = [];
      for (let position = 0; position < perPage; position++) {
        const cell = labelCellPt(stock, position, options.offsetMm ?? stock.printerOffsetMm);
        const { pgm, inked } = cropPgm(
          img,
          Math.round(cell.x * pxPerPt),
          Math.round(cell.y * pxPerPt),
          Math.round((cell.x + cell.width) * pxPerPt),
          Math.round((cell.y + cell.height) * pxPerPt),
        );
        if (!inked) {
          cells.push({ position, file: null });
          continue;
        }
        const file = join(dir, `p${page}-c${position}.pgm`);
        await writeFile(file, pgm);
        cells.push({ position, file });
      }
      const payloads = await mapLimit(cells, Math.max(2, availableParallelism()), async (c) =>
        c.file === null ? null : decodeCell(c.file),
      );
      cells.forEach((c, i) => out.push({ page: page + 1, position: c.position, payload: payloads[i] ?? null }));
      await Promise.all(cells.map((c) => (c.file ? rm(c.file, { force: true }) : undefined)));
    }
    return out;
  });
}

/** Alias of `decodeLabelPdf`. */
export const decodeLabelSheet = decodeLabelPdf;

/** One page (1-based) as an 8-bit grey raster; pixel (x, y) is `pixels[y * width + x]`. */
export async function rasterizePdfPage(pdf: string | Buffer, page: number, dpi = DEFAULT_DECODE_DPI): Promise<GrayImage> {
  return withPdfFile(pdf, async (path, dir) => {
    const prefix = join(dir, 'raster');
    await runOk('pdftoppm', ['-r', String(dpi), '-gray', '-f', String(page), '-l', String(page), '-singlefile', path, prefix]);
    return parsePgm(await readFile(`${prefix}.pgm`));
  });
}

/** Rasterises one page (1-based) to a PNG file, for looking at a sheet by eye. */
export async function renderPdfPagePng(pdf: string | Buffer, page: number, outPngPath: string, dpi = 150): Promise<void> {
  await withPdfFile(pdf, async (path) => {
    const prefix = outPngPath.replace(/\.png$/i, '');
    await runOk('pdftoppm', ['-r', String(dpi), '-png', '-f', String(page), '-l', String(page), '-singlefile', path, prefix]);
  });
}
