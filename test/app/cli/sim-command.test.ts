import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../app/cli/main.js';
import { SimUsageError, simBoardOptions, startSim, type RunningSim } from '../../../app/cli/sim-command.js';
import { OP } from '../../../native/sim/chip-profiles.js';
import { SYNC_PAYLOAD } from '../../../native/sim/rom-protocol.js';
import { SlipDecoder, slipEncode } from '../../../native/sim/slip.js';
import { packet, sleep, words } from '../../native/sim/sim-helpers.js';

let sim: RunningSim | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('flashline sim options', () => {
  it('turns the command line into a board waiting in its bootloader for clients that cannot reset it', () => {
    const options = simBoardOptions([
      '--chip', 'esp32s3', '--flash-size', '8MB', '--mac', '7C:DF:A1:00:00:01', '--throttle',
      '--firmware-version', '2.1.0', '--fault', 'corrupt-block=3:flash:times=2', '--fault', 'garbage=0.25:4', '--fault', 'silent',
    ]);
    expect(options).toMatchObject({
      chip: 'ESP32-S3',
      flashSizeBytes: 8 << 20,
      mac: '7c:df:a1:00:00:01',
      throttle: true,
      firmwareVersion: '2.1.0',
      strapDownload: true,
      syncResetsToRom: true,
      stubPolicy: 'any',
      faults: { corruptBlock: { seq: 3, point: 'flash', times: 2 }, garbage: { probability: 0.25, maxBytes: 4 }, silent: true },
    });
    expect(simBoardOptions(['--known-stub-only', '--fault', 'drop-every=9', '--fault', 'unplug-after=4096', '--fault', 'brownout-after=100'])).toMatchObject({
      chip: 'ESP32',
      flashSizeBytes: 4 << 20,
      stubPolicy: 'known',
      faults: { dropEveryNthByte: 9, unplugAfterBytes: 4096, brownOutAfterBytes: 100 },
    });
  });

  it('refuses what it cannot simulate, saying which option is wrong', async () => {
    for (const [args, message] of [
      [['--chip', 'esp32c6'], /--chip esp32c6: not one of/],
      [['--flash-size', '3MB'], /--flash-size 3MB/],
      [['--mac', '12:34'], /--mac/],
      [['--fault', 'drop-every=1'], /drop-every=N with N >= 2/],
      [['--fault', 'corrupt-block=x'], /corrupt-block=SEQ/],
      [['--fault', 'melt'], /unknown fault/],
      [['--fault', 'garbage=2'], /garbage=P/],
    ] as const) {
      expect(() => simBoardOptions([...args]), args.join(' ')).toThrow(SimUsageError);
      expect(() => simBoardOptions([...args])).toThrow(message);
    }
    const err: string[] = [];
    expect(await main(['sim', '--fault', 'melt'], { out: () => undefined, err: (t) => err.push(t) })).toBe(2);
    expect(err.join('')).toContain('Usage: flashline sim');
  });
});

describe('flashline sim on a pseudo-terminal', () => {
  it('prints the terminal path first; the board answers SYNC from the ROM at once, and again after it ran its app', async () => {
    const out: string[] = [];
    sim = await startSim(simBoardOptions(['--mac', '24:0a:c4:aa:bb:cc']), { out: (t) => out.push(t), err: () => undefined });
    expect(out[0]).toBe(`${sim.pty.path}\n`);
    expect(out[1]).toContain('virtual ESP32 (MAC 24:0a:c4:aa:bb:cc, 4 MB flash) waiting in its ROM bootloader');
    expect(sim.board.mode).toBe('download');

    const port = await new Promise<SerialPort>((resolve, reject) => {
      const p = new SerialPort({ path: sim!.pty.path, baudRate: 115200 }, (e) => (e ? reject(e) : resolve(p)));
    });
    const decoder = new SlipDecoder();
    const frames: Uint8Array[] = [];
    port.on('data', (chunk: Buffer) => frames.push(...decoder.pushFrames(chunk)));
    const take = async (count: number) => {
      for (let i = 0; i < 500 && frames.length < count; i++) await sleep(2);
      return frames.splice(0, count);
    };
    const send = (op: number, data: Uint8Array) => port.write(Buffer.from(slipEncode(packet(op, data))));
    // No reset is possible over a pty: the board is in its ROM loader from the start.
    send(OP.SYNC, SYNC_PAYLOAD);
    expect((await take(8)).map((f) => Buffer.from(f).toString('hex'))).toEqual(new Array(8).fill('010804000707122000000000'));
    // "Run user code" (what esptool's `run` does without the stub) starts the app …
    send(OP.SPI_ATTACH, words(0, 0));
    send(OP.FLASH_BEGIN, words(0, 0, 0x400, 0));
    send(OP.FLASH_END, words(1));
    await take(3);
    for (let i = 0; i < 200 && sim.board.mode !== 'app'; i++) await sleep(2);
    expect(sim.board.mode).toBe('app');
    // … and the next client's SYNC finds the ROM again, as if esptool had reset the board.
    send(OP.SYNC, SYNC_PAYLOAD);
    expect(await take(8)).toHaveLength(8);
    expect(sim.board.loader).toBe('rom');
    await new Promise<void>((resolve) => port.close(() => resolve()));
    expect(out.join('')).toContain('SYNC received: restarted the ROM loader');
  });
});
