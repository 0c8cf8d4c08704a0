import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import {
  defaultLabelStocksPath,
  getLabelStock,
  labelCellPt,
  labelsPerPage,
  listLabelStocks,
  pageSizePt,
  parseLabelStocks,
  POINTS_PER_MM,
} from '../../../core/labels/label-stock.js';

const STOCKS_JSON = JSON.parse(readFileSync(defaultLabelStocksPath(), 'utf8')) as { stocks: Record<string, unknown>[] };

function withStock(patch: (s: Record<string, unknown>) => void): unknown {
  const copy = structuredClone(STOCKS_JSON);
  patch(copy.stocks[0]!);
  return copy;
}

function parseError(json: unknown): StationError {
  try {
    parseLabelStocks(json);
  } catch (err) {
    expect(err).toBeInstanceOf(StationError);
    return err as StationError;
  }
  throw new Error('expected the stock file to be rejected');
}

const mm = (v: number) => v * POINTS_PER_MM;

describe('label stocks', () => {
  it('ships the four stocks the line uses', () => {
    expect(listLabelStocks().map((s) => s.id).sort()).toEqual(['a4-3x8', 'letter-3x10', 'roll-62x29', 'thermal-2x1in']);
    expect(labelsPerPage(getLabelStock('a4-3x8'))).toBe(24);
    expect(labelsPerPage(getLabelStock('letter-3x10'))).toBe(30);
    expect(labelsPerPage(getLabelStock('roll-62x29'))).toBe(1);
    expect(labelsPerPage(getLabelStock('thermal-2x1in'))).toBe(1);
  });

  it('knows the page sizes in points', () => {
    const a4 = pageSizePt(getLabelStock('a4-3x8'));
    expect(a4.width).toBeCloseTo(595.276, 2);
    expect(a4.height).toBeCloseTo(841.89, 2);
    expect(pageSizePt(getLabelStock('letter-3x10'))).toEqual({ width: 612, height: 792 });
    const roll = pageSizePt(getLabelStock('roll-62x29'));
    expect(roll.width).toBeCloseTo(mm(62), 6);
    expect(roll.height).toBeCloseTo(mm(29), 6);
    expect(pageSizePt(getLabelStock('thermal-2x1in'))).toEqual({ width: 144, height: 72 });
  });

  it('places A4 3x8 cells (70 x 37 mm, no gaps, 0.5 mm top margin) row by row', () => {
    const a4 = getLabelStock('a4-3x8');
    const first = labelCellPt(a4, 0);
    expect(first.x).toBeCloseTo(0, 6);
    expect(first.y).toBeCloseTo(mm(0.5), 6);
    expect(first.width).toBeCloseTo(mm(70), 6);
    expect(first.height).toBeCloseTo(mm(37), 6);
    const fifth = labelCellPt(a4, 4); // row 1, column 1
    expect(fifth.x).toBeCloseTo(mm(70), 6);
    expect(fifth.y).toBeCloseTo(mm(37.5), 6);
    const last = labelCellPt(a4, 23);
    expect(last.x + last.width).toBeCloseTo(mm(210), 6);
    expect(last.y + last.height).toBeCloseTo(mm(296.5), 6);
  });

  it('places Letter 3x10 cells like Avery 5160 (2.625 x 1 in, 0.125 in column gap)', () => {
    const letter = getLabelStock('letter-3x10');
    expect(labelCellPt(letter, 0)).toEqual({ x: 13.5, y: 36, width: 189, height: 72 });
    expect(labelCellPt(letter, 2).x).toBeCloseTo(5.6875 * 72, 6);
    expect(labelCellPt(letter, 29)).toEqual({ x: 5.6875 * 72, y: 9.5 * 72, width: 189, height: 72 });
  });

  it('shifts cells by the printer offset in millimetres', () => {
    const a4 = getLabelStock('a4-3x8');
    const cell = labelCellPt(a4, 4, { x: 1.5, y: -2 });
    expect(cell.x).toBeCloseTo(mm(71.5), 6);
    expect(cell.y).toBeCloseTo(mm(35.5), 6);
  });

  it('rejects positions off the page', () => {
    const a4 = getLabelStock('a4-3x8');
    expect(() => labelCellPt(a4, 24)).toThrow(/not on a a4-3x8 page/);
    expect(() => labelCellPt(a4, -1)).toThrow(StationError);
    expect(() => labelCellPt(a4, 1.5)).toThrow(StationError);
  });

  it('names the missing stock and the ones it has', () => {
    try {
      getLabelStock('a5-2x4');
      throw new Error('expected NOT_FOUND');
    } catch (err) {
      expect((err as StationError).code).toBe('NOT_FOUND');
      expect((err as StationError).message).toContain('a4-3x8');
    }
  });

  it('accepts the shipped file and rejects broken definitions', () => {
    expect(parseLabelStocks(STOCKS_JSON)).toHaveLength(4);
    expect(parseError(withStock((s) => ((s.label as { width: number }).width = 71))).message).toMatch(/page width/);
    expect(parseError(withStock((s) => (s.rows = 9))).message).toMatch(/page height/);
    expect(parseError(withStock((s) => (s.columns = 0))).code).toBe('INVALID_INPUT');
    expect(parseError(withStock((s) => (s.unit = 'cm'))).message).toMatch(/unit/);
    expect(parseError(withStock((s) => (s.printerOffsetMm = { x: 25, y: 0 }))).message).toMatch(/printerOffsetMm/);
    expect(parseError(withStock((s) => (s.bleed = 1))).message).toMatch(/bleed/);
    expect(parseError(withStock((s) => (s.id = 'letter-3x10'))).message).toMatch(/duplicate/);
    expect(parseError({ stocks: [] }).code).toBe('INVALID_INPUT');
  });
});
