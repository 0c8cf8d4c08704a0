import { constants, createInflate, type Inflate } from 'node:zlib';

/**
 * Incremental zlib inflate, fed one FLASH_DEFL_DATA block at a time the way the ROM and the stub
 * decompress (the stream is one zlib stream split at arbitrary byte boundaries; a block may end in the
 * middle of a deflate symbol). Each `push` returns the bytes that block released.
 */
export class StreamingInflate {
  private readonly zlib: Inflate = createInflate();
  private output: Buffer[] = [];
  private failure: Error | null = null;
  private finished = false;

  constructor() {
    this.zlib.on('data', (chunk: Buffer) => this.output.push(chunk));
    this.zlib.on('error', (err: Error) => {
      this.failure = err;
    });
    this.zlib.on('end', () => {
      this.finished = true;
    });
  }

  /** True once the zlib stream's final block and Adler-32 trailer have been consumed. */
  get done(): boolean {
    return this.finished;
  }

  async push(chunk: Uint8Array): Promise<Uint8Array> {
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve) => {
      const onError = () => resolve();
      this.zlib.once('error', onError);
      this.zlib.write(chunk);
      this.zlib.flush(constants.Z_SYNC_FLUSH, () => {
        this.zlib.off('error', onError);
        resolve();
      });
    });
    // 'data' events of this flush may still be queued behind the callback.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.failure) throw this.failure;
    const out = Buffer.concat(this.output);
    this.output = [];
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }

  /** Whether a failure was the Adler-32 trailer check (ROM error 0x0C) rather than bad data (0x0B). */
  static isChecksumError(err: unknown): boolean {
    return err instanceof Error && /incorrect data check/i.test(err.message);
  }

  close(): void {
    this.zlib.destroy();
  }
}
