import { describe, expect, it } from 'vitest';
import { csvCell, csvLine, parseCsv } from '../../../cloud/csv/csv.js';
import { checkMetadataCsv } from '../../../cloud/csv/metadata-csv.js';

describe('parseCsv (RFC 4180)', () => {
  it('reads quoted fields, doubled quotes, CRLF and LF, a BOM, and skips blank lines', () => {
    const parsed = parseCsv('\uFEFFa,b\r\n"x, ""y""","multi\nline"\n\n1,\n', 10);
    expect(parsed).toEqual({ ok: true, rows: [['a', 'b'], ['x, "y"', 'multi\nline'], ['1', '']] });
    expect(parseCsv('a,b', 10)).toEqual({ ok: true, rows: [['a', 'b']] });
  });

  it('refuses malformed quoting and too many records, naming the line', () => {
    expect(parseCsv('a\n"open', 10)).toMatchObject({ ok: false, line: 2 });
    expect(parseCsv('a\nb"c\n', 10)).toMatchObject({ ok: false, line: 2 });
    expect(parseCsv('"a"b\n', 10)).toMatchObject({ ok: false, line: 1 });
    expect(parseCsv('h\n1\n2\n3\n', 3)).toMatchObject({ ok: false });
    expect(parseCsv('h\n1\n2\n', 3)).toMatchObject({ ok: true });
  });

  it('round-trips what csvLine writes', () => {
    const values = ['plain', 'with,comma', 'with "quote"', 'two\nlines', ' padded '];
    expect(parseCsv(csvLine(values), 2)).toEqual({ ok: true, rows: [values] });
  });
});

describe('csvCell: safe to open in a spreadsheet', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+SUM(A1)', "'+SUM(A1)"],
    ['-2+3', "'-2+3"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['=HYPERLINK("a")', `"'=HYPERLINK(""a"")"`],
  ])('defuses %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('writes tokens and ordinary text unchanged', () => {
    for (const value of ['Xq2_-abcdefghijklmnopqrstuvwxyz012', 'sqr_abc+1'.replace('+', ''), '-5', 'SN-0042', '']) {
      expect(csvCell(value)).toBe(value);
    }
  });
});

describe('checkMetadataCsv', () => {
  const fields = [
    { name: 'Serial Number', type: 'text' as const },
    { name: 'Lot', type: 'number' as const },
  ];

  it('maps exact headers in any column order', () => {
    const check = checkMetadataCsv('Lot,Serial Number\n3,SN-1\n', fields, {}, 1000);
    expect(check.rows).toEqual([{ 'Serial Number': 'SN-1', Lot: '3' }]);
    expect(check.missing).toEqual([]);
  });

  it('reports duplicate columns and a remap that fills one field twice', () => {
    expect(checkMetadataCsv('Lot,Lot,Serial Number\n1,2,x\n', fields, {}, 1000).remapErrors).toContain('the CSV has two columns named "Lot"');
    const twice = checkMetadataCsv('sn,Serial Number,Lot\na,b,1\n', fields, { sn: 'Serial Number' }, 1000);
    expect(twice.remapErrors).toContain('two columns fill the field "Serial Number"');
  });

  it('cuts the row error list at 100 and counts the rest', () => {
    const csv = ['Serial Number,Lot', ...Array.from({ length: 150 }, () => 'x,notanumber')].join('\n');
    const check = checkMetadataCsv(csv, fields, {}, 1000);
    expect(check.rowErrors).toHaveLength(100);
    expect(check.rowErrorCount).toBe(150);
  });
});
