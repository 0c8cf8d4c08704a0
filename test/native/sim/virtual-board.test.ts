import type { FlashOptions } from 'esptool-js';
import { afterEach, describe, expect, it } from 'vitest';
import { OP } from '../../../native/sim/chip-profiles.js';
import { VirtualBoard } from '../../../native/sim/virtual-board.js';
import { esptoolRig, md5Hex, randomData, type EsptoolRig } from './sim-helpers.js';

/**
 * The real esptool-js 0.7.0 (ESPLoader + Transport) against the virtual board through the in-process
 * Web Serial port: what the station's flasher does, end to end.
 */
const MAC = '24:0a:c4:12:34:56';
let board: VirtualBoard;
let rig: EsptoolRig | undefined;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
  board.dispose();
});

function flashOptions(fileArray: FlashOptions['fileArray'], compress: boolean, withMd5 = true): FlashOptions {
  return {
    fileArray,
    flashMode: 'keep',
    flashFreq: 'keep',
    flashSize: 'keep',
    eraseAll: false,
    compress,
    ...(withMd5 ? { calculateMD5Hash: (image: Uint8Array) => md5Hex(image) } : {}),
  };
}

describe('esptool-js loader.main() against the virtual board', () => {
  it('resets into the ROM, detects an ESP32, reads MAC and flash ID, and runs the stub', async () => {
    board = new VirtualBoard({ mac: MAC });
    rig = esptoolRig(board);
    const description = await rig.loader.main();
    expect(description).toBe('ESP32-D0WD-V3 (revision 3)');
    expect(rig.loader.chip.CHIP_NAME).toBe('ESP32');
    const out = rig.terminal.lines.join('\n');
    expect(out).toContain(`MAC: ${MAC}`);
    expect(out).toContain('Features: Wi-Fi, BT, Dual Core, 240MHz');
    expect(out).toContain('Crystal is 40MHz');
    expect(out).toContain('Stub running...');
    expect(out).toContain('Flash ID: 1640c8');
    expect(board.mode).toBe('download');
    expect(board.loader).toBe('stub');
    expect(await rig.loader.detectFlashSize()).toBe('4MB');
  });

  it('works without the stub: detectChip() only, SPI_ATTACH in the 8-byte ROM form, flash ID from the ROM', async () => {
    // esptool-js 0.7.0 has no no-stub option: main() always uploads the stub. Without it, call
    // detectChip() and drive the loader yourself.
    board = new VirtualBoard({ mac: MAC, flashSizeBytes: 8 * 1024 * 1024 });
    rig = esptoolRig(board);
    await rig.loader.detectChip('default_reset');
    expect(rig.loader.chip.CHIP_NAME).toBe('ESP32');
    expect(await rig.loader.chip.readMac(rig.loader)).toBe(MAC);
    expect(board.loader).toBe('rom');
    // Before SPI_ATTACH the ROM has no flash: the JEDEC ID reads all ones.
    expect(await rig.loader.readFlashId()).toBe(0xffffff);
    // esptool-js's flashSpiAttach sends the stub's 4-byte form, which the ESP32 ROM rejects (0x05).
    await expect(rig.loader.flashSpiAttach(0)).rejects.toThrow(/status 1,5/);
    await rig.loader.checkCommand('configure SPI flash pins', OP.SPI_ATTACH, new Uint8Array(8));
    // JEDEC capacity byte 0x17 = 8 MB.
    expect(await rig.loader.readFlashId()).toBe(0x1740c8);
    expect(await rig.loader.detectFlashSize()).toBe('8MB');
  });
});

