import { getStubJsonByChipName } from 'esptool-js';
import { afterEach, describe, expect, it } from 'vitest';
import { OP } from '../../../native/sim/chip-profiles.js';
import { createInProcessPort } from '../../../native/sim/in-process-port.js';
import { romEraseBytes, SYNC_PAYLOAD } from '../../../native/sim/rom-protocol.js';
import { UsbJtagLines } from '../../../native/sim/usb-jtag-lines.js';
import { USB_REENUMERATE_MS, VirtualBoard } from '../../../native/sim/virtual-board.js';
import { checksumOf, dataPayload, lineCollector, randomData, sleep, Wire, words } from './sim-helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const CHIP_DETECT_MAGIC_REG = 0x40001000;

let board: VirtualBoard;
let wire: Wire | undefined;

afterEach(() => {
  wire?.close();
  wire = undefined;
  board.dispose();
});

async function downloadWire(b: VirtualBoard): Promise<Wire> {
  const w = new Wire(b);
  b.pressReset({ holdBoot: true });
  await w.drain(5);
  return w;
}

/** esptool's ESP8266ROM.get_erase_size (the host side of the ROM's erase bug). */
function esptoolEsp8266EraseSize(offset: number, size: number): number {
  const sectorsPerBlock = 16;
  const sectorSize = 0x1000;
  const numSectors = Math.floor((size + sectorSize - 1) / sectorSize);
  const startSector = Math.floor(offset / sectorSize);
  let headSectors = sectorsPerBlock - (startSector % sectorsPerBlock);
  if (numSectors < headSectors) headSectors = numSectors;
  if (numSectors < 2 * headSectors) return Math.floor((numSectors + 1) / 2) * sectorSize;
  return (numSectors - headSectors) * sectorSize;
}

describe('GET_SECURITY_INFO: how a host tells the families apart', () => {
  it.each([
    ['ESP32-S3', 9],
    ['ESP32-C3', 5],
  ] as const)('the %s ROM answers with 20 bytes carrying chip id %i and 4 status bytes', async (chip, chipId) => {
    board = new VirtualBoard({ chip });
    wire = await downloadWire(board);
    const reply = await wire.command(OP.GET_SECURITY_INFO);
    expect(reply.op).toBe(OP.GET_SECURITY_INFO);
    expect(reply.body).toHaveLength(24);
    const view = new DataView(reply.body.buffer, reply.body.byteOffset);
    expect(view.getUint32(0, true)).toBe(0); // no secure boot, no secure download mode
    expect(view.getUint32(12, true)).toBe(chipId);
    expect(hex(reply.body.subarray(20))).toBe('00000000');
  });

  it.each([
    ['ESP32', '01050000', 0x00f01d83],
    ['ESP8266', '0105', 0xfff0c101],
  ] as const)('the %s ROM does not know it (invalid-command reply, 8 times) and has its magic word', async (chip, status, magic) => {
    board = new VirtualBoard({ chip });
    wire = await downloadWire(board);
    wire.send(OP.GET_SECURITY_INFO);
    const replies = await wire.take(8);
    for (const frame of replies) {
      expect(frame[1]).not.toBe(OP.GET_SECURITY_INFO);
      expect(hex(frame.subarray(8))).toBe(status);
    }
    expect((await wire.command(OP.READ_REG, words(CHIP_DETECT_MAGIC_REG))).value).toBe(magic);
  });
});

