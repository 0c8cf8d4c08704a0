import { deflateSync } from 'node:zlib';
import { getStubJsonByChipName } from 'esptool-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OP } from '../../../native/sim/chip-profiles.js';
import { SYNC_PAYLOAD } from '../../../native/sim/rom-protocol.js';
import { VirtualBoard } from '../../../native/sim/virtual-board.js';
import { checksumOf, dataPayload, md5Hex, randomData, sleep, Wire, words } from './sim-helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** ESP32 ROM status field: status, error, two reserved bytes. */
const ROM_OK = '00000000';
const romError = (code: number) => `01${code.toString(16).padStart(2, '0')}0000`;

let board: VirtualBoard;
let wire: Wire;

async function intoDownloadMode(): Promise<void> {
  board.pressReset({ holdBoot: true });
  await sleep(5);
  await wire.drain(5);
}

async function uploadStub(): Promise<void> {
  const stub = (await getStubJsonByChipName('ESP32'))!;
  const block = 0x1800;
  for (const [start, bytes] of [
    [stub.text_start, stub.decodedText],
    [stub.data_start, stub.decodedData],
  ] as const) {
    const blocks = Math.ceil(bytes.length / block);
    expect(hex((await wire.command(OP.MEM_BEGIN, words(bytes.length, blocks, block, start))).body)).toBe(ROM_OK);
    for (let seq = 0; seq < blocks; seq++) {
      const part = bytes.subarray(seq * block, (seq + 1) * block);
      expect(hex((await wire.command(OP.MEM_DATA, dataPayload(seq, part), checksumOf(part))).body)).toBe(ROM_OK);
    }
  }
  wire.send(OP.MEM_END, words(0, stub.entry));
  const [memEnd, ohai] = await wire.take(2);
  expect(memEnd![1]).toBe(OP.MEM_END);
  expect(Buffer.from(ohai!).toString('latin1')).toBe('OHAI');
  expect(board.loader).toBe('stub');
}

beforeEach(async () => {
  board = new VirtualBoard({ seed: 7 });
  await board.ready;
  wire = new Wire(board);
  await intoDownloadMode();
});

afterEach(() => {
  wire.close();
  board.dispose();
});

