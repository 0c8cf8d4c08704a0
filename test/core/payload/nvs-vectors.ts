/**
 * The reference vectors in test/vectors/nvs/ (made with ESP-IDF's nvs_partition_gen.py, see its
 * README) and the values firmware should read out of each, derived from the CSV rows with Node's
 * own decoders (not the generator's), plus the entries the reference tool adds by itself.
 */
import { pbkdf2Sync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NvsNamespaceMap, NvsValue } from '../../../native/nvs/nvs-reader.js';

export const VECTOR_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../vectors/nvs');

export const VECTOR_NAMES = [
  'edgent',
  'edgent-auth-only',
  'integers',
  'strings',
  'blobs',
  'multipage',
  'wifi',
  'boundaries',
  'csv-quirks',
] as const;

export function vectorPath(name: string, ext: 'csv' | 'bin'): string {
  return join(VECTOR_DIR, `${name}.${ext}`);
}

export function readVectorBin(name: string): Uint8Array {
  const path = vectorPath(name, 'bin');
  if (!existsSync(path)) throw new Error(`Reference vector ${path} is missing; see test/vectors/nvs/README.md to make it.`);
  return new Uint8Array(readFileSync(path));
}

/** Minimal CSV reading for the test's own expectations: our vectors need quotes, "" and CRLF only. */
function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const src = text.replace(/\r\n/g, '\n');
  const lines = src.split('\n');
  const kept = lines.filter((l) => !l.startsWith('#')).join('\n');
  while (i < kept.length) {
    const c = kept[i]!;
    if (quoted) {
      if (c === '"' && kept[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
    i += 1;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

const INT_TYPES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'u64', 'i64'] as const;

function intValue(type: string, text: string): NvsValue {
  const n = BigInt(text.trim().replace(/_/g, ''));
  const t = type.toLowerCase() as (typeof INT_TYPES)[number];
  if (t === 'u64' || t === 'i64') return { type: t, value: n };
  return { type: t, value: Number(n) } as NvsValue;
}

function fillValue(encoding: string, text: string): Uint8Array {
  const m = /^(blob_fill|blob_sz_fill)\((\d+);0x([0-9a-fA-F]{2})\)/.exec(encoding)!;
  const length = Number(m[2]);
  const body = Buffer.alloc(length, parseInt(m[3]!, 16));
  Buffer.from(text, 'utf8').copy(body);
  if (m[1] === 'blob_fill') return new Uint8Array(body);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(Buffer.byteLength(text, 'utf8'));
  return new Uint8Array(Buffer.concat([size, body]));
}

/** Values whose CSV text Node decodes differently from Python, or that are easier to state. */
const LITERAL_OVERRIDES: Record<string, Record<string, NvsValue>> = {
  blobs: {
    // Python's a2b_base64 skips ' ' and '*' and stops at the padding that ends a quad.
    b64_noise: { type: 'blob', value: new TextEncoder().encode('hello') },
    b64_early_end: { type: 'blob', value: new TextEncoder().encode('hi') },
  },
};

function rowValue(name: string, encoding: string, type: string, raw: string): NvsValue {
  let text = raw;
  let bytes: Uint8Array | undefined;
  if (type === 'file') {
    bytes = new Uint8Array(readFileSync(join(VECTOR_DIR, raw)));
    text = Buffer.from(bytes).toString('utf8');
  }
  if ((INT_TYPES as readonly string[]).includes(encoding.toLowerCase())) return intValue(encoding, text);
  if (encoding === 'string') return { type: 'string', value: text };
  if (encoding === 'hex2bin') return { type: 'blob', value: new Uint8Array(Buffer.from(text.trim(), 'hex')) };
  if (encoding === 'base64') return { type: 'blob', value: new Uint8Array(Buffer.from(text, 'base64')) };
  if (encoding === 'binary') return { type: 'blob', value: bytes ?? new TextEncoder().encode(text) };
  if (encoding.startsWith('blob_')) return { type: 'blob', value: fillValue(encoding, text) };
  throw new Error(`vector ${name}: no expectation rule for encoding ${encoding}`);
}

/** Namespace -> key -> value that firmware should read from vector `name`. */
export function expectedValues(name: string): NvsNamespaceMap {
  const rows = csvRows(readFileSync(vectorPath(name, 'csv'), 'utf8'));
  const header = rows.shift()!;
  const col = (n: string): number => header.indexOf(n);
  const result: NvsNamespaceMap = new Map();
  let current: Map<string, NvsValue> | undefined;
  const ap: Record<string, string> = {};
  let staExtras = false;
  for (const row of rows) {
    const key = row[col('key')]!;
    const type = row[col('type')]!;
    if (type === 'namespace') {
      current = result.get(key) ?? new Map();
      result.set(key, current);
      continue;
    }
    const encoding = row[col('encoding')]!;
    const raw = row[col('value')]!;
    if (!current) throw new Error(`vector ${name}: row before namespace`);
    const override = LITERAL_OVERRIDES[name]?.[key];
    current.set(key, override ?? rowValue(name, encoding, type, raw));
    if ((key === 'sta.ssid' || key === 'sta.pswd') && !staExtras) {
      current.set('sta.apinfo', { type: 'blob', value: new Uint8Array(140).fill(0xff) });
      current.set('sta.pmk', { type: 'blob', value: new Uint8Array(32) });
      current.set('sta.apsw', { type: 'blob', value: new Uint8Array(2) });
      staExtras = true;
    }
    if (key.startsWith('ap.')) {
      ap[key] = raw;
      if (ap['ap.ssid'] && ap['ap.passwd'] && ap['ap.authmode'] && ap['ap.authmode'] !== '0') {
        const pmk = pbkdf2Sync(ap['ap.passwd'], ap['ap.ssid'], 4096, 32, 'sha1');
        current.set('ap.pmk_info', { type: 'blob', value: new Uint8Array(Buffer.concat([Buffer.alloc(100), pmk])) });
      }
    }
  }
  return result;
}

/** Plain, comparable form of a namespace map (Uint8Array -> hex, bigint -> string). */
export function plain(map: NvsNamespaceMap): Record<string, Record<string, { type: string; value: string | number }>> {
  const out: Record<string, Record<string, { type: string; value: string | number }>> = {};
  for (const [ns, keys] of [...map.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const o: Record<string, { type: string; value: string | number }> = {};
    for (const [k, v] of [...keys.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const value =
        v.value instanceof Uint8Array ? Buffer.from(v.value).toString('hex') : typeof v.value === 'bigint' ? v.value.toString() : v.value;
      o[k] = { type: v.type, value };
    }
    out[ns] = o;
  }
  return out;
}