describe('ESP32 ROM CHANGE_BAUDRATE', () => {
  it("runs off by its RC calibration error unless the host compensates as esptool's change_baud does", async () => {
    board = new VirtualBoard();
    wire = await downloadWire(board);
    wire.send(OP.SYNC, SYNC_PAYLOAD);
    await wire.take(8);
    // esptool get_rom_cal_crystal_freq: RTCCALICFG1 >> 7 (25 bits) × 15625 × eFuse CK8M_FREQ / 40.
    const cali = ((await wire.command(OP.READ_REG, words(0x3ff5f06c))).value >>> 7) & 0x1ffffff;
    const ck8m = (await wire.command(OP.READ_REG, words(0x3ff5a000 + 4 * 4))).value & 0xff;
    const romXtal = (cali * 15625 * ck8m) / 40;
    expect(romXtal).toBeGreaterThan(40_000_000);
    const falseBaud = Math.floor((460_800 * romXtal) / 40_000_000);
    await wire.command(OP.CHANGE_BAUDRATE, words(falseBaud, 0));
    await sleep(5);
    expect(board.baud).toBe(460_800);
    // A host that sends the plain rate gets a line about 1 % slow (still inside the 3 % an 8N1
    // receiver tolerates); 0 is refused.
    board.setHostBaud(460_800);
    await wire.command(OP.CHANGE_BAUDRATE, words(460_800, 0));
    await sleep(5);
    expect(board.baud).toBe(Math.round((460_800 * 40_000_000) / romXtal));
    expect(hex((await wire.command(OP.CHANGE_BAUDRATE, words(0, 0))).body)).toBe('01050000');
  });
});

describe('ESP8266 ROM quirks', () => {
  it('prints its boot message at 74880 baud: garbage to a host at 115200, readable at 74880', async () => {
    board = new VirtualBoard({ chip: 'ESP8266', powered: false, seed: 5 });
    board.setHostBaud(115200);
    const garbled = lineCollector(board);
    board.powerOn();
    await sleep(10);
    garbled.close();
    expect(garbled.lines.join('\n')).not.toContain('ets Jan  8 2013');

    board.setHostBaud(74880);
    const clear = lineCollector(board);
    board.pressReset({ holdBoot: true });
    await clear.waitFor((l) => l.includes('ets Jan  8 2013,rst cause:2, boot mode:(1,7)'));
    clear.close();
  });

  it('answers with 2 status bytes and attaches the flash only on FLASH_BEGIN (it has no SPI_ATTACH)', async () => {
    board = new VirtualBoard({ chip: 'ESP8266' });
    wire = await downloadWire(board);
    const reg = await wire.command(OP.READ_REG, words(CHIP_DETECT_MAGIC_REG));
    expect(hex(reg.body)).toBe('0000');
    wire.send(OP.SPI_ATTACH, words(0, 0));
    expect((await wire.take(8)).every((f) => hex(f.subarray(8)) === '0105')).toBe(true);
    wire.send(OP.SPI_FLASH_MD5, words(0, 16, 0, 0));
    expect((await wire.take(8)).every((f) => hex(f.subarray(8)) === '0105')).toBe(true);
    expect(hex((await wire.command(OP.FLASH_BEGIN, words(0, 0, 0x400, 0))).body)).toBe('0000');
  });

  it('erases the head of a 64 KB block twice over; esptool\'s get_erase_size makes up for it exactly', async () => {
    board = new VirtualBoard({ chip: 'ESP8266' });
    wire = await downloadWire(board);
    // Mark every sector from 0x30000 to 0x50000 so an erase shows where it reached.
    board.flash.load(0x30000, new Uint8Array(0x20000).fill(0x00));
    const offset = 0x3a000; // sector 58: 6 sectors to the next 64 KB block
    const size = 0xc000; // 12 sectors wanted: 0x3a000..0x46000
    const compensated = esptoolEsp8266EraseSize(offset, size);
    expect(compensated).toBe(0x6000);
    expect(romEraseBytes(true, offset, compensated)).toBe(size);
    expect(hex((await wire.command(OP.FLASH_BEGIN, words(compensated, 12, 0x1000, offset))).body)).toBe('0000');
    expect(board.readFlash(offset, size).every((b) => b === 0xff)).toBe(true);
    expect(board.readFlash(offset + size, 0x1000).every((b) => b === 0x00)).toBe(true);
    expect(board.readFlash(offset - 0x1000, 0x1000).every((b) => b === 0x00)).toBe(true);
    // An odd count under twice the head cannot be met exactly: esptool asks for ceil(N / 2), the
    // ROM erases twice that, one sector more than needed.
    expect(romEraseBytes(true, offset, esptoolEsp8266EraseSize(offset, 0x9000))).toBe(0xa000);

    // A host that sends the plain size loses the sectors after the region.
    board.flash.load(0x30000, new Uint8Array(0x20000).fill(0x00));
    await wire.command(OP.FLASH_BEGIN, words(size, 12, 0x1000, offset));
    expect(board.readFlash(offset + size, 0x6000).every((b) => b === 0xff)).toBe(true);
    expect(board.readFlash(offset + size + 0x6000, 0x1000).every((b) => b === 0x00)).toBe(true);
  });
});