describe('ROM loader (ESP32)', () => {
  it('prints the download-mode banner and answers SYNC eight times with a non-zero value', async () => {
    board.pressReset({ holdBoot: true });
    await sleep(5);
    expect(wire.text.join('')).toMatch(/rst:0x1 \(POWERON_RESET\),boot:0x3 \(DOWNLOAD_BOOT[^\n]*\r\nwaiting for download\r\n/);
    wire.send(OP.SYNC, SYNC_PAYLOAD);
    const replies = (await wire.take(8)).map((f) => hex(f));
    expect(new Set(replies)).toEqual(new Set(['010804000707122000000000']));
    expect(await wire.drain()).toHaveLength(0);
  });

  it('ignores a SYNC whose preamble is wrong', async () => {
    wire.send(OP.SYNC, new Uint8Array(36));
    expect(await wire.drain()).toHaveLength(0);
  });

  it('reads the chip magic and echoes the last value read in later replies, like the real ROM', async () => {
    const magic = await wire.command(OP.READ_REG, words(0x40001000));
    expect(magic.value).toBe(0x00f01d83);
    expect(hex(magic.body)).toBe(ROM_OK);
    const next = await wire.command(OP.SPI_SET_PARAMS, words(0, 0x400000, 0x10000, 0x1000, 0x100, 0xffff));
    expect(next.value).toBe(0x00f01d83);
  });

  it('answers GET_SECURITY_INFO (unknown to the ESP32 ROM) with eight invalid-message replies under another opcode', async () => {
    wire.send(OP.GET_SECURITY_INFO);
    const replies = await wire.take(8);
    for (const frame of replies) {
      expect(frame[1]).not.toBe(OP.GET_SECURITY_INFO);
      expect(hex(frame.subarray(8))).toBe(romError(0x05));
    }
  });

  it('needs an 8-byte SPI_ATTACH before it touches the flash', async () => {
    expect(hex((await wire.command(OP.SPI_ATTACH, words(0))).body)).toBe(romError(0x05));
    expect(hex((await wire.command(OP.FLASH_BEGIN, words(0x1000, 1, 0x1000, 0x200000))).body)).toBe(romError(0x06));
    expect(hex((await wire.command(OP.SPI_ATTACH, words(0, 0))).body)).toBe(ROM_OK);
    expect(hex((await wire.command(OP.FLASH_BEGIN, words(0x1000, 1, 0x1000, 0x200000))).body)).toBe(ROM_OK);
    // esptool-js sends the 5-word form to the ROM; the ESP32 ROM only knows 4 words.
    expect(hex((await wire.command(OP.FLASH_BEGIN, words(0x1000, 1, 0x1000, 0x200000, 0))).body)).toBe(romError(0x05));
  });

  it('checks FLASH_DATA checksum and sequence number with the ROM error codes, then writes', async () => {
    await wire.command(OP.SPI_ATTACH, words(0, 0));
    const block = randomData(0x400);
    expect(hex((await wire.command(OP.FLASH_BEGIN, words(0x800, 2, 0x400, 0x300000))).body)).toBe(ROM_OK);
    // Wrong checksum: error 0x07.
    expect(hex((await wire.command(OP.FLASH_DATA, dataPayload(0, block), checksumOf(block) ^ 0x01)).body)).toBe(romError(0x07));
    // Right checksum, wrong sequence number (1 before 0): rejected.
    expect(hex((await wire.command(OP.FLASH_DATA, dataPayload(1, block), checksumOf(block))).body)).toBe(romError(0x05));
    // Length field disagrees with the payload: rejected.
    const short = dataPayload(0, block);
    short[0] = 0xff;
    expect(hex((await wire.command(OP.FLASH_DATA, short, checksumOf(block))).body)).toBe(romError(0x05));
    expect(hex((await wire.command(OP.FLASH_DATA, dataPayload(0, block), checksumOf(block))).body)).toBe(ROM_OK);
    expect(hex(board.readFlash(0x300000, 0x400))).toBe(hex(block));
  });

  it('reports a flash write error when data lands on bytes that were not erased', async () => {
    await wire.command(OP.SPI_ATTACH, words(0, 0));
    board.flash.program(0x310000, new Uint8Array(16)); // zeros, not erased
    const block = new Uint8Array(16).fill(0x5a);
    await wire.command(OP.FLASH_BEGIN, words(0, 1, 16, 0x310000)); // erase size 0
    expect(hex((await wire.command(OP.FLASH_DATA, dataPayload(0, block), checksumOf(block))).body)).toBe(romError(0x08));
  });

  it('inflates FLASH_DEFL_DATA blocks split at arbitrary points', async () => {
    await wire.command(OP.SPI_ATTACH, words(0, 0));
    const data = Buffer.concat([randomData(5000), Buffer.alloc(20000, 0x41)]);
    const compressed = deflateSync(data, { level: 9 });
    const blockSize = 1000;
    const blocks = Math.ceil(compressed.length / blockSize);
    expect(hex((await wire.command(OP.FLASH_DEFL_BEGIN, words(0x8000, blocks, blockSize, 0x320000))).body)).toBe(ROM_OK);
    for (let seq = 0; seq < blocks; seq++) {
      const part = compressed.subarray(seq * blockSize, (seq + 1) * blockSize);
      expect(hex((await wire.command(OP.FLASH_DEFL_DATA, dataPayload(seq, part), checksumOf(part))).body)).toBe(ROM_OK);
    }
    expect(hex(board.readFlash(0x320000, data.length))).toBe(hex(data));
  });

  it('returns MD5 as 32 hex ASCII characters and READ_FLASH_SLOW as a 64-byte buffer', async () => {
    await wire.command(OP.SPI_ATTACH, words(0, 0));
    const data = randomData(300);
    board.flash.program(0x330000, data);
    const md5 = await wire.command(OP.SPI_FLASH_MD5, words(0x330000, 300, 0, 0));
    expect(Buffer.from(md5.body.subarray(0, 32)).toString('latin1')).toBe(md5Hex(data));
    expect(hex(md5.body.subarray(32))).toBe(ROM_OK);
    const slow = await wire.command(OP.READ_FLASH_SLOW, words(0x330000, 16));
    expect(slow.body.length).toBe(64 + 4);
    expect(hex(slow.body.subarray(0, 16))).toBe(hex(data.subarray(0, 16)));
    expect(hex((await wire.command(OP.READ_FLASH_SLOW, words(0x330000, 65))).body)).toBe(romError(0x0a));
  });

  it('leaves the loader on FLASH_END: "run user code" starts the app, "reboot" resets into download mode again', async () => {
    await wire.command(OP.SPI_ATTACH, words(0, 0));
    await wire.command(OP.FLASH_BEGIN, words(0, 0, 0x400, 0));
    expect(hex((await wire.command(OP.FLASH_END, words(0))).body)).toBe(ROM_OK);
    await sleep(5);
    // GPIO0 was low at the last power-on reset; a software reset keeps that strap.
    expect(wire.text.join('')).toContain('rst:0xc (SW_CPU_RESET),boot:0x3 (DOWNLOAD_BOOT');
    expect(board.mode).toBe('download');
    await wire.command(OP.SPI_ATTACH, words(0, 0));
    await wire.command(OP.FLASH_BEGIN, words(0, 0, 0x400, 0));
    expect(hex((await wire.command(OP.FLASH_END, words(1))).body)).toBe(ROM_OK);
    expect(board.mode).toBe('app');
    expect(board.appState?.kind).toBe('running');
  });

  it('goes quiet after MEM_END jumps into code that is not the flasher stub', async () => {
    const code = randomData(64);
    await wire.command(OP.MEM_BEGIN, words(64, 1, 64, 0x40090000));
    await wire.command(OP.MEM_DATA, dataPayload(0, code), checksumOf(code));
    wire.send(OP.MEM_END, words(0, 0x40090000));
    await wire.take(1);
    expect(board.loader).toBe('hung');
    wire.send(OP.SYNC, SYNC_PAYLOAD);
    expect(await wire.drain()).toHaveLength(0);
  });
});

describe('flasher stub (esp-flasher-stub as shipped by esptool-js)', () => {
  beforeEach(uploadStub);

  it('answers SYNC eight times with value 0 and uses 2 status bytes', async () => {
    wire.send(OP.SYNC, SYNC_PAYLOAD);
    const replies = await wire.take(8);
    // 01 op, size 2, value 0, status 00 00.
    expect(new Set(replies.map((f) => hex(f)))).toEqual(new Set(['01080200000000000000']));
    expect(await wire.drain()).toHaveLength(0);
  });

  it('reports a bad checksum as 0xC1 and an unknown command as 0xC3, once', async () => {
    await wire.command(OP.FLASH_BEGIN, words(0x1000, 1, 0x1000, 0x200000));
    const block = randomData(0x1000);
    expect(hex((await wire.command(OP.FLASH_DATA, dataPayload(0, block), checksumOf(block) ^ 1)).body)).toBe('c100');
    expect(hex((await wire.command(0x55)).body)).toBe('c300');
    expect(await wire.drain()).toHaveLength(0);
  });

  it('acknowledges a data block before writing it, so a write error comes back on the next command', async () => {
    await wire.command(OP.FLASH_DEFL_BEGIN, words(0x1000, 1, 0x1000, 0x200000));
    const notDeflate = Uint8Array.from(Buffer.from('this is not a zlib stream at all'));
    expect(hex((await wire.command(OP.FLASH_DEFL_DATA, dataPayload(0, notDeflate), checksumOf(notDeflate))).body)).toBe('0000');
    // The next command is not executed; its reply carries the inflate error (0xC7).
    const next = await wire.command(OP.READ_REG, words(0x40001000));
    expect(hex(next.body)).toBe('c700');
    expect(next.value).toBe(0);
    expect((await wire.command(OP.READ_REG, words(0x40001000))).value).toBe(0x00f01d83);
  });

  it('returns MD5 as 16 raw bytes and refuses to end a write that is short of its announced size', async () => {
    const data = randomData(0x1800);
    await wire.command(OP.FLASH_BEGIN, words(data.length, 1, 0x4000, 0x210000));
    const padded = new Uint8Array(0x4000).fill(0xff);
    padded.set(data);
    expect(hex((await wire.command(OP.FLASH_DATA, dataPayload(0, padded), checksumOf(padded))).body)).toBe('0000');
    expect(hex((await wire.command(OP.FLASH_END, words(1))).body)).toBe('0000');
    const md5 = await wire.command(OP.SPI_FLASH_MD5, words(0x210000, data.length, 0, 0));
    expect(hex(md5.body.subarray(0, 16))).toBe(md5Hex(data));
    expect(hex(md5.body.subarray(16))).toBe('0000');
    // Only the announced size was written; the padding did not touch the flash after it.
    expect(board.readFlash(0x210000 + data.length, 0x800).every((b) => b === 0xff)).toBe(true);

    await wire.command(OP.FLASH_BEGIN, words(0x2000, 1, 0x4000, 0x220000));
    const half = new Uint8Array(0x1000);
    await wire.command(OP.FLASH_DATA, dataPayload(0, half), checksumOf(half));
    expect(hex((await wire.command(OP.FLASH_END, words(1))).body)).toBe('c000');
  });

  it('streams READ_FLASH in acknowledged packets followed by the MD5', async () => {
    const data = randomData(10000);
    board.flash.program(0x230000, data);
    expect(hex((await wire.command(OP.READ_FLASH, words(0x230000, data.length, 4096, 64))).body)).toBe('0000');
    const received: Uint8Array[] = [];
    let total = 0;
    while (total < data.length) {
      const [packet] = await wire.take(1);
      received.push(packet!);
      total += packet!.length;
      // Only one packet is in flight until the host acknowledges it.
      expect(await wire.drain(10)).toHaveLength(0);
      wire.sendRaw(words(total));
    }
    expect(received.map((p) => p.length)).toEqual([4096, 4096, 1808]);
    expect(hex(Buffer.concat(received))).toBe(hex(data));
    const [digest] = await wire.take(1);
    expect(hex(digest!)).toBe(md5Hex(data));
  });

  it('erases regions only on sector boundaries', async () => {
    expect(hex((await wire.command(OP.ERASE_REGION, words(0x240100, 0x1000))).body)).toBe('c000');
    board.flash.program(0x240000, new Uint8Array(0x2000));
    expect(hex((await wire.command(OP.ERASE_REGION, words(0x240000, 0x1000))).body)).toBe('0000');
    expect(board.readFlash(0x240000, 0x1000).every((b) => b === 0xff)).toBe(true);
    expect(board.readFlash(0x241000, 0x1000).every((b) => b === 0)).toBe(true);
  });
});
