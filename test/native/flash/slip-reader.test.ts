import { Transport } from 'esptool-js';
import { describe, expect, it } from 'vitest';
import { installLinearSlipReader } from '../../../native/flash/slip-reader.js';

/** Deterministic bytes for the comparison. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return s / 2 ** 32;
  };
}

function slip(payload: Uint8Array): number[] {
  const out = [0xc0];
  for (const b of payload) {
    if (b === 0xc0) out.push(0xdb, 0xdc);
    else if (b === 0xdb) out.push(0xdb, 0xdd);
    else out.push(b);
  }
  out.push(0xc0);
  return out;
}

/** Reads packets until the stream is exhausted, recording each packet or error and what is left. */
async function drain(transport: Transport, bytes: Uint8Array): Promise<string[]> {
  const t = transport as unknown as { buffer: Uint8Array };
  t.buffer = bytes;
  const seen: string[] = [];
  for (let i = 0; i < 50; i++) {
    try {
      const packet = await transport.read(5);
      seen.push(`packet ${Buffer.from(packet).toString('hex')}`);
    } catch (err) {
      seen.push(`error ${(err as Error).message}; left ${Buffer.from(t.buffer).toString('hex')}`);
      if (t.buffer.length === 0) break;
    }
  }
  return seen;
}

describe('linear SLIP reader', () => {
  it("returns the very packets, errors and leftovers of esptool-js's own reader", async () => {
    const rand = prng(7);
    for (let round = 0; round < 60; round++) {
      const stream: number[] = [];
      const packets = 1 + Math.floor(rand() * 4);
      for (let p = 0; p < packets; p++) {
        const payload = Uint8Array.from({ length: Math.floor(rand() * (round % 5 === 0 ? 5000 : 40)) }, () => {
          const r = rand();
          return r < 0.05 ? 0xc0 : r < 0.1 ? 0xdb : Math.floor(rand() * 256);
        });
        stream.push(...slip(payload));
      }
      // Some rounds carry noise: a bad head, a broken escape, a packet cut short.
      if (round % 7 === 3) stream.unshift(0x41);
      if (round % 7 === 4) stream.splice(Math.floor(stream.length / 2), 0, 0xdb, 0x01);
      if (round % 7 === 5) stream.length = Math.max(1, stream.length - 3);
      const bytes = Uint8Array.from(stream);
      const original = new Transport({} as SerialPort, false);
      const linear = new Transport({} as SerialPort, false);
      installLinearSlipReader(linear);
      expect(await drain(linear, bytes.slice()), `round ${round}`).toEqual(await drain(original, bytes.slice()));
    }
  });

  it('takes an answer that arrived while the host was starved past the deadline (esptool-js calls it a timeout)', async () => {
    const answer = Uint8Array.from(slip(Uint8Array.from([1, 8, 4, 0, 0x12, 0x20, 0x55, 0x55, 0, 0])));
    const starvedRead = async (transport: Transport) => {
      const t = transport as unknown as { buffer: Uint8Array };
      t.buffer = new Uint8Array(0);
      const pending = transport.read(20);
      // The answer lands in the receive buffer, then the event loop is busy for 60 ms (a starved host).
      t.buffer = answer.slice();
      const until = Date.now() + 60;
      while (Date.now() < until) {
        /* busy */
      }
      return pending.then(
        (p) => `packet ${Buffer.from(p).toString('hex')}`,
        (e: unknown) => `error ${(e as Error).message}`,
      );
    };
    const original = new Transport({} as SerialPort, false);
    const linear = new Transport({} as SerialPort, false);
    installLinearSlipReader(linear);
    expect(await starvedRead(original)).toMatch(/^error Serial data stream stopped/);
    expect(await starvedRead(linear)).toBe('packet 01080400122055550000');
  });

  it('unframes a 4 KiB packet in linear time', async () => {
    const payload = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31) & 0xff);
    const linear = new Transport({} as SerialPort, false);
    installLinearSlipReader(linear);
    (linear as unknown as { buffer: Uint8Array }).buffer = Uint8Array.from(slip(payload));
    expect(Buffer.from(await linear.read(5)).equals(Buffer.from(payload))).toBe(true);
  });
});
