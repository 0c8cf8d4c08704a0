import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { buildLabelModel, QR_PAYLOAD_MAX_CHARS, type LabelModel } from '../../../core/labels/label-model.js';
import {
  dotsPerMm,
  escapeFieldData,
  estimateTextWidthDots,
  renderLabelZpl,
  TARGET_QR_MM,
  type ZplDpi,
} from '../../../core/labels/label-zpl.js';
import { getLabelStock } from '../../../core/labels/label-stock.js';
import { assertLabelToolsInstalled } from '../../support/label-decode.js';
import { parseZpl, type ZplFormat, type ZplQrField, type ZplTextField } from '../../support/zpl-parse.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function token32(seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  return Array.from(digest.subarray(0, 32), (b) => ALPHABET[b % 64]).join('');
}

function rows(n: number, batch: string) {
  return Array.from({ length: n }, (_, i) => ({
    qrToken: `sqr_${token32(`${batch}-qr-${i}`)}`,
    authToken: token32(`${batch}-auth-${i}`),
    orgId: 4821,
    productName: 'Smart Plug Mini',
    serial: `FL-2026-${String(i + 1).padStart(6, '0')}`,
    mac: `24:0A:C4:00:00:${String(i % 100).padStart(2, '0')}`,
  }));
}

function labelsFor(rs: ReturnType<typeof rows>, template?: string): LabelModel[] {
  return rs.map((r) => buildLabelModel(r, template));
}

const qrOf = (f: ZplFormat) => f.fields.filter((x): x is ZplQrField => x.kind === 'qr');
const textOf = (f: ZplFormat) => f.fields.filter((x): x is ZplTextField => x.kind === 'text');
const allText = (f: ZplFormat) => textOf(f).flatMap((t) => t.lines);