describe('USB-Serial/JTAG (ESP32-S3, ESP32-C3)', () => {
  it("follows esptool's USB-JTAG reset into download mode and its hard reset into the app; open/close does nothing", () => {
    const lines = new UsbJtagLines();
    // Linux raises both lines on open, drops both on close: no action.
    expect(lines.set({ dtr: true, rts: true })).toBeUndefined();
    expect(lines.set({ dtr: false, rts: false })).toBeUndefined();
    // USBJTAGSerialReset: (0,0) → DTR (1,0) → RTS (1,1) → DTR off (0,1) → RTS off (0,0).
    expect(lines.set({ dtr: true })).toBeUndefined();
    expect(lines.set({ rts: true })).toBeUndefined();
    expect(lines.set({ dtr: false })).toEqual({ kind: 'reset-asserted' });
    expect(lines.set({ rts: false })).toEqual({ kind: 'reset-released', download: true });
    // HardReset: RTS pulse alone boots from flash (the release used up the download request).
    expect(lines.set({ rts: true })).toEqual({ kind: 'reset-asserted' });
    expect(lines.set({ rts: false })).toEqual({ kind: 'reset-released', download: false });
  });

  it('reports VID 0x303A PID 0x1001 and prints USB_UART_CHIP_RESET after a reset through the port', async () => {
    board = new VirtualBoard({ chip: 'ESP32-C3', connection: 'usb-serial-jtag' });
    const port = createInProcessPort(board);
    expect(port.getInfo()).toEqual({ usbVendorId: 0x303a, usbProductId: 0x1001 });
    const console = lineCollector(board);
    await port.open({ baudRate: 115200 });
    for (const signals of [{ requestToSend: false }, { dataTerminalReady: true }, { requestToSend: true }, { dataTerminalReady: false }, { requestToSend: false }]) {
      await port.setSignals(signals);
    }
    await console.waitFor((l) => l.includes('rst:0x15 (USB_UART_CHIP_RESET),boot:0x4 (DOWNLOAD(USB/UART0/1))'));
    await console.waitFor((l) => l === 'waiting for download');
    console.close();
    expect(board.mode).toBe('download');
    await port.close();
  });

  it('with reenumerateOnReset, a reset drops the port (NetworkError) and the device comes back after a while', async () => {
    board = new VirtualBoard({ chip: 'ESP32-S3', connection: 'usb-serial-jtag', reenumerateOnReset: true });
    const port = createInProcessPort(board);
    await port.open({ baudRate: 115200 });
    const reader = port.readable!.getReader();
    const drained = (async () => {
      for (;;) if ((await reader.read()).done) return;
    })();
    const events: string[] = [];
    board.on('usb-detach', () => events.push('detach'));
    board.on('usb-attach', () => events.push('attach'));
    // Open raised DTR and RTS; dropping DTR holds the chip in reset, dropping RTS restarts it.
    await port.setSignals({ dataTerminalReady: false });
    expect(board.isReachable).toBe(true);
    const started = Date.now();
    await port.setSignals({ requestToSend: false });
    await expect(drained).rejects.toMatchObject({ name: 'NetworkError' });
    expect(board.isReachable).toBe(false);
    await expect(port.setSignals({ requestToSend: false })).rejects.toMatchObject({ name: 'NetworkError' });
    while (!board.isReachable) await sleep(10);
    expect(Date.now() - started).toBeGreaterThanOrEqual(USB_REENUMERATE_MS - 20);
    expect(events).toEqual(['detach', 'attach']);
    // The chip booted its app meanwhile; a new port (what the host gets after re-enumeration) works.
    expect(board.mode).toBe('app');
    const again = createInProcessPort(board);
    await again.open({ baudRate: 115200 });
    expect(again.connected).toBe(true);
    await again.close();
  });
});

