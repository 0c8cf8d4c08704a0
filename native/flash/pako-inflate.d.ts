// The one part of pako (esptool-js's inflater, pinned by esptool-js 0.7.0) that inflate-chunk-patch.ts touches.
declare module 'pako' {
  export class Inflate {
    constructor(options?: { chunkSize?: number; windowBits?: number; raw?: boolean });
    push(data: Uint8Array | ArrayBuffer, flushMode?: number | boolean): boolean;
    onData(chunk: Uint8Array): void;
    err: number;
    result: Uint8Array;
  }
}
