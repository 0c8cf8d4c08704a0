/**
 * A tiny ZPL II reader for the commands Flashline writes, so tests can check label formats by what
 * they mean (payloads, positions in dots) rather than by string matching. It understands
 * `^XA ^XZ ^CI ^PW ^LL ^LH ^LS ^LT ^FO ^BQ ^A ^FB ^FH ^FD ^FS` and refuses anything else, so a
 * command the renderer starts emitting without a test noticing fails loudly.
 */

export interface ZplQrField {
  kind: 'qr';
  /** Where the symbol's top-left module lands on the label, in dots, after ^LH/^LS/^LT. */
  x: number;
  y: number;
  model: number;
  magnification: number;
  errorCorrection: string;
  /** Decoded payload (after ^FH), checked against the `Bnnnn` byte count. */
  payload: string;
  rawData: string;
}

export interface ZplTextField {
  kind: 'text';
  x: number;
  y: number;
  font: string;
  height: number;
  width: number;
  block: { width: number; maxLines: number } | null;
  /** The lines as the printer would print them (^FB's `\&` splits, `\\` unescaped, ^FH decoded). */
  lines: string[];
  rawData: string;
}

export type ZplField = ZplQrField | ZplTextField;

export interface ZplFormat {
  printWidth: number;
  labelLength: number;
  labelHome: { x: number; y: number };
  labelShift: number;
  labelTop: number;
  charset: number | null;
  fields: ZplField[];
}

const KNOWN = new Set(['XA', 'XZ', 'CI', 'PW', 'LL', 'LH', 'LS', 'LT', 'FO', 'BQ', 'A', 'FB', 'FH', 'FD', 'FS']);

