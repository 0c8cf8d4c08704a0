import { ESPError, type Transport } from 'esptool-js';

/** esptool-js polls its receive buffer this often while it waits for bytes (its own `sleep(1)`). */
const POLL_INTERVAL_MS = 1;
const SLIP_END = 0xc0;
const SLIP_ESC = 0xdb;
const SLIP_ESC_END = 0xdc;
const SLIP_ESC_ESC = 0xdd;

/** What of esptool-js's Transport the reader touches (public members, typed loosely by the .d.ts). */
interface TransportInternals {
  buffer: Uint8Array;
  tracing: boolean;
  trace(message: string): void;
  hexConvert(bytes: Uint8Array): string;
  detectPanicHandler(input: Uint8Array): void;
  read(timeout: number): Promise<Uint8Array>;
}

/**
 * esptool-js 0.7's `Transport.read` unframes a SLIP packet by copying the whole packet for every
 * byte received (`appendArray(partial, [byte])`): a 4 KiB READ_FLASH block costs ~8 MB of copies
 * and 4,096 short-lived arrays, all synchronous. With 8 slots probing (each reads the 24 KiB NVS
 * partition) that was the station's largest CPU cost and the main source of its event-loop lag
 * (docs/benchmarks.md). This is the same reader, byte for byte the same packets, errors and
 * traces, unframing into one growing buffer instead; and it looks at the receive buffer once more
 * when its deadline has passed (see below).
 */
export function installLinearSlipReader(transport: Transport): void {
  const t = transport as unknown as TransportInternals;
  t.read = async function read(timeout: number): Promise<Uint8Array> {
    let packet: Uint8Array | null = null;
    let length = 0;
    let isEscaping = false;
    const push = (byte: number) => {
      if (packet === null) return;
      if (length === packet.length) {
        const grown = new Uint8Array(packet.length * 2);
        grown.set(packet);
        packet = grown;
      }
      packet[length++] = byte;
    };
    for (;;) {
      const timeStamp = Date.now();
      let readBytes: Uint8Array = new Uint8Array(0);
      // Wait for data to be available, then take all of it at once. The buffer is looked at before
      // the clock: on a starved host the poll can wake long after the deadline with the answer
      // already received, and that is an answer, not a timeout (esptool-js checks the clock first
      // and calls it a timeout, which made healthy boards fail their SYNC on a loaded station).
      for (;;) {
        if (t.buffer.length > 0) {
          readBytes = t.buffer;
          t.buffer = new Uint8Array(0);
          break;
        }
        if (Date.now() - timeStamp >= timeout) break;
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      }
      if (readBytes.length === 0) {
        const msg = packet === null ? 'Serial data stream stopped: Possible serial noise or corruption.' : 'No serial data received.';
        if (t.tracing) t.trace(msg);
        throw new ESPError(msg);
      }
      if (t.tracing) t.trace(`Read ${readBytes.length} bytes: ${t.hexConvert(readBytes)}`);
      for (let i = 0; i < readBytes.length; i++) {
        const byte = readBytes[i]!;
        if (packet === null) {
          if (byte === SLIP_END) {
            packet = new Uint8Array(256);
            length = 0;
          } else {
            if (t.tracing) t.trace(`Read invalid data: ${t.hexConvert(readBytes)}`);
            const remainingData = t.buffer;
            if (t.tracing) t.trace(`Remaining data in serial buffer: ${t.hexConvert(remainingData)}`);
            t.detectPanicHandler(concat(readBytes, remainingData));
            throw new ESPError(`Invalid head of packet (0x${byte.toString(16)}): Possible serial noise or corruption.`);
          }
        } else if (isEscaping) {
          isEscaping = false;
          if (byte === SLIP_ESC_END) push(SLIP_END);
          else if (byte === SLIP_ESC_ESC) push(SLIP_ESC);
          else {
            if (t.tracing) t.trace(`Read invalid data: ${t.hexConvert(readBytes)}`);
            const remainingData = t.buffer;
            if (t.tracing) t.trace(`Remaining data in serial buffer: ${t.hexConvert(remainingData)}`);
            t.detectPanicHandler(concat(readBytes, remainingData));
            throw new ESPError(`Invalid SLIP escape (0xdb, 0x${byte.toString(16)})`);
          }
        } else if (byte === SLIP_ESC) {
          isEscaping = true;
        } else if (byte === SLIP_END) {
          const whole: Uint8Array = packet.slice(0, length);
          if (t.tracing) t.trace(`Received full packet: ${t.hexConvert(whole)}`);
          // Bytes after the END go back in front of whatever arrived meanwhile.
          if (i + 1 < readBytes.length) t.buffer = concat(readBytes.subarray(i + 1), t.buffer);
          return whole;
        } else {
          push(byte);
        }
      }
    }
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