describe('for clients that cannot reset the board (flashline sim)', () => {
  it('strapDownload: powers up in the ROM loader, ready for SYNC', async () => {
    board = new VirtualBoard({ strapDownload: true });
    expect(board.mode).toBe('download');
    wire = new Wire(board);
    wire.send(OP.SYNC, SYNC_PAYLOAD);
    const replies = await wire.take(8);
    expect(replies.every((f) => hex(f) === '010804000707122000000000')).toBe(true);
  });

  it('syncResetsToRom: a SYNC sent to the running app, or to the stub at another baud rate, gets the ROM back', async () => {
    board = new VirtualBoard({ syncResetsToRom: true, seed: 1 });
    board.setHostBaud(115200);
    expect(board.mode).toBe('app');
    wire = new Wire(board);
    const resets: number[] = [];
    board.on('sync-reset', () => resets.push(Date.now()));
    wire.send(OP.SYNC, SYNC_PAYLOAD);
    expect((await wire.take(8)).every((f) => hex(f) === '010804000707122000000000')).toBe(true);
    expect(board.loader).toBe('rom');
    expect(resets).toHaveLength(1);
    // A second SYNC is the ROM's business: no reset.
    wire.send(OP.SYNC, SYNC_PAYLOAD);
    await wire.take(8);
    expect(resets).toHaveLength(1);

    // Load esptool-js's stub, move it to 921600 and walk away, like a client that exits.
    const stub = (await getStubJsonByChipName('ESP32'))!;
    for (const [start, bytes] of [
      [stub.text_start, stub.decodedText],
      [stub.data_start, stub.decodedData],
    ] as const) {
      await wire.command(OP.MEM_BEGIN, words(bytes.length, 1, bytes.length, start));
      await wire.command(OP.MEM_DATA, dataPayload(0, bytes), checksumOf(bytes));
    }
    wire.send(OP.MEM_END, words(0, stub.entry));
    await wire.take(2);
    expect(board.loader).toBe('stub');
    await wire.command(OP.CHANGE_BAUDRATE, words(921600, 115200));
    await sleep(5);
    expect(board.baud).toBe(921600);
    // A new client at 115200: its SYNC brings the ROM back at 115200.
    wire.send(OP.SYNC, SYNC_PAYLOAD);
    const replies = await wire.take(8);
    expect(replies.every((f) => new DataView(f.buffer, f.byteOffset).getUint32(4, true) === 0x20120707)).toBe(true);
    expect(board.loader).toBe('rom');
    expect(board.baud).toBe(115200);
    expect(resets).toHaveLength(2);
  });

  it("stubPolicy 'any' runs a complete image as the stub; 'known' and incomplete images still hang", async () => {
    const text = randomData(0x800);
    const data = randomData(0x100);
    const upload = async (w: Wire, textBytes: number) => {
      await w.command(OP.MEM_BEGIN, words(0x800, 1, 0x800, 0x40090000));
      const part = text.subarray(0, textBytes);
      await w.command(OP.MEM_DATA, dataPayload(0, part), checksumOf(part));
      await w.command(OP.MEM_BEGIN, words(0x100, 1, 0x100, 0x3ffe0000));
      await w.command(OP.MEM_DATA, dataPayload(0, data), checksumOf(data));
      w.send(OP.MEM_END, words(0, 0x40090010));
    };
    for (const [policy, textBytes, expected] of [
      ['any', 0x800, 'stub'],
      ['any', 0x400, 'hung'],
      ['known', 0x800, 'hung'],
    ] as const) {
      const b = new VirtualBoard({ stubPolicy: policy });
      const unknown: number[] = [];
      b.on('unknown-stub', (entry) => unknown.push(entry));
      const w = await downloadWire(b);
      await upload(w, textBytes);
      await w.drain(10);
      expect(b.loader).toBe(expected);
      expect(unknown).toEqual(expected === 'stub' ? [0x40090010] : []);
      w.close();
      b.dispose();
    }
    board = new VirtualBoard({ powered: false });
  });
});
