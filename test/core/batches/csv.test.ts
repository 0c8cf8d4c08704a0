import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { decodeCsvBytes, DEFAULT_CSV_LIMITS, escapeFormula, parseCsv, unescapeCell, writeCsv } from '../../../core/batches/csv.js';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StationError);
    expect((err as StationError).code).toBe('INVALID_INPUT');
    return (err as StationError).message;
  }
  throw new Error('accepted');
}

const tricky = [
  ['plain', 'with,comma', 'with "quotes"', 'multi\r\nline', 'lf\nonly'],
  ['=HYPERLINK("http://x","y")', '+1', '-2+3', '@SUM(A1)', '\tTAB'],
  ['\rCR', "'quoted already", '', ' spaced ', 'ünï €'],
];

describe('writeCsv', () => {
  it('quotes per RFC 4180 and ends every record with CRLF', () => {
    expect(writeCsv([['a', 'b,c', 'd"e', 'f\r\ng'], ['', 'x', '', '']])).toBe('a,"b,c","d""e","f\r\ng"\r\n,x,,\r\n');
  });

  it('neutralises cells a spreadsheet would run as formulas (= + - @ TAB CR) with a leading quote', () => {
    for (const cell of ['=1+1', '+1', '-1', '@x', '\tx', '\rx']) expect(escapeFormula(cell)).toBe(`'${cell}`);
    for (const cell of ['1+1', 'a=b', "'x", 'sqr_abc', '']) expect(escapeFormula(cell)).toBe(cell);
    expect(writeCsv([['=cmd|"/c calc"!A0', '-abc']])).toBe('"\'=cmd|""/c calc""!A0",\'-abc\r\n');
  });

  it('round-trips through our reader (with unescapeCell) and reads the same in Python\'s csv module', () => {
    const csv = writeCsv(tricky);
    expect(parseCsv(csv).map((r) => r.map(unescapeCell))).toEqual(tricky);
    const py = spawnSync('python3', ['-c', 'import csv,sys,json,io; print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.read(), newline="")))))'], {
      input: csv,
      encoding: 'utf8',
    });
    if (py.error) throw new Error('python3 is not installed; the CSV tests need the Debian package python3.');
    // Python (like a spreadsheet) sees the protective quote; the text is otherwise identical.
    expect(JSON.parse(py.stdout)).toEqual(tricky.map((r) => r.map(escapeFormula)));
  });
});

describe('parseCsv (strict RFC 4180)', () => {
  it('accepts CRLF or LF records, a missing final line break, empty and quoted fields', () => {
    expect(parseCsv('a,b\r\n1,2\r\n')).toEqual([['a', 'b'], ['1', '2']]);
    expect(parseCsv('a,b\n1,2')).toEqual([['a', 'b'], ['1', '2']]);
    expect(parseCsv('a,b,c\r\n,,\r\n"","x"""," y "\r\n')).toEqual([['a', 'b', 'c'], ['', '', ''], ['', 'x"', ' y ']]);
    expect(parseCsv('')).toEqual([]);
  });

  it('names the physical line of each problem', () => {
    expect(refusal(() => parseCsv('a,b\r\n1,2\r\n3\r\n'))).toMatch(/line 3: 1 field where the header has 2/);
    expect(refusal(() => parseCsv('a,b\r\n"multi\r\nline",2\r\n3,4,5\r\n'))).toMatch(/line 4: 3 fields/);
    expect(refusal(() => parseCsv('a,b\r\n1,2\r\n\r\n3,4\r\n'))).toMatch(/line 3: 1 field/);
    expect(refusal(() => parseCsv('a,b\r\n1,"open\r\n2,3\r\n'))).toMatch(/line 2, field 2: a quoted field is never closed/);
    expect(refusal(() => parseCsv('a,b\r\n1,ab"c\r\n'))).toMatch(/line 2, field 2: a double quote inside an unquoted field/);
    expect(refusal(() => parseCsv('a,b\r\n1,"ab"c\r\n'))).toMatch(/line 2, field 2: text after the closing quote/);
    expect(refusal(() => parseCsv('a,b\r1,2\r\n'))).toMatch(/line 1: a carriage return without a line feed/);
  });

  it('enforces the field length and row count limits', () => {
    const limits = { ...DEFAULT_CSV_LIMITS, maxFieldChars: 10, maxRows: 3 };
    expect(refusal(() => parseCsv(`a\r\n${'x'.repeat(11)}\r\n`, limits))).toMatch(/line 2, field 1: longer than 10/);
    expect(refusal(() => parseCsv(`a\r\n"${'x'.repeat(11)}"\r\n`, limits))).toMatch(/longer than 10/);
    expect(refusal(() => parseCsv('a\r\n1\r\n2\r\n3\r\n', limits))).toMatch(/more than 2 rows/);
    expect(parseCsv('a\r\n1\r\n2\r\n', limits)).toHaveLength(3);
  });
});

describe('decodeCsvBytes', () => {
  it('reads UTF-8 with or without a byte-order mark', () => {
    expect(decodeCsvBytes(Buffer.from('a,ü\r\n'))).toBe('a,ü\r\n');
    expect(decodeCsvBytes(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a,ü\r\n')]))).toBe('a,ü\r\n');
  });

  it('refuses UTF-16 (with or without BOM), UTF-32, binary, Latin-1 and oversized files with a clear reason', () => {
    const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\r\n', 'utf16le')]);
    expect(refusal(() => decodeCsvBytes(utf16le))).toMatch(/UTF-16.*CSV UTF-8/);
    expect(refusal(() => decodeCsvBytes(Buffer.from('a,b\r\n', 'utf16le')))).toMatch(/UTF-16 text without a byte-order mark/);
    expect(refusal(() => decodeCsvBytes(Buffer.from([0xfe, 0xff, 0, 0x61])))).toMatch(/UTF-16/);
    expect(refusal(() => decodeCsvBytes(Buffer.from([0, 0, 0xfe, 0xff, 0, 0, 0, 0x61])))).toMatch(/UTF-16 or UTF-32/);
    expect(refusal(() => decodeCsvBytes(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00])))).toMatch(/binary data \(a NUL byte at offset 5\)/);
    expect(refusal(() => decodeCsvBytes(Buffer.from('a,b\x1b[31m\r\n')))).toMatch(/control byte 0x1b/);
    expect(refusal(() => decodeCsvBytes(Buffer.from('a,caf\xe9\r\n', 'latin1')))).toMatch(/not valid UTF-8/);
    expect(refusal(() => decodeCsvBytes(Buffer.alloc(100, 0x61), { ...DEFAULT_CSV_LIMITS, maxBytes: 99 }))).toMatch(/100 bytes; at most 99/);
  });
});
