/**
 * Flash throughput against the serial line rate, and provisioning scaling from 1 to 8 slots.
 * Everything through the production path (esptool-js + our flasher) against virtual boards whose
 * UART is throttled to the baud rate (10 bits per byte), so time on the wire is real time.
 *
 *   npx tsx bench/flash.bench.ts
 */
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { buildEdgentNvsImage } from '../core/payload/edgent-payload.js';
import { flashBoard } from '../native/flash/esptool-flasher.js';
import { createInProcessPort } from '../native/sim/in-process-port.js';
import { VirtualBoard } from '../native/sim/virtual-board.js';
import type { WebSerialPortLike } from '../native/serial/web-serial-port.js';

const TOKEN = 'Bench0123456789abcdefghijklmnopq';

async function board(): Promise<{ board: VirtualBoard; port: () => WebSerialPortLike }> {
  const b = new VirtualBoard({ throttle: true, seed: 7 });
  await b.ready;
  return { board: b, port: () => createInProcessPort(b, { inPlaceBaudChange: true }) as unknown as WebSerialPortLike };
}

/** Incompressible data is the honest case for the wire; firmware compresses ~2:1 in practice. */
function firmwareLike(size: number): Uint8Array {
  const out = new Uint8Array(size);
  const noise = randomBytes(size / 2);
  for (let i = 0; i < size; i += 2) {
    out[i] = noise[i / 2] ?? 0;
    out[i + 1] = 0;
  }
  return out;
}

async function throughput(label: string, baud: number, data: Uint8Array, address: number): Promise<void> {
  const { board: b, port } = await board();
  let writeStart = 0;
  let writeEnd = 0;
  const outcome = await flashBoard({
    port: port(),
    baudRate: baud,
    regions: [{ name: label, address, data }],
    onProgress: (p) => {
      if (p.phase === 'writing' && writeStart === 0) writeStart = performance.now();
      if (p.bytesDone >= p.bytesTotal && p.bytesTotal > 0) writeEnd = performance.now();
    },
  });
  const seconds = (writeEnd - writeStart) / 1000;
  const lineRate = outcome.baudRate / 10;
  const effective = data.length / seconds;
  // What actually crossed the wire: esptool-js deflates at level 9 before SLIP framing.
  const wire = deflateSync(data, { level: 9 }).length / seconds;
  console.log(
    `${label.padEnd(22)} ${String(outcome.baudRate).padStart(6)} baud  ${(data.length / 1024).toFixed(0).padStart(5)} KiB in ${seconds.toFixed(2).padStart(6)} s` +
      `  effective ${(effective / 1024).toFixed(1).padStart(6)} KiB/s = ${(effective / lineRate).toFixed(2)} x line rate (${(lineRate / 1024).toFixed(1)} KiB/s)` +
      `  wire ${(wire / lineRate).toFixed(2)} x line rate  whole job ${(outcome.durationMs / 1000).toFixed(2)} s`,
  );
  b.dispose();
}

async function slots(n: number): Promise<number> {
  const boards = await Promise.all(Array.from({ length: n }, () => board()));
  const nvs = buildEdgentNvsImage({ auth: TOKEN, host: 'blynk.cloud' }, 0x6000);
  const started = performance.now();
  await Promise.all(boards.map((b) => flashBoard({ port: b.port(), baudRate: 921_600, regions: [{ name: 'nvs', address: 0x9000, data: nvs }] })));
  const seconds = (performance.now() - started) / 1000;
  for (const b of boards) b.board.dispose();
  return (n / seconds) * 3600;
}

const nvs = buildEdgentNvsImage({ auth: TOKEN, host: 'blynk.cloud' }, 0x6000);
console.log('Throughput (payload bytes per second of writing, against the UART line rate baud/10):');
await throughput('token-only NVS 24 KiB', 115_200, nvs, 0x9000);
await throughput('token-only NVS 24 KiB', 921_600, nvs, 0x9000);
await throughput('firmware 1 MiB', 115_200, firmwareLike(1 << 20), 0x10000);
await throughput('firmware 1 MiB', 921_600, firmwareLike(1 << 20), 0x10000);

console.log('\nToken-only provisioning (connect + stub + write + MD5 + reset), boards per hour:');
const one = await slots(1);
const eight = await slots(8);
console.log(`1 slot:  ${one.toFixed(0)} boards/h (${(3600 / one).toFixed(2)} s per board)`);
console.log(`8 slots: ${eight.toFixed(0)} boards/h -> scaling 1 -> 8 = ${(eight / one).toFixed(2)} x (ideal 8)`);
