/**
 * Improv Wi-Fi serial framing (https://www.improv-wifi.com/serial/):
 *
 *   "IMPROV" | version (1) | type | length | data[length] | checksum
 *
 * checksum = sum of every preceding byte of the packet (header included) & 0xFF. Clients end each
 * packet with `\n` so line-oriented firmware consoles flush it; devices may too. Packet types:
 * 0x01 current state (device → client, 1 byte), 0x02 error state (device → client, 1 byte),
 * 0x03 RPC command (client → device: command, data length, data), 0x04 RPC result (device → client:
 * command, data length, then strings each prefixed with its length).
 *
 * The same UART carries the application's text console, so `ImprovParser` finds packets inside an
 * arbitrary byte stream and hands back everything else as console bytes.
 */
export const IMPROV_HEADER = Uint8Array.from([0x49, 0x4d, 0x50, 0x52, 0x4f, 0x56]); // "IMPROV"
export const IMPROV_VERSION = 1;
/** header + version + type + length + checksum */
export const IMPROV_OVERHEAD_BYTES = IMPROV_HEADER.length + 4;

export const ImprovType = { currentState: 0x01, errorState: 0x02, rpc: 0x03, rpcResult: 0x04 } as const;
export const ImprovState = { ready: 0x02, provisioning: 0x03, provisioned: 0x04 } as const;
export const ImprovError = { none: 0x00, invalidRpc: 0x01, unknownRpc: 0x02, unableToConnect: 0x03, unknown: 0xff } as const;
export const ImprovCommand = { wifiSettings: 0x01, getState: 0x02, deviceInfo: 0x03, scanNetworks: 0x04 } as const;

export interface ImprovPacket {
  type: number;
  data: Uint8Array;
}

export function improvChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum;
}

/** One framed packet (with the trailing `\n` clients send when `newline`). */
export function encodeImprovPacket(type: number, data: Uint8Array, newline = true): Uint8Array {
  if (data.length > 0xff) throw new RangeError(`Improv data is at most 255 bytes, got ${data.length}`);
  const body = new Uint8Array(IMPROV_HEADER.length + 3 + data.length);
  body.set(IMPROV_HEADER, 0);
  body[6] = IMPROV_VERSION;
  body[7] = type;
  body[8] = data.length;
  body.set(data, 9);
  const out = new Uint8Array(body.length + 1 + (newline ? 1 : 0));
  out.set(body, 0);
  out[body.length] = improvChecksum(body);
  if (newline) out[body.length + 1] = 0x0a;
  return out;
}

/** Strings as Improv carries them: each one length byte then UTF-8 bytes. */
export function encodeStrings(strings: readonly string[]): Uint8Array {
  const parts = strings.map((s) => Buffer.from(s, 'utf8'));
  const out: number[] = [];
  for (const p of parts) {
    if (p.length > 0xff) throw new RangeError('an Improv string is at most 255 bytes');
    out.push(p.length, ...p);
  }
  return Uint8Array.from(out);
}

export function decodeStrings(bytes: Uint8Array): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < bytes.length) {
    const len = bytes[i] ?? 0;
    if (i + 1 + len > bytes.length) return null;
    out.push(Buffer.from(bytes.subarray(i + 1, i + 1 + len)).toString('utf8'));
    i += 1 + len;
  }
  return out;
}

/** An RPC command packet's data: command, data length, data. */
export function encodeRpc(command: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  return encodeImprovPacket(ImprovType.rpc, Uint8Array.from([command, payload.length, ...payload]));
}

export function encodeRpcResult(command: number, strings: readonly string[], newline = true): Uint8Array {
  const payload = encodeStrings(strings);
  return encodeImprovPacket(ImprovType.rpcResult, Uint8Array.from([command, payload.length, ...payload]), newline);
}

/** Parses an RPC (command or result) packet's data; null when its inner length disagrees. */
export function parseRpcData(data: Uint8Array): { command: number; payload: Uint8Array } | null {
  if (data.length < 2) return null;
  const len = data[1] ?? 0;
  if (2 + len !== data.length) return null;
  return { command: data[0] ?? 0, payload: data.subarray(2) };
}

export type ParsedChunk =
  | { kind: 'packet'; packet: ImprovPacket }
  /** A frame with the Improv header and version whose checksum is wrong: dropped. */
  | { kind: 'bad-packet'; reason: 'checksum' }
  | { kind: 'console'; bytes: Uint8Array };

/**
 * Finds Improv packets in a byte stream. Bytes that cannot start a packet are passed through as
 * console bytes at once; a possible packet start is held back until it is complete or disproved.
 */
export class ImprovParser {
  private buffer: number[] = [];

  push(bytes: Uint8Array): ParsedChunk[] {
    for (const b of bytes) this.buffer.push(b);
    const out: ParsedChunk[] = [];
    let consoleBytes: number[] = [];
    const flushConsole = (): void => {
      if (consoleBytes.length) out.push({ kind: 'console', bytes: Uint8Array.from(consoleBytes) });
      consoleBytes = [];
    };
    let i = 0;
    while (i < this.buffer.length) {
      const match = this.headerMatch(i);
      if (match === 'no') {
        consoleBytes.push(this.buffer[i] ?? 0);
        i += 1;
        continue;
      }
      if (match === 'partial') break;
      // A whole header at i: wait for version, type, length.
      if (this.buffer.length < i + 7) break;
      if (this.buffer[i + 6] !== IMPROV_VERSION) {
        // Console text that happens to read "IMPROV…" (or another protocol version): not ours.
        consoleBytes.push(this.buffer[i] ?? 0);
        i += 1;
        continue;
      }
      if (this.buffer.length < i + 9) break;
      const length = this.buffer[i + 8] ?? 0;
      const total = 9 + length + 1;
      if (this.buffer.length < i + total) break;
      flushConsole();
      const frame = Uint8Array.from(this.buffer.slice(i, i + total));
      const checksum = frame[total - 1];
      if (checksum !== improvChecksum(frame.subarray(0, total - 1))) out.push({ kind: 'bad-packet', reason: 'checksum' });
      else out.push({ kind: 'packet', packet: { type: frame[7] ?? 0, data: frame.slice(9, 9 + length) } });
      i += total;
    }
    flushConsole();
    this.buffer = this.buffer.slice(i);
    return out;
  }

  private headerMatch(at: number): 'yes' | 'partial' | 'no' {
    for (let k = 0; k < IMPROV_HEADER.length; k++) {
      const b = this.buffer[at + k];
      if (b === undefined) return 'partial';
      if (b !== IMPROV_HEADER[k]) return 'no';
    }
    return 'yes';
  }
}
