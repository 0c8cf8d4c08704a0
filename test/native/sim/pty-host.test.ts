import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { OP } from '../../../native/sim/chip-profiles.js';
import { hostBoardOnPty, type PtyHost } from '../../../native/sim/pty-host.js';
import { SYNC_PAYLOAD } from '../../../native/sim/rom-protocol.js';
import { SlipDecoder, slipEncode } from '../../../native/sim/slip.js';
import { VirtualBoard } from '../../../native/sim/virtual-board.js';
import { packet, sleep } from './sim-helpers.js';

let board: VirtualBoard;
let host: PtyHost | undefined;

afterEach(async () => {
  await host?.close();
  host = undefined;
  board.dispose();
});

function openPort(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 115200 }, (err) => (err ? reject(err) : resolve(port)));
  });
}

describe('virtual board on a pseudo-terminal', () => {
  it('answers a SLIP SYNC sent through the real serialport package', async () => {
    board = new VirtualBoard();
    host = await hostBoardOnPty(board);
    expect(host.path).toMatch(/^\/dev\/pts\/\d+$/);
    const port = await openPort(host.path);
    const decoder = new SlipDecoder();
    const frames: Uint8Array[] = [];
    let text = '';
    port.on('data', (chunk: Buffer) => {
      for (const event of decoder.push(chunk)) {
        if (event.kind === 'frame') frames.push(event.payload);
        if (event.kind === 'noise') text += Buffer.from(event.bytes).toString('latin1');
      }
    });
    // The helper reports the rate serialport set on the slave; wait until the board knows it.
    for (let i = 0; i < 500 && board.hostBaudRate !== 115200; i++) await sleep(2);
    expect(board.hostBaudRate).toBe(115200);
    // esptool's classic reset through the side channel (a pty has no modem lines).
    host.setLines({ dtr: false, rts: true });
    await sleep(5);
    host.setLines({ dtr: true, rts: false });
    await sleep(5);
    host.setLines({ dtr: false, rts: false });
    expect(board.mode).toBe('download');
    port.write(Buffer.from(slipEncode(packet(OP.SYNC, SYNC_PAYLOAD))));
    for (let i = 0; i < 500 && frames.length < 8; i++) await sleep(2);
    await new Promise<void>((resolve) => port.close(() => resolve()));
    expect(text).toContain('waiting for download');
    expect(frames).toHaveLength(8);
    for (const frame of frames) expect(Buffer.from(frame).toString('hex')).toBe('010804000707122000000000');
  });

  it('shuts its helper down on close, leaving no process behind', async () => {
    board = new VirtualBoard();
    host = await hostBoardOnPty(board);
    const pid = host.pid!;
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    await host.close();
    host = undefined;
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});
