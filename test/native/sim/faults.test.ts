import { afterEach, describe, expect, it } from 'vitest';
import { OP } from '../../../native/sim/chip-profiles.js';
import { createInProcessPort } from '../../../native/sim/in-process-port.js';
import { SYNC_PAYLOAD } from '../../../native/sim/rom-protocol.js';
import { VirtualBoard } from '../../../native/sim/virtual-board.js';
import { esptoolRig, lineCollector, md5Hex, randomData, sleep, Wire, words, type EsptoolRig } from './sim-helpers.js';

let board: VirtualBoard;
let rig: EsptoolRig | undefined;
let wire: Wire | undefined;

afterEach(async () => {
  wire?.close();
  wire = undefined;
  await rig?.close();
  rig = undefined;
  board.dispose();
});

const write = (data: Uint8Array, address: number) => ({
  fileArray: [{ data, address }],
  flashMode: 'keep' as const,
  flashFreq: 'keep' as const,
  flashSize: 'keep' as const,
  eraseAll: false,
  compress: true,
  calculateMD5Hash: md5Hex,
});

async function downloadWire(): Promise<Wire> {
  const w = new Wire(board);
  board.pressReset({ holdBoot: true });
  await w.drain(5);
  return w;
}

describe('fault injection', () => {
  it('corrupt block on the wire: the checksum catches it and esptool-js retries the block', async () => {
    board = new VirtualBoard();
    rig = esptoolRig(board);
    await rig.loader.main();
    board.setFaults({ corruptBlock: { seq: 1, point: 'wire' } });
    const data = randomData(40 * 1024);
    await rig.loader.writeFlash(write(data, 0x200000));
    expect(board.faultStats.corruptedBlocks).toBe(1);
    expect(Buffer.from(board.readFlash(0x200000, data.length)).equals(Buffer.from(data))).toBe(true);
  });

  it('corrupt block in flash: only the MD5 read-back notices', async () => {
    board = new VirtualBoard();
    rig = esptoolRig(board);
    await rig.loader.main();
    board.setFaults({ corruptBlock: { seq: 0, point: 'flash' } });
    const data = randomData(20 * 1024);
    await expect(rig.loader.writeFlash(write(data, 0x200000))).rejects.toThrow(/MD5 of file does not match/);
    expect(board.faultStats.corruptedBlocks).toBe(1);
  });

  it('drops every Nth byte the host sends: a frame loses a byte and the ROM rejects it', async () => {
    board = new VirtualBoard();
    wire = await downloadWire();
    board.setFaults({ dropEveryNthByte: 10 });
    const reply = await wire.command(OP.READ_REG, words(0x40001000));
    expect(Buffer.from(reply.body).toString('hex')).toBe('01050000');
    expect(board.faultStats.droppedBytes).toBe(1);
  });

  it('a silent board hears but never answers', async () => {
    board = new VirtualBoard({ faults: { silent: true } });
    wire = await downloadWire();
    wire.send(OP.SYNC, SYNC_PAYLOAD);
    expect(await wire.drain(30)).toHaveLength(0);
    board.setFaults({});
    wire.send(OP.SYNC, SYNC_PAYLOAD);
    expect(await wire.take(8)).toHaveLength(8);
  });

  it('garbage on the board TX arrives around the frames', async () => {
    board = new VirtualBoard({ seed: 3 });
    wire = await downloadWire();
    let raw = 0;
    board.onData((bytes) => {
      raw += bytes.length;
    });
    board.setFaults({ garbage: { probability: 1, maxBytes: 6 } });
    wire.send(OP.READ_REG, words(0x40001000));
    await sleep(10);
    // A ROM READ_REG reply is 14 bytes on the wire: 8 header + 4 status + two ENDs, nothing escaped.
    expect(board.faultStats.garbageBytes).toBeGreaterThan(0);
    expect(raw).toBe(14 + board.faultStats.garbageBytes);
  });

  it('unplug after N bytes: the port fails with NetworkError and the board is off', async () => {
    board = new VirtualBoard();
    const port = createInProcessPort(board);
    await port.open({ baudRate: 115200 });
    board.setFaults({ unplugAfterBytes: 100 });
    const reader = port.readable!.getReader();
    const pending = reader.read().then(async function drain(r): Promise<unknown> {
      return r.done ? r : reader.read().then(drain);
    });
    const writer = port.writable!.getWriter();
    await writer.write(new Uint8Array(60));
    expect(board.mode).toBe('app');
    await writer.write(new Uint8Array(60)).catch(() => undefined);
    await expect(pending).rejects.toMatchObject({ name: 'NetworkError' });
    expect(board.mode).toBe('off');
    expect(board.isPlugged).toBe(false);
  });

  it('brown-out after N bytes: the chip resets and boots from flash again', async () => {
    board = new VirtualBoard();
    const console = lineCollector(board);
    board.setFaults({ brownOutAfterBytes: 5 });
    board.write(Buffer.from('devinfo\n'));
    await console.waitFor((l) => l.includes('rst:0xf (RTCWDT_BROWN_OUT_RESET)'));
    await console.waitFor((l) => l.includes('Console ready'));
    console.close();
    expect(console.lines).toContain('Brownout detector was triggered');
    expect(board.mode).toBe('app');
  });
});