describe('esptool-js writeFlash against the virtual board', () => {
  const small = randomData(5003); // neither 4-byte nor 4 KB aligned in length
  const large = randomData(300 * 1024);
  const files = () => [
    { data: small, address: 0x9100 }, // not sector-aligned: the sector's first 0x100 bytes are erased too
    { data: large, address: 0x100000 },
  ];

  for (const compress of [true, false]) {
    it(`writes regions through the stub (${compress ? 'compressed' : 'uncompressed'}) and the chip's MD5 matches`, async () => {
      board = new VirtualBoard();
      board.flash.program(0x9000, new Uint8Array(0x100)); // bytes in front of the unaligned region
      rig = esptoolRig(board);
      await rig.loader.main();
      const progress: number[] = [];
      await rig.loader.writeFlash({
        ...flashOptions(files(), compress),
        reportProgress: (_file, written) => progress.push(written),
      });
      expect(Buffer.from(board.readFlash(0x9100, small.length)).equals(Buffer.from(small))).toBe(true);
      expect(Buffer.from(board.readFlash(0x100000, large.length)).equals(Buffer.from(large))).toBe(true);
      // The stub erased the whole 4 KB sector that holds 0x9100, including what was in front of it.
      expect(board.readFlash(0x9000, 0x100).every((b) => b === 0xff)).toBe(true);
      // writeFlash pads to 4 bytes with 0xFF: the byte after the small region stays erased.
      expect(board.readFlash(0x9100 + small.length, 1)[0]).toBe(0xff);
      expect(await rig.loader.flashMd5sum(0x100000, large.length)).toBe(md5Hex(large));
      expect(await rig.loader.flashMd5sum(0x9100, small.length)).toBe(md5Hex(small));
      expect(progress.length).toBeGreaterThan(2);
    });
  }

  it('reads flash back through the stub with acknowledged packets', async () => {
    board = new VirtualBoard();
    const data = randomData(20000);
    board.flash.program(0x200000, data);
    rig = esptoolRig(board);
    await rig.loader.main();
    const read = await rig.loader.readFlash(0x200000, data.length);
    expect(Buffer.from(read).equals(Buffer.from(data))).toBe(true);
  });

  it('writes through the ROM alone when compressed; the ROM answers MD5 in hex ASCII', async () => {
    board = new VirtualBoard();
    rig = esptoolRig(board);
    await rig.loader.detectChip('default_reset');
    await rig.loader.checkCommand('configure SPI flash pins', OP.SPI_ATTACH, new Uint8Array(8));
    const data = randomData(40000);
    await rig.loader.writeFlash(flashOptions([{ data, address: 0x180000 }], true, false));
    expect(Buffer.from(board.readFlash(0x180000, data.length)).equals(Buffer.from(data))).toBe(true);
    // esptool-js hex-encodes the 32 ASCII characters the ROM sends: decode once more to compare.
    const romMd5 = await rig.loader.flashMd5sum(0x180000, data.length);
    expect(romMd5).toHaveLength(64);
    expect(Buffer.from(romMd5, 'hex').toString('latin1')).toBe(md5Hex(data));
    // ...which is why writeFlash's own MD5 check cannot pass against the ROM.
    await expect(rig.loader.writeFlash(flashOptions([{ data, address: 0x180000 }], true))).rejects.toThrow(/MD5/);
    // And the uncompressed path sends the 5-word FLASH_BEGIN the ESP32 ROM refuses.
    await expect(rig.loader.writeFlash(flashOptions([{ data, address: 0x180000 }], false, false))).rejects.toThrow(/status 1,5/);
  });
});

describe('baud rate changes', () => {
  it('switches the stub to 921600 when throttled: esptool-js reopens the port and keeps flashing', async () => {
    board = new VirtualBoard({ throttle: true });
    rig = esptoolRig(board, { baudrate: 921600 });
    await rig.loader.main();
    expect(board.baud).toBe(921600);
    expect(board.hostBaudRate).toBe(921600);
    expect(rig.terminal.lines.join('\n')).not.toMatch(/Continuing at 115200/);
    const data = randomData(24 * 1024);
    const started = performance.now();
    await rig.loader.writeFlash(flashOptions([{ data, address: 0x300000 }], true));
    const seconds = (performance.now() - started) / 1000;
    // Random data does not compress: at 92,160 bytes/s the 24 KB cannot cross faster than ~0.27 s.
    expect(seconds).toBeGreaterThan((24 * 1024) / 92_160);
    expect(Buffer.from(board.readFlash(0x300000, data.length)).equals(Buffer.from(data))).toBe(true);
  });

  it('takes an in-place baud change when the port offers setBaudRate', async () => {
    board = new VirtualBoard();
    rig = esptoolRig(board, { baudrate: 460800, portOptions: { inPlaceBaudChange: true } });
    await rig.loader.main();
    expect(board.baud).toBe(460800);
    expect(rig.port.currentBaudRate).toBe(460800);
  });

  it('garbles traffic when the host stays at the old rate, as a real UART would', async () => {
    board = new VirtualBoard();
    rig = esptoolRig(board);
    await rig.loader.main();
    board.setHostBaud(115200);
    // The chip moves to 921600 but the host does not follow.
    await rig.loader.command(OP.CHANGE_BAUDRATE, new Uint8Array([0x00, 0x10, 0x0e, 0x00, 0x00, 0xc2, 0x01, 0x00]));
    await new Promise((r) => setTimeout(r, 20));
    board.setHostBaud(115200);
    await expect(rig.loader.readReg(0x40001000, 300)).rejects.toThrow();
  });
});
