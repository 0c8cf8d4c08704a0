import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import type { SelfTestResult } from '../../../common/self-test-protocol.js';
import { buildEdgentNvsImage } from '../../../core/payload/edgent-payload.js';
import { flashBoard, type FlashJob, type FlashOutcome } from '../../../native/flash/esptool-flasher.js';
import type { WebSerialPortLike } from '../../../native/serial/web-serial-port.js';
import { runSelfTest } from '../../../native/selftest/self-test-runner.js';
import { createInProcessPort } from '../../../native/sim/in-process-port.js';
import { VirtualBoard, type BoardFaults } from '../../../native/sim/virtual-board.js';

/**
 * Every fault the virtual board can inject, against the production flasher (`flashBoard`) and the
 * self-test runner, as the station would meet it: a clear StationError (or a failed self-test with
 * a reason), within a bounded time, and never a pass for a board that does not hold its token.
 */
const TOKEN = 'Fault0Token0abcdefghijklmnopqrst';
const NVS = { address: 0x9000, size: 0x6000 };
/** A data region outside every partition the app uses, to give a fault time to hit mid-write. */
const BULK_ADDRESS = 0x200000;
/** Deadlines the tests hand the flasher and the self-test, and the slack allowed on top. */
const CONNECT_DEADLINE_MS = 1_500;
const SELFTEST_DEADLINE_MS = 1_500;
const SLACK_MS = 1_000;
/**
 * The flasher's deadline for writing `bytes` (native/flash/board-session.ts: line time at the
 * session's baud rate, twice over, plus 15 s for erase and MD5). esptool-js itself gives a dead
 * link three attempts of its 3 s command timeout per block, so a failed write usually ends sooner.
 */
function writeDeadlineMs(bytes: number, baud = 115_200): number {
  return Math.ceil(((bytes * 10) / baud) * 2000) + 15_000 + SLACK_MS;
}

const nvsImage = buildEdgentNvsImage({ auth: TOKEN, host: 'blynk.cloud' }, NVS.size);
const tokenOffset = Buffer.from(nvsImage).indexOf(Buffer.from(TOKEN, 'latin1'));

let board: VirtualBoard;

afterEach(() => board.dispose());

const portOf = (b: VirtualBoard) => createInProcessPort(b, { inPlaceBaudChange: true }) as unknown as WebSerialPortLike;

interface Timed<T> {
  value?: T;
  error?: unknown;
  ms: number;
}

