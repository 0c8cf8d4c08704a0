import { Inflate } from 'pako';

/**
 * esptool-js 0.7's writeFlash inflates every compressed block it sends again on the host, with
 * `new Inflate({ chunkSize: 1 })`, only to add up how many bytes the block stands for (the per-block
 * timeout). With a chunk size of one byte, pako calls back and copies its 32 KiB window for every
 * output byte: the 24 KiB token NVS image (one ~200-byte block on the wire) cost ~45 ms of
 * synchronous work per board, the largest single block on the station's event loop in the shift
 * bench (docs/benchmarks.md). esptool.py does the same count with zlib in one call.
 *
 * The fix changes only the size of the chunks pako hands to the callback, never their bytes, the
 * count per block or the total: esptool-js's `totalLenUncompressed` comes out the same after every
 * block. It applies to inflaters created with exactly `chunkSize: 1` (nobody else in the station
 * asks for that), from their first push.
 */
export const INFLATE_COUNT_CHUNK_BYTES = 64 * 1024;

/** zlib's Z_SYNC_FLUSH: inflate hands out everything decodable so far at the end of the push. */
const Z_SYNC_FLUSH = 2;

interface InflateInternals {
  options: { chunkSize: number };
  /** Set on esptool-js's counting inflaters once their chunk size was raised. */
  flashlineCounter?: boolean;
  push(data: Uint8Array | ArrayBuffer, flushMode?: number | boolean): boolean;
}

let installed = false;

export function installInflateChunkPatch(): void {
  if (installed) return;
  installed = true;
  const proto = Inflate.prototype as unknown as InflateInternals;
  const push = proto.push;
  proto.push = function patchedPush(this: InflateInternals, data, flushMode) {
    if (this.options.chunkSize === 1) {
      this.options.chunkSize = INFLATE_COUNT_CHUNK_BYTES;
      this.flashlineCounter = true;
    }
    // With one-byte chunks every byte was handed out within its own push; with large chunks a
    // no-flush push would keep a partly filled chunk back and count it against a later block.
    // A sync flush hands it out at the end of the push: the same count per block, same bytes.
    if (this.flashlineCounter && (flushMode === false || flushMode === undefined || flushMode === 0)) return push.call(this, data, Z_SYNC_FLUSH);
    return push.call(this, data, flushMode);
  };
}
