import { deflateSync } from 'node:zlib';
import QRCode from 'qrcode';
import { crc32 } from '../../common/crc32.js';

/** Error correction M, as Blynk's console labels use; 8 px per module; the standard 4-module quiet zone. */
const ERROR_CORRECTION = 'M';
const PX_PER_MODULE = 8;
const QUIET_ZONE_MODULES = 4;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  // The chunk CRC covers the type and the data (PNG spec, section 5.3).
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * The QR code of `payload` as a black-on-white PNG: the `qrcode` package builds the matrix, and
 * this writes it as a 1-bit grayscale PNG (IHDR, one IDAT, IEND). Several times faster than the
 * package's own PNG path (pngjs, 8-bit RGBA), which matters for a 1000-token export.
 */
export function qrPng(payload: string): Buffer {
  const qr = QRCode.create(payload, { errorCorrectionLevel: ERROR_CORRECTION });
  const modules = qr.modules.size;
  const side = (modules + 2 * QUIET_ZONE_MODULES) * PX_PER_MODULE;
  const rowBytes = 1 + Math.ceil(side / 8);
  const raw = Buffer.alloc(rowBytes * side);
  for (let y = 0; y < side; y++) {
    const row = y * rowBytes;
    raw[row] = 0; // filter type None
    const my = Math.floor(y / PX_PER_MODULE) - QUIET_ZONE_MODULES;
    for (let x = 0; x < side; x++) {
      const mx = Math.floor(x / PX_PER_MODULE) - QUIET_ZONE_MODULES;
      const dark = mx >= 0 && my >= 0 && mx < modules && my < modules && qr.modules.get(my, mx) === 1;
      // Bit depth 1 grayscale: 1 is white. Pixels fill each byte from the high bit.
      if (!dark) raw[row + 1 + (x >> 3)]! |= 0x80 >> (x & 7);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // grayscale
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