async function timed<T>(work: () => Promise<T>): Promise<Timed<T>> {
  const started = Date.now();
  try {
    return { value: await work(), ms: Date.now() - started };
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
}

function flash(regions: FlashJob['regions'], extra: Partial<FlashJob> = {}): Promise<Timed<FlashOutcome>> {
  return timed(() => flashBoard({ port: portOf(board), regions, baudRate: 115_200, maxRetries: 0, connectTimeoutMs: CONNECT_DEADLINE_MS, ...extra }));
}

function selfTest(): Promise<Timed<SelfTestResult>> {
  return timed(() => runSelfTest({ port: portOf(board), expectedToken: TOKEN, timeoutMs: SELFTEST_DEADLINE_MS }));
}

/** Switch `faults` on once the flasher starts writing (after connect, stub and flash ID). */
function armWhenWriting(faults: BoardFaults): Pick<FlashJob, 'onProgress'> {
  let armed = false;
  return {
    onProgress: (p) => {
      if (p.phase === 'writing' && !armed) {
        armed = true;
        board.setFaults(faults);
      }
    },
  };
}

function expectStationError(result: Timed<unknown>, code: string, message: RegExp): void {
  expect(result.value).toBeUndefined();
  expect(result.error).toBeInstanceOf(StationError);
  expect((result.error as StationError).code).toBe(code);
  expect((result.error as StationError).message).toMatch(message);
}

const nvsRegion = { name: 'nvs', address: NVS.address, data: nvsImage };
const bulkRegion = () => ({ name: 'bulk', address: BULK_ADDRESS, data: new Uint8Array(randomBytes(48 * 1024)) });

async function freshBoard(faults?: BoardFaults): Promise<void> {
  board = new VirtualBoard({ seed: 11, ...(faults ? { faults } : {}) });
  await board.ready;
}

describe('faults against flashBoard and runSelfTest', () => {
  it('dropped bytes mid-write: FLASH_WRITE_FAILED, and the board then holds no token', async () => {
    await freshBoard();
    const regions = [bulkRegion(), nvsRegion];
    const result = await flash(regions, armWhenWriting({ dropEveryNthByte: 200 }));
    expectStationError(result, 'FLASH_WRITE_FAILED', /Writing to the board failed/);
    expect(result.ms).toBeLessThan(CONNECT_DEADLINE_MS + writeDeadlineMs(regions[0]!.data.length + NVS.size));
    expect(board.faultStats.droppedBytes).toBeGreaterThan(0);

    board.setFaults({});
    board.pressReset();
    const test = await selfTest();
    expect(test.value?.ok).toBe(false);
    expect(test.value?.reason).toMatch(/holds no token/);
  });

  it('dropped bytes on the console: the self-test fails with a reason, within its deadline', async () => {
    await freshBoard();
    expect((await flash([nvsRegion])).error).toBeUndefined();
    board.setFaults({ dropEveryNthByte: 5 });
    const test = await selfTest();
    expect(test.value?.ok).toBe(false);
    expect(test.value?.reason).toMatch(/self-test/);
    expect(test.ms).toBeLessThan(SELFTEST_DEADLINE_MS + SLACK_MS);
  });

  it('a block corrupted on the wire: the checksum catches it, esptool-js resends, flash and self-test pass', async () => {
    await freshBoard({ corruptBlock: { seq: 0, point: 'wire' } });
    const result = await flash([nvsRegion]);
    expect(result.error).toBeUndefined();
    expect(board.faultStats.corruptedBlocks).toBe(1);
    expect(Buffer.from(board.readFlash(NVS.address, NVS.size)).equals(Buffer.from(nvsImage))).toBe(true);
    const test = await selfTest();
    expect(test.value).toMatchObject({ ok: true });
  });

  it('a block corrupted in flash: FLASH_VERIFY_MISMATCH, never a pass; the self-test of that board fails', async () => {
    expect(tokenOffset).toBeGreaterThan(0);
    // Flip a byte of the token itself as it lands in flash: only the chip's MD5 can notice.
    await freshBoard({ corruptBlock: { seq: 0, point: 'flash', byteOffset: tokenOffset, times: 99 } });
    const result = await flash([nvsRegion]);
    expectStationError(result, 'FLASH_VERIFY_MISMATCH', /read back different bytes/);
    expect(board.faultStats.corruptedBlocks).toBe(1);

    board.pressReset();
    const test = await selfTest();
    expect(test.value?.ok).toBe(false);
    expect(test.value?.reason).toMatch(/no token|different token/);
  });

  it('a block corrupted in flash once: the retry one baud step lower rewrites it and the board passes', async () => {
    await freshBoard({ corruptBlock: { seq: 0, point: 'flash', byteOffset: tokenOffset } });
    const log: string[] = [];
    const result = await flash([nvsRegion], { baudRate: 230_400, maxRetries: 1, log: (l) => log.push(l) });
    expect(result.error).toBeUndefined();
    expect(result.value?.retries).toEqual([{ baudRate: 230_400, code: 'FLASH_VERIFY_MISMATCH' }]);
    expect(result.value?.baudRate).toBe(115_200);
    expect(log.some((l) => l.includes('retrying one step lower'))).toBe(true);
    expect((await selfTest()).value).toMatchObject({ ok: true });
  });

  it('the cable pulled mid-write: CABLE_PULLED at once (no read timeouts waited out); the self-test says it is not connected', async () => {
    await freshBoard();
    const result = await flash([bulkRegion(), nvsRegion], armWhenWriting({ unplugAfterBytes: 10_000 }));
    expectStationError(result, 'CABLE_PULLED', /unplugged/);
    expect(result.ms).toBeLessThan(SLACK_MS);
    expect(board.isPlugged).toBe(false);
    // A cable pulled while connecting is caught as fast.
    board.replug();
    board.setFaults({ unplugAfterBytes: 200 });
    const early = await flash([nvsRegion]);
    expectStationError(early, 'CABLE_PULLED', /unplugged/);
    expect(early.ms).toBeLessThan(SLACK_MS);

    const test = await selfTest();
    expect(test.value).toMatchObject({ ok: false, reason: expect.stringMatching(/not connected/) });
    expect(test.ms).toBeLessThan(SLACK_MS);
  });

  it('a brown-out mid-write: the chip reboots into its app, FLASH_WRITE_FAILED; the app holds no token', async () => {
    await freshBoard();
    const regions = [bulkRegion(), nvsRegion];
    const result = await flash(regions, armWhenWriting({ brownOutAfterBytes: 10_000 }));
    expectStationError(result, 'FLASH_WRITE_FAILED', /Writing to the board failed/);
    expect(result.ms).toBeLessThan(CONNECT_DEADLINE_MS + writeDeadlineMs(regions[0]!.data.length + NVS.size));
    expect(board.mode).toBe('app');

    const test = await selfTest();
    expect(test.value?.ok).toBe(false);
    expect(test.value?.reason).toMatch(/holds no token/);
  });

  it('a silent board: BOARD_NOT_RESPONDING at the connect deadline; the self-test times out with a reason', async () => {
    await freshBoard({ silent: true });
    const result = await flash([nvsRegion]);
    expectStationError(result, 'BOARD_NOT_RESPONDING', /did not answer its bootloader/);
    expect(result.ms).toBeGreaterThanOrEqual(CONNECT_DEADLINE_MS - 50);
    expect(result.ms).toBeLessThan(CONNECT_DEADLINE_MS + SLACK_MS);
    expect(board.faultStats).toMatchObject({ corruptedBlocks: 0, droppedBytes: 0 });

    board.pressReset();
    const test = await selfTest();
    expect(test.value?.ok).toBe(false);
    expect(test.value?.reason).toMatch(/in time|does not answer/);
    expect(test.ms).toBeLessThan(SELFTEST_DEADLINE_MS + SLACK_MS);
  });

  it('garbage on the board TX: the flasher gives up with BOARD_NOT_RESPONDING or succeeds verified, never writes wrong bytes', async () => {
    await freshBoard({ garbage: { probability: 0.3, maxBytes: 8 } });
    const result = await flash([nvsRegion]);
    expect(board.faultStats.garbageBytes).toBeGreaterThan(0);
    expect(result.ms).toBeLessThan(CONNECT_DEADLINE_MS + writeDeadlineMs(NVS.size));
    if (result.error) {
      expect(result.error).toBeInstanceOf(StationError);
      expect(['BOARD_NOT_RESPONDING', 'FLASH_WRITE_FAILED']).toContain((result.error as StationError).code);
    } else {
      expect(Buffer.from(board.readFlash(NVS.address, NVS.size)).equals(Buffer.from(nvsImage))).toBe(true);
    }
  });

  it('garbage on the console: the self-test reads its lines through the noise and proves the token', async () => {
    await freshBoard();
    expect((await flash([nvsRegion])).error).toBeUndefined();
    board.setFaults({ garbage: { probability: 1, maxBytes: 6 } });
    const test = await selfTest();
    expect(board.faultStats.garbageBytes).toBeGreaterThan(0);
    // Noise is glued in front of lines: the runner parses from the first `{"`; the proof is an HMAC
    // of the board's token, so a pass here means the board really holds TOKEN.
    expect(test.value).toMatchObject({ ok: true });
  });
});
