import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { StationError, stationError } from '../../common/errors.js';

/**
 * Label stock definitions (`resources/label-stocks.json`): the paper a station prints on. Every
 * length of a stock is in its own `unit`; only the printer offset is always in millimetres, because
 * it is measured at the station with a ruler on a printed alignment sheet.
 *
 * Labels are numbered row by row from the top-left cell: position = row * columns + column.
 */

export const STOCKS_FILE_NAME = 'label-stocks.json';
export const POINTS_PER_INCH = 72;
export const MM_PER_INCH = 25.4;
export const POINTS_PER_MM = POINTS_PER_INCH / MM_PER_INCH;

/** How far margins + labels + gaps may miss the page size (die-cut sheets are specified to 0.1 mm). */
const GEOMETRY_TOLERANCE_MM = 0.05;
/** A printer offset beyond this is a mis-fed sheet or a typo, not a calibration. */
const MAX_PRINTER_OFFSET_MM = 10;

/** Points per unit; inches and points convert exactly, so Letter geometry stays whole points. */
const UNIT_TO_PT = { mm: POINTS_PER_MM, in: POINTS_PER_INCH, pt: 1 } as const;
export type LengthUnit = keyof typeof UNIT_TO_PT;

const positive = z.number().positive().finite();
const nonNegative = z.number().nonnegative().finite();
const offsetMm = z.number().finite().min(-MAX_PRINTER_OFFSET_MM).max(MAX_PRINTER_OFFSET_MM);

export const printerOffsetSchema = z.strictObject({ x: offsetMm, y: offsetMm });
export type PrinterOffsetMm = z.infer<typeof printerOffsetSchema>;

export const labelStockSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'stock id must be kebab-case'),
    name: z.string().min(1),
    /** `roll`: continuous or die-cut roll where each page is one row of labels. */
    kind: z.enum(['sheet', 'roll']),
    unit: z.enum(['mm', 'in', 'pt']),
    page: z.strictObject({ width: positive, height: positive }),
    columns: z.number().int().min(1).max(20),
    rows: z.number().int().min(1).max(40),
    label: z.strictObject({ width: positive, height: positive }),
    margins: z.strictObject({ top: nonNegative, right: nonNegative, bottom: nonNegative, left: nonNegative }),
    gaps: z.strictObject({ column: nonNegative, row: nonNegative }),
    /** Default offset for this stock; a station's own calibration passed at render time wins. */
    printerOffsetMm: printerOffsetSchema,
  })
  .superRefine((stock, ctx) => {
    const k = UNIT_TO_PT[stock.unit] / POINTS_PER_MM;
    const across =
      stock.margins.left + stock.columns * stock.label.width + (stock.columns - 1) * stock.gaps.column + stock.margins.right;
    const down = stock.margins.top + stock.rows * stock.label.height + (stock.rows - 1) * stock.gaps.row + stock.margins.bottom;
    if (Math.abs(across - stock.page.width) * k > GEOMETRY_TOLERANCE_MM) {
      ctx.addIssue({
        code: 'custom',
        path: ['page', 'width'],
        message: `margins + labels + gaps across (${round(across)} ${stock.unit}) do not add up to the page width (${stock.page.width} ${stock.unit})`,
      });
    }
    if (Math.abs(down - stock.page.height) * k > GEOMETRY_TOLERANCE_MM) {
      ctx.addIssue({
        code: 'custom',
        path: ['page', 'height'],
        message: `margins + labels + gaps down (${round(down)} ${stock.unit}) do not add up to the page height (${stock.page.height} ${stock.unit})`,
      });
    }
  });

export type LabelStock = z.infer<typeof labelStockSchema>;

export const labelStocksFileSchema = z
  .strictObject({ stocks: z.array(labelStockSchema).min(1) })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.stocks.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: ['stocks', i, 'id'], message: `duplicate stock id "${s.id}"` });
      seen.add(s.id);
    });
  });

/** A rectangle in PDF points, origin at the page's top-left corner, y growing downwards (pdfkit's frame). */
export interface RectPt {
  x: number;
  y: number;
  width: number;
  height: number;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** Validates a parsed stocks file; throws INVALID_INPUT naming the first problem. */
export function parseLabelStocks(json: unknown): LabelStock[] {
  const result = labelStocksFileSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue ? issue.path.join('.') : '';
    throw stationError(
      'INVALID_INPUT',
      `The label stock definitions are invalid (${where}: ${issue?.message ?? 'unknown problem'}); fix ${STOCKS_FILE_NAME}.`,
    );
  }
  return result.data.stocks;
}

export function loadLabelStocks(filePath: string): LabelStock[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(filePath, 'utf8'));
  } catch (err) {
    throw new StationError(
      {
        code: 'INVALID_INPUT',
        message: `The label stock file ${filePath} could not be read as JSON; restore it from the installation.`,
        operatorFault: false,
      },
      { cause: err },
    );
  }
  return parseLabelStocks(json);
}

/**
 * `resources/` sits at the repository root; walking up from this module finds it both from the
 * source tree (core/labels/) and from a build output (dist/node/core/labels/).
 */
export function defaultLabelStocksPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'resources', STOCKS_FILE_NAME);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw stationError('NOT_FOUND', `The label stock file resources/${STOCKS_FILE_NAME} is missing; reinstall the station.`);
    }
    dir = parent;
  }
}

let cached: Map<string, LabelStock> | null = null;

/** Every stock from the default file, validated once and cached. */
export function listLabelStocks(): LabelStock[] {
  if (!cached) cached = new Map(loadLabelStocks(defaultLabelStocksPath()).map((s) => [s.id, s]));
  return [...cached.values()];
}

export function getLabelStock(id: string): LabelStock {
  listLabelStocks();
  const stock = cached?.get(id);
  if (!stock) {
    throw stationError('NOT_FOUND', `Label stock "${id}" is not defined; pick one of: ${[...(cached?.keys() ?? [])].join(', ')}.`, true);
  }
  return stock;
}

export function labelsPerPage(stock: LabelStock): number {
  return stock.columns * stock.rows;
}

export function toPoints(stock: LabelStock, length: number): number {
  return length * UNIT_TO_PT[stock.unit];
}

export function pageSizePt(stock: LabelStock): { width: number; height: number } {
  return { width: toPoints(stock, stock.page.width), height: toPoints(stock, stock.page.height) };
}

/**
 * Where the label at `position` (0-based, row by row) lands on the page, in points, after shifting by
 * the printer offset (positive x moves right, positive y moves down).
 */
export function labelCellPt(stock: LabelStock, position: number, offset: PrinterOffsetMm = stock.printerOffsetMm): RectPt {
  if (!Number.isInteger(position) || position < 0 || position >= labelsPerPage(stock)) {
    throw stationError('INVALID_INPUT', `Label position ${position} is not on a ${stock.id} page (0..${labelsPerPage(stock) - 1}).`);
  }
  const column = position % stock.columns;
  const row = Math.floor(position / stock.columns);
  const x = stock.margins.left + column * (stock.label.width + stock.gaps.column);
  const y = stock.margins.top + row * (stock.label.height + stock.gaps.row);
  return {
    x: toPoints(stock, x) + offset.x * POINTS_PER_MM,
    y: toPoints(stock, y) + offset.y * POINTS_PER_MM,
    width: toPoints(stock, stock.label.width),
    height: toPoints(stock, stock.label.height),
  };
}