function decodeHex(data: string, indicator: string | null): string {
  if (indicator === null) return data;
  const bytes: number[] = [];
  for (let i = 0; i < data.length; i++) {
    if (data[i] === indicator) {
      const hex = data.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new Error(`bad ^FH escape "${indicator}${hex}"`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(data.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function ints(params: string, n: number): number[] {
  const parts = params.split(',');
  return Array.from({ length: n }, (_, i) => {
    const v = Number(parts[i]);
    if (!Number.isInteger(v)) throw new Error(`expected an integer parameter ${i + 1} in "${params}"`);
    return v;
  });
}

/** ^FB escapes, left to right as the printer reads them: `\\&` is a line break, `\\\\` a backslash. */
function blockLines(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && text[i + 1] === '&') {
      lines.push(line);
      line = '';
      i++;
    } else if (text[i] === '\\' && text[i + 1] === '\\') {
      line += '\\';
      i++;
    } else {
      line += text[i];
    }
  }
  lines.push(line);
  return lines;
}

/** Splits ZPL into commands: `{ prefix, name, params }`, where ^FD's params run to the next ^ or ~. */
function commands(zpl: string): { name: string; params: string }[] {
  const out: { name: string; params: string }[] = [];
  let i = 0;
  while (i < zpl.length) {
    const c = zpl[i]!;
    if (c === '\n' || c === '\r' || c === ' ') {
      i++;
      continue;
    }
    if (c !== '^' && c !== '~') throw new Error(`stray text at ${i}: ${JSON.stringify(zpl.slice(i, i + 20))}`);
    if (c === '~') throw new Error(`control command ~${zpl.slice(i + 1, i + 3)} in a label format`);
    let name = zpl.slice(i + 1, i + 3);
    if (name.startsWith('A') && !KNOWN.has(name)) name = 'A';
    let j = i + 1 + name.length;
    while (j < zpl.length && zpl[j] !== '^' && zpl[j] !== '~' && (name === 'FD' || zpl[j] !== '\n')) j++;
    out.push({ name, params: zpl.slice(i + 1 + name.length, j) });
    i = j;
  }
  return out;
}

export function parseZpl(zpl: string): ZplFormat[] {
  const formats: ZplFormat[] = [];
  let f: ZplFormat | null = null;
  let origin: { x: number; y: number } | null = null;
  let pending: { kind: 'qr'; model: number; magnification: number; errorCorrection: string } | { kind: 'text'; font: string; height: number; width: number } | null =
    null;
  let block: { width: number; maxLines: number } | null = null;
  let hex: string | null = null;
  for (const { name, params } of commands(zpl)) {
    if (!KNOWN.has(name)) throw new Error(`unknown ZPL command ^${name}`);
    if (name === 'XA') {
      if (f) throw new Error('^XA inside a format');
      f = { printWidth: NaN, labelLength: NaN, labelHome: { x: 0, y: 0 }, labelShift: 0, labelTop: 0, charset: null, fields: [] };
      continue;
    }
    if (!f) throw new Error(`^${name} outside ^XA…^XZ`);
    switch (name) {
      case 'XZ':
        formats.push(f);
        f = null;
        break;
      case 'CI':
        f.charset = ints(params, 1)[0]!;
        break;
      case 'PW':
        f.printWidth = ints(params, 1)[0]!;
        break;
      case 'LL':
        f.labelLength = ints(params, 1)[0]!;
        break;
      case 'LH': {
        const [x, y] = ints(params, 2);
        f.labelHome = { x: x!, y: y! };
        break;
      }
      case 'LS':
        f.labelShift = ints(params, 1)[0]!;
        break;
      case 'LT':
        f.labelTop = ints(params, 1)[0]!;
        break;
      case 'FO': {
        const [x, y] = ints(params, 2);
        origin = { x: x!, y: y! };
        break;
      }
      case 'BQ': {
        const [orientation, model, mag, ecc] = params.split(',');
        if (orientation !== 'N') throw new Error(`^BQ orientation ${orientation}`);
        pending = { kind: 'qr', model: Number(model), magnification: Number(mag), errorCorrection: ecc ?? '' };
        break;
      }
      case 'A': {
        const m = /^(.)N,(\d+),(\d+)$/.exec(params);
        if (!m) throw new Error(`^A${params} is not "^A<font>N,h,w"`);
        pending = { kind: 'text', font: m[1]!, height: Number(m[2]), width: Number(m[3]) };
        break;
      }
      case 'FB': {
        const [w, lines] = ints(params, 2);
        block = { width: w!, maxLines: lines! };
        break;
      }
      case 'FH':
        hex = params === '' ? '_' : params;
        if (hex.length !== 1) throw new Error(`^FH${params}`);
        break;
      case 'FD': {
        if (!origin || !pending) throw new Error('^FD without ^FO and a field type');
        const x = f.labelHome.x - f.labelShift + origin.x;
        const y = f.labelHome.y + f.labelTop + origin.y;
        if (pending.kind === 'qr') {
          const m = /^([HQML])M,B(\d{4})(.*)$/s.exec(params);
          if (!m) throw new Error(`QR field data "${params}" is not "<ecc>M,Bnnnn<data>"`);
          const payload = decodeHex(m[3]!, hex);
          const count = Number(m[2]);
          if (Buffer.byteLength(payload, 'utf8') !== count) throw new Error(`QR byte count ${count} but ${Buffer.byteLength(payload)} bytes of data`);
          if (m[1] !== pending.errorCorrection) throw new Error('QR error correction differs between ^BQ and ^FD');
          f.fields.push({ kind: 'qr', x, y, model: pending.model, magnification: pending.magnification, errorCorrection: m[1]!, payload, rawData: params });
        } else {
          const decoded = decodeHex(params, hex);
          const lines = block ? blockLines(decoded) : [decoded];
          f.fields.push({ kind: 'text', x, y, font: pending.font, height: pending.height, width: pending.width, block, lines, rawData: params });
        }
        break;
      }
      case 'FS':
        origin = null;
        pending = null;
        block = null;
        hex = null;
        break;
    }
  }
  if (f) throw new Error('format not closed with ^XZ');
  return formats;
}
