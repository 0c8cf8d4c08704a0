import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { parseNvsCsv, readNvsCsvFile } from '../../../core/payload/nvs-csv.js';
import { vectorPath } from './nvs-vectors.js';

function invalidMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StationError);
    expect((err as StationError).code).toBe('INVALID_INPUT');
    return (err as StationError).message;
  }
  throw new Error('expected INVALID_INPUT');
}

describe('parseNvsCsv', () => {
  it('reads namespace and data rows in CSV order, skipping comment lines', () => {
    const csv = 'key,type,encoding,value\n# a comment\nblynk,namespace,,\nauth,data,string,abc\nn,data,u8,5\n';
    expect(parseNvsCsv(csv)).toEqual([
      { type: 'namespace', key: 'blynk' },
      { type: 'data', key: 'auth', encoding: 'string', value: 'abc' },
      { type: 'data', key: 'n', encoding: 'u8', value: '5' },
    ]);
  });

  it('follows Python csv: quotes, doubled quotes, multi-line fields, text after a closing quote, no trimming', () => {
    const csv = 'key,type,encoding,value\nn,namespace,,\na,data,string,"x, ""y"""\nb,data,string,"one\ntwo"\nc,data,string,"q"tail\nd,data,string,  sp  \ne,data,string,a"b\n';
    const values = parseNvsCsv(csv).map((e) => (e.type === 'data' ? e.value : e.key));
    expect(values).toEqual(['n', 'x, "y"', 'one\ntwo', 'qtail', '  sp  ', 'a"b']);
  });

  it('takes columns in any order, CRLF, blank lines, extra columns, and a UTF-8 BOM', () => {
    const csv = '\uFEFFvalue,encoding,type,key,note\r\n\r\n,,namespace,ns,x\r\n7,U8,data,k,extra,more\r\n';
    expect(parseNvsCsv(csv)).toEqual([
      { type: 'namespace', key: 'ns' },
      { type: 'data', key: 'k', encoding: 'u8', value: '7' },
    ]);
  });

  it('drops comment lines before CSV parsing, as the reference tool does', () => {
    const csv = 'key,type,encoding,value\nn,namespace,,\n#k,data,u8,1\n k,data,u8,2\n';
    expect(parseNvsCsv(csv)).toEqual([
      { type: 'namespace', key: 'n' },
      { type: 'data', key: ' k', encoding: 'u8', value: '2' },
    ]);
  });

  it('reads file rows relative to baseDir, as bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvs-csv-'));
    writeFileSync(join(dir, 'blob.bin'), new Uint8Array([1, 2, 3]));
    const [, entry] = parseNvsCsv('key,type,encoding,value\nn,namespace,,\nb,file,binary,blob.bin\n', dir);
    expect(entry).toEqual({ type: 'file', key: 'b', encoding: 'binary', value: new Uint8Array([1, 2, 3]) });
  });

  it('resolves file rows of a CSV file against its own folder', () => {
    const entries = readNvsCsvFile(vectorPath('integers', 'csv'));
    const fromFile = entries.find((e) => e.key === 'from_file');
    expect(fromFile?.type).toBe('file');
    if (fromFile?.type !== 'file') throw new Error('expected a file row');
    expect(new TextDecoder().decode(fromFile.value)).toBe('  123456\n');
  });

  it('refuses a missing column, an unknown type or encoding, upper-case string encodings and unreadable files', () => {
    expect(invalidMessage(() => parseNvsCsv('key,type,value\nn,namespace,\n'))).toMatch(/no "encoding" column/);
    expect(invalidMessage(() => parseNvsCsv(''))).toMatch(/empty/);
    expect(invalidMessage(() => parseNvsCsv('key,type,encoding,value\nn,namespace,,\nk,blob,u8,1\n'))).toMatch(/type "blob".*unknown/);
    expect(invalidMessage(() => parseNvsCsv('key,type,encoding,value\nn,namespace,,\nk,data,float,1\n'))).toMatch(/encoding "float".*unknown/);
    expect(invalidMessage(() => parseNvsCsv('key,type,encoding,value\nn,namespace,,\nk,data,STRING,x\n'))).toMatch(/lower case/);
    expect(invalidMessage(() => parseNvsCsv('key,type,encoding,value\nn,namespace,,\nk,data,u8\n'))).toMatch(/no encoding or value/);
    expect(invalidMessage(() => parseNvsCsv('key,type,encoding,value\nn,namespace,,\nk,file,binary,/nonexistent/x.bin\n'))).toMatch(
      /could not be read/,
    );
  });

  it('reports the line of a bad row', () => {
    try {
      parseNvsCsv('key,type,encoding,value\n# c\nn,namespace,,\nk,bogus,u8,1\n');
      throw new Error('expected an error');
    } catch (err) {
      expect((err as StationError).details).toEqual({ line: 4 });
    }
  });
});
