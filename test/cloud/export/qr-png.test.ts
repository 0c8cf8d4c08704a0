import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32 } from '../../../common/crc32.js';
import { qrPng } from '../../../cloud/export/qr-png.js';

describe('qrPng', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-qrpng-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a valid 1-bit PNG: chunk CRCs check out and the pixel rows inflate to the right size', () => {
    const png = qrPng('sqr_gCCsLSydh3d0ArmZj50l9zr79JXVooBR+1');
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    let at = 8;
    const chunks: { type: string; data: Buffer }[] = [];
    while (at < png.length) {
      const length = png.readUInt32BE(at);
      const type = png.toString('ascii', at + 4, at + 8);
      const data = png.subarray(at + 8, at + 8 + length);
      expect(png.readUInt32BE(at + 8 + length)).toBe(crc32(png.subarray(at + 4, at + 8 + length)));
      chunks.push({ type, data });
      at += 12 + length;
    }
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const side = chunks[0]!.data.readUInt32BE(0);
    expect(side % 8).toBe(0);
    expect([...chunks[0]!.data.subarray(8)]).toEqual([1, 0, 0, 0, 0]);
    expect(inflateSync(chunks[1]!.data).length).toBe(side * (1 + Math.ceil(side / 8)));
  });

  it.each(['sqr_gCCsLSydh3d0ArmZj50l9zr79JXVooBR+1', 'sqr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+2147483647', 'sqr_z9'])(
    'reads back as %s (zbarimg, Debian zbar-tools)',
    (payload) => {
      const file = join(dir, 'qr.png');
      writeFileSync(file, qrPng(payload));
      const decoded = execFileSync('zbarimg', ['--quiet', '--raw', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      expect(decoded).toBe(payload);
    },
  );
});
