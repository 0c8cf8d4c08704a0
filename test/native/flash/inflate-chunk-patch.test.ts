import { deflateSync } from 'node:zlib';
import { Inflate } from 'pako';
import { describe, expect, it } from 'vitest';
import { buildEdgentNvsImage } from '../../../core/payload/edgent-payload.js';
import { installInflateChunkPatch } from '../../../native/flash/inflate-chunk-patch.js';

/** What esptool-js 0.7's writeFlash does per block: inflate with chunkSize 1 and add up the chunk sizes. */
function countLikeEsptoolJs(compressed: Uint8Array, blockSize: number): { total: number; callbacks: number; perBlock: number[] } {
  const inflate = new Inflate({ chunkSize: 1 });
  let total = 0;
  let callbacks = 0;
  inflate.onData = (chunk: Uint8Array) => {
    total += chunk.byteLength;
    callbacks++;
  };
  const perBlock: number[] = [];
  for (let offset = 0; offset < compressed.length; offset += blockSize) {
    const before = total;
    inflate.push(compressed.subarray(offset, offset + blockSize), offset + blockSize >= compressed.length);
    perBlock.push(total - before);
  }
  return { total, callbacks, perBlock };
}

describe("esptool-js's per-block inflate count", () => {
  it('counts the same bytes per block with the patch, in a handful of callbacks instead of one per byte', () => {
    const image = buildEdgentNvsImage({ auth: 'Inflat3Patch0000Inflat3Patch0000', host: 'blynk.cloud' }, 0x6000);
    // Firmware-like: half noise, half repeats, so it spans many 16 KiB blocks on the wire.
    let x = 12345;
    const firmware = Uint8Array.from({ length: 300_000 }, (_, i) => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (i >> 10) % 2 === 0 ? x >>> 24 : i & 0x0f;
    });
    const before = countLikeEsptoolJs(deflateSync(image, { level: 9 }), 0x4000);
    expect(before.total).toBe(image.length);
    expect(before.callbacks).toBe(image.length); // one callback per byte: the cost being removed
    const beforeFw = countLikeEsptoolJs(deflateSync(firmware, { level: 9 }), 0x4000);

    installInflateChunkPatch();
    const after = countLikeEsptoolJs(deflateSync(image, { level: 9 }), 0x4000);
    expect(after.total).toBe(image.length);
    expect(after.perBlock).toEqual(before.perBlock);
    expect(after.callbacks).toBeLessThan(5);
    const afterFw = countLikeEsptoolJs(deflateSync(firmware, { level: 9 }), 0x4000);
    expect(beforeFw.perBlock.length).toBeGreaterThan(5);
    expect(afterFw.perBlock).toEqual(beforeFw.perBlock);
    expect(afterFw.total).toBe(firmware.length);
  });
});