describe('renderLabelZpl', () => {
  for (const [stockId, dpi, width, length] of [
    ['thermal-2x1in', 203, 406, 203],
    ['thermal-2x1in', 300, 599, 300],
    ['roll-62x29', 203, 496, 232],
    ['roll-62x29', 300, 732, 342],
  ] as const) {
    it(`writes one ^XA…^XZ format per label with ^PW/^LL of the ${stockId} stock at ${dpi} dpi`, () => {
      const labels = labelsFor(rows(3, `${stockId}-${dpi}`));
      const zpl = renderLabelZpl(labels, stockId, { dpi });
      expect(/^[\x20-\x7e\n]*$/.test(zpl)).toBe(true);
      const formats = parseZpl(zpl);
      expect(formats).toHaveLength(3);
      formats.forEach((f, i) => {
        expect(f.printWidth).toBe(width);
        expect(f.labelLength).toBe(length);
        expect(f.charset).toBe(28);
        const [qr, ...more] = qrOf(f);
        expect(more).toHaveLength(0);
        expect(qr!.payload).toBe(labels[i]!.qrPayload);
        expect(qr!.model).toBe(2);
        expect(qr!.errorCorrection).toBe('M');
      });
    });
  }

  it('makes the QR at least 18 mm where the label allows, else the largest that fits, quiet zone inside the label', () => {
    for (const stockId of ['thermal-2x1in', 'roll-62x29']) {
      for (const dpi of [203, 300] as ZplDpi[]) {
        const [label] = labelsFor(rows(1, `size-${stockId}-${dpi}`));
        const [f] = parseZpl(renderLabelZpl([label!], stockId, { dpi }));
        const qr = qrOf(f!)[0]!;
        const modules = QRCode.create([{ data: Buffer.from(label!.qrPayload), mode: 'byte' }], { errorCorrectionLevel: 'M' }).modules.size;
        const size = modules * qr.magnification;
        const quiet = 4 * qr.magnification;
        const inside = (mag: number) =>
          qr.x - 4 * mag >= 0 && qr.y - 4 * mag >= 0 && qr.x + modules * mag + 4 * mag <= f!.printWidth && qr.y + modules * mag + 4 * mag <= f!.labelLength;
        expect(inside(qr.magnification), `${stockId}@${dpi}`).toBe(true);
        expect(qr.x - quiet).toBeGreaterThanOrEqual(Math.round(dotsPerMm(dpi)) - 1);
        const mm = size / dotsPerMm(dpi);
        if (mm < TARGET_QR_MM) {
          // Smaller than 18 mm only because one more dot per module would not fit (quiet zone included).
          const box = Math.min(f!.labelLength - 2 * Math.round(dotsPerMm(dpi)), Math.floor(f!.printWidth * 0.55));
          expect((modules + 8) * (qr.magnification + 1), `${stockId}@${dpi}`).toBeGreaterThan(box);
        } else {
          // The smallest magnification that reaches 18 mm: one less would not.
          expect((modules * (qr.magnification - 1)) / dotsPerMm(dpi)).toBeLessThan(TARGET_QR_MM);
        }
      }
    }
    // The two cases above both happen: 203 dpi thermal reaches 18 mm, 300 dpi thermal cannot.
    const mmAt = (dpi: ZplDpi) => {
      const [f] = parseZpl(renderLabelZpl(labelsFor(rows(1, 'cmp')), 'thermal-2x1in', { dpi }));
      const qr = qrOf(f!)[0]!;
      return (QRCode.create([{ data: Buffer.from(qr.payload), mode: 'byte' }], { errorCorrectionLevel: 'M' }).modules.size * qr.magnification) / dotsPerMm(dpi);
    };
    expect(mmAt(203)).toBeGreaterThanOrEqual(TARGET_QR_MM);
    expect(mmAt(300)).toBeLessThan(TARGET_QR_MM);
  });

  it('prints name, serial, MAC and human code with the scalable font in ^FB blocks inside the label, right of the QR', () => {
    for (const stockId of ['thermal-2x1in', 'roll-62x29']) {
      for (const dpi of [203, 300] as ZplDpi[]) {
        const labels = labelsFor(rows(2, `text-${stockId}`));
        parseZpl(renderLabelZpl(labels, stockId, { dpi })).forEach((f, i) => {
          expect(allText(f)).toEqual(['Smart Plug Mini', `S/N ${labels[i]!.serial}`, `MAC ${labels[i]!.mac!}`, labels[i]!.humanCode]);
          const qr = qrOf(f)[0]!;
          const modules = QRCode.create([{ data: Buffer.from(qr.payload), mode: 'byte' }], { errorCorrectionLevel: 'M' }).modules.size;
          const qrRight = qr.x + (modules + 4) * qr.magnification;
          let lastBottom = 0;
          for (const t of textOf(f)) {
            expect(t.font).toBe('0');
            expect(t.block).not.toBeNull();
            expect(t.block!.maxLines).toBe(t.lines.length);
            expect(t.height).toBeGreaterThanOrEqual(10);
            expect(t.x).toBeGreaterThanOrEqual(qrRight);
            expect(t.x + t.block!.width).toBeLessThanOrEqual(f.printWidth);
            for (const line of t.lines) expect(estimateTextWidthDots(line, t.width)).toBeLessThanOrEqual(t.block!.width);
            // Lines stack downwards without overlapping and stay on the label.
            expect(t.y).toBeGreaterThanOrEqual(lastBottom);
            lastBottom = t.y + t.lines.length * t.height;
            expect(lastBottom).toBeLessThanOrEqual(f.labelLength);
          }
        });
      }
    }
  });

  it('wraps a long product name onto two lines and cuts the rest with an ellipsis', () => {
    const long = 'Smart Greenhouse Controller Pro Max with Extra Long Name Edition 2026';
    const [label] = labelsFor(rows(1, 'long').map((r) => ({ ...r, productName: long })));
    const [f] = parseZpl(renderLabelZpl([label!], 'thermal-2x1in'));
    const name = textOf(f!)[0]!;
    expect(name.lines).toHaveLength(2);
    expect(name.block!.maxLines).toBe(2);
    expect(name.lines[1]!.endsWith('...')).toBe(true);
    expect(long.startsWith(`${name.lines[0]} ${name.lines[1]!.slice(0, -3)}`)).toBe(true);
    const unbroken = 'W'.repeat(60);
    const [g] = parseZpl(renderLabelZpl([{ ...label!, productName: unbroken, serial: `SN-${'9'.repeat(60)}` }], 'thermal-2x1in'));
    const [n, s] = textOf(g!);
    expect(n!.lines).toHaveLength(1);
    expect(n!.lines[0]).toMatch(/^W+\.\.\.$/);
    expect(s!.lines[0]).toMatch(/^S\/N SN-9+\.\.\.$/);
  });

  it('hex-escapes ^ and ~ (and UTF-8) in field data, so product names and payloads cannot inject commands', () => {
    const [row] = rows(1, 'inject');
    const hostileName = 'Plug ^XZ^XA^FO0,0^GB999,999,999^FS ~JR Ünïcode € \\& end';
    const label = buildLabelModel({ ...row!, productName: hostileName }, '{qrToken}+{orgId}^~_x');
    const zpl = renderLabelZpl([label], 'roll-62x29');
    // Exactly one format, and no control command, survived.
    expect(zpl.match(/\^XA/g)).toHaveLength(1);
    expect(zpl.match(/\^XZ/g)).toHaveLength(1);
    expect(zpl).not.toContain('~JR');
    expect(zpl).not.toContain('^GB');
    const [f] = parseZpl(zpl);
    expect(qrOf(f!)[0]!.payload).toBe(label.qrPayload);
    expect(qrOf(f!)[0]!.payload.endsWith('^~_x')).toBe(true);
    // The name is printed as given (wrapped or cut, never altered).
    const nameLines = textOf(f!)[0]!.lines;
    expect(hostileName.startsWith(nameLines.join(' ').replace(/\.\.\.$/, ''))).toBe(true);
    expect(nameLines.join(' ')).toContain('^XZ^XA');
  });

  it('keeps backslashes literal inside ^FB blocks (\\& would otherwise be a line break)', () => {
    const [row] = rows(1, 'backslash');
    const label = buildLabelModel({ ...row!, productName: 'A\\&B \\\\ C', serial: 'S\\&1' });
    const zpl = renderLabelZpl([label], 'roll-62x29');
    expect(zpl).toContain('A\\\\&B');
    const texts = textOf(parseZpl(zpl)[0]!);
    expect(texts[0]!.lines).toEqual(['A\\&B \\\\ C']);
    expect(texts[1]!.lines).toEqual(['S/N S\\&1']);
  });

  it('falls back to escaping the indicator itself when the data uses every candidate indicator', () => {
    const everything = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
    const { fh, data } = escapeFieldData(everything);
    expect(fh).toBe('^FH_');
    expect(data).not.toMatch(/[\^~]/);
    const [f] = parseZpl(`^XA^FO1,1^A0N,20,20^FB100,1,0,L,0${fh}^FD${data}^FS^XZ`);
    expect(textOf(f!)[0]!.lines).toEqual([everything]);
    expect(escapeFieldData('plain text_with underscores')).toEqual({ fh: '', data: 'plain text_with underscores' });
    // A token with '_' in it and a '^' in the payload picks another indicator and leaves '_' alone.
    expect(escapeFieldData('sqr_ab^c')).toEqual({ fh: '^FH|', data: 'sqr_ab|5Ec' });
  });

  it('applies the printer offset with ^LH (right), ^LS (left) and ^LT (down/up), moving every field by it', () => {
    const labels = labelsFor(rows(1, 'offset'));
    const plain = parseZpl(renderLabelZpl(labels, 'thermal-2x1in', { dpi: 203, offsetMm: { x: 0, y: 0 } }))[0]!;
    const right = parseZpl(renderLabelZpl(labels, 'thermal-2x1in', { dpi: 203, offsetMm: { x: 3, y: -2 } }))[0]!;
    const left = parseZpl(renderLabelZpl(labels, 'thermal-2x1in', { dpi: 203, offsetMm: { x: -1.5, y: 4 } }))[0]!;
    expect([plain.labelHome, plain.labelShift, plain.labelTop]).toEqual([{ x: 0, y: 0 }, 0, 0]);
    expect([right.labelHome, right.labelShift, right.labelTop]).toEqual([{ x: 24, y: 0 }, 0, -16]);
    expect([left.labelHome, left.labelShift, left.labelTop]).toEqual([{ x: 0, y: 0 }, 12, 32]);
    plain.fields.forEach((p, i) => {
      expect([right.fields[i]!.x - p.x, right.fields[i]!.y - p.y]).toEqual([24, -16]);
      expect([left.fields[i]!.x - p.x, left.fields[i]!.y - p.y]).toEqual([-12, 32]);
    });
    // The stock's own offset is the default; the station's calibration replaces it.
    expect(renderLabelZpl(labels, 'thermal-2x1in')).toBe(renderLabelZpl(labels, 'thermal-2x1in', { offsetMm: getLabelStock('thermal-2x1in').printerOffsetMm }));
  });

  it('fits the longest allowed payload on the 2x1 in label at 203 dpi with modules of at least 0.33 mm', () => {
    const [row] = rows(1, 'longest');
    const base = buildLabelModel(row!, 'https://claim.example.com/{orgId}/{qrToken}?s={serial}&p=');
    const label = { ...base, qrPayload: base.qrPayload.padEnd(QR_PAYLOAD_MAX_CHARS, 'x') };
    const [f] = parseZpl(renderLabelZpl([label], 'thermal-2x1in', { dpi: 203 }));
    const qr = qrOf(f!)[0]!;
    expect(qr.payload).toHaveLength(QR_PAYLOAD_MAX_CHARS);
    expect(qr.magnification / 8).toBeGreaterThanOrEqual(0.33);
  });

  it('refuses sheet stocks, unknown dpi, bad offsets and labels that carry extra fields', () => {
    const labels = labelsFor(rows(2, 'bad'));
    const code = (fn: () => unknown) => {
      try {
        fn();
        return 'returned';
      } catch (err) {
        return err instanceof StationError ? err.code : 'not a StationError';
      }
    };
    for (const sheet of ['a4-3x8', 'letter-3x10']) {
      expect(code(() => renderLabelZpl(labels, sheet))).toBe('INVALID_INPUT');
      expect(() => renderLabelZpl(labels, sheet)).toThrow(/sheet .*PDF/);
    }
    expect(code(() => renderLabelZpl(labels, 'no-such-stock'))).toBe('NOT_FOUND');
    expect(code(() => renderLabelZpl(labels, 'thermal-2x1in', { dpi: 600 as ZplDpi }))).toBe('INVALID_INPUT');
    expect(code(() => renderLabelZpl(labels, 'thermal-2x1in', { offsetMm: { x: 11, y: 0 } }))).toBe('INVALID_INPUT');
    expect(code(() => renderLabelZpl([], 'thermal-2x1in'))).toBe('INVALID_INPUT');
    const [row] = rows(1, 'spread');
    const spread = { ...buildLabelModel(row!), authToken: row!.authToken } as LabelModel;
    let message = '';
    try {
      renderLabelZpl([spread], 'thermal-2x1in');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('authToken');
    expect(message).not.toContain(row!.authToken);
  });

  it('never writes the AuthToken from the token row, and is deterministic', () => {
    const rs = rows(10, 'secret');
    const zpl = renderLabelZpl(labelsFor(rs), 'roll-62x29', { dpi: 300 });
    for (const r of rs) {
      expect(zpl).not.toContain(r.authToken.slice(0, 8));
      expect(zpl).toContain(r.qrToken);
    }
    expect(renderLabelZpl(labelsFor(rs), 'roll-62x29', { dpi: 300 })).toBe(zpl);
  });

  it('a raster of the QR fields at printer-dot resolution decodes to the payloads (zbarimg)', async () => {
    // No ZPL renderer is packaged for Debian, so this draws only what ^BQ would (byte mode, ECC M,
    // magnification = dots per module) at the printer's own resolution and reads it back.
    await assertLabelToolsInstalled();
    const dir = mkdtempSync(join(tmpdir(), 'zpl-raster-'));
    try {
      const [row] = rows(1, 'raster');
      const longest = buildLabelModel(row!, '{qrToken}+{orgId}+{serial}');
      const labels = [...labelsFor(rows(2, 'raster')), { ...longest, qrPayload: longest.qrPayload.padEnd(QR_PAYLOAD_MAX_CHARS, 'y') }];
      for (const dpi of [203, 300] as ZplDpi[]) {
        const formats = parseZpl(renderLabelZpl(labels, 'thermal-2x1in', { dpi }));
        formats.forEach((f, i) => {
          const qr = qrOf(f)[0]!;
          const w = f.printWidth;
          const h = f.labelLength;
          const pixels = Buffer.alloc(w * h, 255);
          const symbol = QRCode.create([{ data: Buffer.from(qr.payload), mode: 'byte' }], { errorCorrectionLevel: 'M' }).modules;
          for (let r = 0; r < symbol.size; r++) {
            for (let c = 0; c < symbol.size; c++) {
              if (!symbol.data[r * symbol.size + c]) continue;
              for (let dy = 0; dy < qr.magnification; dy++) {
                const y = qr.y + r * qr.magnification + dy;
                pixels.fill(0, y * w + qr.x + c * qr.magnification, y * w + qr.x + (c + 1) * qr.magnification);
              }
            }
          }
          const file = join(dir, `l${dpi}-${i}.pgm`);
          writeFileSync(file, Buffer.concat([Buffer.from(`P5\n${w} ${h}\n255\n`), pixels]));
          const out = spawnSync('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', file], { encoding: 'utf8' });
          expect(out.status, `${dpi} dpi label ${i}`).toBe(0);
          expect(out.stdout.trim()).toBe(labels[i]!.qrPayload);
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
