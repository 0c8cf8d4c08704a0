/**
 * Does the virtual board's baud throttle make the link take the time a real UART takes?
 * 1. The byte pipe alone: 64 KiB through one direction at 115200 baud (8N1: 10 bits a byte).
 * 2. A 64 KiB region written by the production flasher (esptool-js, stub, deflate, MD5 verify) to a
 *    throttled board at 115200: the write phase against the line time of the bytes that actually
 *    crossed the wire, and against the payload's own line time.
 * Ratios near 1 mean the simulation's time on the wire is real time.
 *
 *   npx tsx bench/sim-throttle.bench.ts
 */
import { randomBytes } from 'node:crypto';
import { flashBoard } from '../native/flash/esptool-flasher.js';
import type { WebSerialPortLike } from '../native/serial/web-serial-port.js';
import { BITS_PER_BYTE_8N1, BytePipe } from '../native/sim/byte-pipe.js';
import { createInProcessPort } from '../native/sim/in-process-port.js';
import { VirtualBoard } from '../native/sim/virtual-board.js';

const BAUD = 115_200;
const SIZE = 64 * 1024;
const lineSeconds = (bytes: number) => (bytes * BITS_PER_BYTE_8N1) / BAUD;

async function pipeAlone(): Promise<void> {
  let delivered = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const pipe = new BytePipe((bytes) => {
    delivered += bytes.length;
    if (delivered >= SIZE) done();
  });
  pipe.setBaud(BAUD);
  const started = performance.now();
  // Pushed the way the board pushes: in frames of a few hundred bytes.
  for (let off = 0; off < SIZE; off += 512) pipe.push(new Uint8Array(512));
  await finished;
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `byte pipe alone      ${SIZE / 1024} KiB at ${BAUD} baud: ${seconds.toFixed(3)} s, line time ${lineSeconds(SIZE).toFixed(3)} s -> measured/line = ${(seconds / lineSeconds(SIZE)).toFixed(3)}`,
  );
}

async function flasherWrite(throttle: boolean): Promise<void> {
  const board = new VirtualBoard({ throttle, seed: 1 });
  await board.ready;
  let toBoard = 0;
  let fromBoard = 0;
  let counting = false;
  const write = board.write.bind(board);
  board.write = (bytes: Uint8Array) => {
    if (counting) toBoard += bytes.length;
    write(bytes);
  };
  board.onData((bytes) => {
    if (counting) fromBoard += bytes.length;
  });
  let writeStart = 0;
  let writeEnd = 0;
  const data = new Uint8Array(randomBytes(SIZE)); // incompressible: deflate cannot shorten the wire
  await flashBoard({
    port: createInProcessPort(board) as unknown as WebSerialPortLike,
    regions: [{ name: 'data', address: 0x200000, data }],
    baudRate: BAUD,
    maxRetries: 0,
    onProgress: (p) => {
      if (p.phase === 'writing' && writeStart === 0) {
        writeStart = performance.now();
        counting = true;
      }
      if (p.bytesTotal > 0 && p.bytesDone >= p.bytesTotal && writeEnd === 0) {
        writeEnd = performance.now();
        counting = false;
      }
    },
  });
  const seconds = (writeEnd - writeStart) / 1000;
  const wire = lineSeconds(toBoard);
  console.log(
    `flashBoard ${throttle ? 'throttled  ' : 'unthrottled'} ${SIZE / 1024} KiB at ${BAUD} baud: write phase ${seconds.toFixed(3)} s; ` +
      `host->board ${toBoard} B (line time ${wire.toFixed(3)} s), board->host ${fromBoard} B; ` +
      `measured/wire-line-time = ${(seconds / wire).toFixed(3)}, payload/line-rate = ${(lineSeconds(SIZE) / seconds).toFixed(3)}`,
  );
  board.dispose();
}

await pipeAlone();
await flasherWrite(true);
await flasherWrite(false);
