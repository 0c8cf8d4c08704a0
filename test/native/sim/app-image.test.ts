import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildAppDesc, buildImage, checkImage } from '../../../native/sim/app-image.js';

const image = (hashAppended = true) =>
  buildImage({
    chipId: 0,
    entry: 0x40081000,
    hashAppended,
    segments: [
      { loadAddress: 0x3f400020, data: buildAppDesc({ version: '1.2.3', projectName: 'edgent' }) },
      { loadAddress: 0x40080000, data: Uint8Array.of(1, 2, 3) }, // padded to 4 bytes
    ],
  });

describe('ESP32 app image check', () => {
  it('accepts a well-formed image and reads esp_app_desc_t', () => {
    const img = image();
    const result = checkImage(Buffer.concat([img, Buffer.alloc(100, 0xff)]), 0);
    expect(result).toMatchObject({ ok: true, chipId: 0, entry: 0x40081000, segments: 2, length: img.length });
    expect(result.ok && result.app).toMatchObject({ version: '1.2.3', projectName: 'edgent' });
    // Checksum byte ends a 16-byte block; SHA-256 of everything before it follows.
    expect((img.length - 32) % 16).toBe(0);
    expect(Buffer.from(img.subarray(img.length - 32)).equals(createHash('sha256').update(img.subarray(0, img.length - 32)).digest())).toBe(true);
  });

  it('rejects a flipped data bit by checksum, a flipped checksum by hash, and a foreign chip id', () => {
    const img = image(false);
    const bad = img.slice();
    bad[40] = bad[40]! ^ 0x01;
    expect(checkImage(bad)).toMatchObject({ ok: false, reason: expect.stringContaining('Checksum failed') });

    const hashed = image();
    const tampered = hashed.slice();
    tampered[hashed.length - 33] = tampered[hashed.length - 33]! ^ 0x01; // the checksum byte itself
    expect(checkImage(tampered).ok).toBe(false);

    expect(checkImage(image(), 9)).toMatchObject({ ok: false, reason: 'mismatch chip ID, expected 9, found 0' });
    expect(checkImage(new Uint8Array(64).fill(0xff))).toMatchObject({ ok: false, reason: 'invalid header: 0xffffffff' });
  });
});
