import { afterEach, describe, expect, it } from 'vitest';
import { StationError } from '../../common/errors.js';
import { buildEdgentNvsImage } from '../../core/payload/edgent-payload.js';
import { flashBoard } from '../../native/flash/esptool-flasher.js';
import type { SerialSignals, WebSerialPortLike } from '../../native/serial/web-serial-port.js';
import { runSelfTest, tokenProof } from '../../native/selftest/self-test-runner.js';
import { createInProcessPort } from '../../native/sim/in-process-port.js';
import { VirtualBoard, type BoardFaults } from '../../native/sim/virtual-board.js';
import { ScriptedPort } from '../support/scripted-port.js';
import { intBelow, pool, prng, randomBytesFrom, timed } from './fuzz-kit.js';

/**
 * Serial abuse, bounded: a console that answers the self-test with random bytes, endless lines and
 * floods; a "board" that answers the ROM bootloader wrongly; and random mixes of the virtual board's
 * faults. The station's promises: a clear reason or a StationError, never past the deadline (plus
 * slack), and never a pass for a board that does not hold its token. Each case prints its seed.
 */
const TOKEN = 'Fuzz0Token0abcdefghijklmnopqrstu';
const SELFTEST_DEADLINE_MS = 600;
const CONNECT_DEADLINE_MS = 800;
/** Scheduling slack on a loaded 2-core machine, on top of any deadline. */
const SLACK_MS = 1_500;
/** How often a streaming fake board pushes its next chunk. */
const STREAM_INTERVAL_MS = 2;

/** A console that keeps sending `chunk()` from the first command until the port is closed. */
function streamingConsole(chunk: () => string | Uint8Array): ScriptedPort {
  let timer: NodeJS.Timeout | null = null;
  return new ScriptedPort((_line, port) => {
    if (timer) return;
    timer = setInterval(() => {
      if (port.readable === null) {
        clearInterval(timer!);
        return;
      }
      port.emit(chunk());
    }, STREAM_INTERVAL_MS);
  });
}

describe('self-test console abuse', () => {
  it('random bytes (with protocol fragments and stale proofs mixed in) never pass; 48 seeded consoles, each within its deadline', async () => {
    const fragments = [
      '{"check":"token","ok":true,"proof":"',
      '"}\n',
      '{"selftest":"done","ok":true,"checks":1}\n',
      '\r\n',
      '{"check":"fw","ok":true,"value":"1.0.0"}\n',
      'rst:0x1 (POWERON_RESET)\n',
    ];
    const runs = Array.from({ length: 48 }, (_, seed) => async () => {
      const rand = prng(1000 + seed);
      const port = new ScriptedPort((line, p) => {
        const nonce = line.split(' ')[1] ?? '';
        const pieces = 1 + intBelow(rand, 12);
        for (let i = 0; i < pieces; i++) {
          const r = rand();
          if (r < 0.4) p.emit(randomBytesFrom(rand, intBelow(rand, 300)));
          else if (r < 0.8) p.emit(fragments[intBelow(rand, fragments.length)]!);
          // A proof for the right nonce of the WRONG token, or the right token for another nonce.
          else if (r < 0.9) p.emit(`{"check":"token","ok":true,"proof":"${tokenProof(`${TOKEN.slice(1)}X`, nonce)}"}\n`);
          else p.emit(`{"check":"token","ok":true,"proof":"${tokenProof(TOKEN, nonce.replace(/^./, nonce[0] === '0' ? '1' : '0'))}"}\n`);
        }
        if (rand() < 0.5) p.emit('{"selftest":"done","ok":true,"checks":1}\n');
      });
      const result = await timed(() => runSelfTest({ port, expectedToken: TOKEN, timeoutMs: SELFTEST_DEADLINE_MS, lineGapMs: 300 }));
      return { seed: 1000 + seed, ...result, written: port.written };
    });
    const results = await pool(runs, 16);
    for (const r of results) {
      const where = `seed ${r.seed}`;
      expect(r.error, where).toBeUndefined();
      expect(r.value?.ok, where).toBe(false);
      expect(r.value?.reason, where).toMatch(/\w{4,}/);
      expect(r.value?.reason ?? '', where).not.toContain(TOKEN);
      expect(r.ms, where).toBeLessThan(SELFTEST_DEADLINE_MS + SLACK_MS);
      expect(r.written.join('\n'), where).not.toContain(TOKEN);
    }
  });

  it('an endless line (no newline, ever) fails with a reason within the deadline', async () => {
    const port = streamingConsole(() => 'A'.repeat(512));
    const r = await timed(() => runSelfTest({ port, expectedToken: TOKEN, timeoutMs: SELFTEST_DEADLINE_MS }));
    expect(r.value?.ok).toBe(false);
    expect(r.value?.reason).toMatch(/\w{4,}/);
    expect(r.ms).toBeLessThan(SELFTEST_DEADLINE_MS + SLACK_MS);
  });

  it('a flood of log lines, and a flood of forged check lines, fail within the deadline without growing memory', async () => {
    const logFlood = streamingConsole(() => 'I (1234) wifi: scanning channel 6 ... nothing found\n'.repeat(40));
    const forged = streamingConsole(() => `{"check":"token","ok":true,"proof":"${'ab'.repeat(32)}"}\n{"check":"heap","ok":true}\n`.repeat(20));
    const before = process.memoryUsage().heapUsed;
    const [a, b] = await Promise.all([
      timed(() => runSelfTest({ port: logFlood, expectedToken: TOKEN, timeoutMs: 5_000 })),
      timed(() => runSelfTest({ port: forged, expectedToken: TOKEN, timeoutMs: 5_000 })),
    ]);
    for (const r of [a, b]) {
      expect(r.value?.ok).toBe(false);
      // The 64 KB byte budget ends a flood long before the 5 s deadline.
      expect(r.ms).toBeLessThan(5_000);
    }
    expect(a.value?.reason).toMatch(/\w{4,}/);
    expect(b.value?.reason).toMatch(/\w{4,}/);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('a console that only sends a crash-loop of boot banners fails, naming the restarts or the silence', async () => {
    const port = streamingConsole(() => 'ets Jun  8 2016 00:22:57\r\nrst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n');
    const r = await timed(() => runSelfTest({ port, expectedToken: TOKEN, timeoutMs: SELFTEST_DEADLINE_MS }));
    expect(r.value?.ok).toBe(false);
    expect(r.ms).toBeLessThan(SELFTEST_DEADLINE_MS + SLACK_MS);
  });
});

// ---------------------------------------------------------------------------------------------
// A board that answers the ROM bootloader wrongly.

type Responder = (written: Uint8Array, send: (bytes: Uint8Array) => void) => void;

/** A Web-Serial-shaped port whose far end answers every write through `responder`. */
class LyingBootloaderPort implements WebSerialPortLike {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  writes = 0;

  constructor(private readonly responder: Responder) {}

  async open(): Promise<void> {
    this.readable = new ReadableStream<Uint8Array>({ start: (c) => void (this.controller = c) });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        this.writes++;
        this.responder(chunk, (bytes) => {
          try {
            this.controller?.enqueue(bytes);
          } catch {
            // closed
          }
        });
      },
    });
  }

  async close(): Promise<void> {
    try {
      this.controller?.close();
    } catch {
      // already closed
    }
    this.controller = null;
    this.readable = null;
    this.writable = null;
  }

  async setSignals(_signals: SerialSignals): Promise<void> {}
  async setBaudRate(_baud: number): Promise<void> {}
  getInfo() {
    return { usbVendorId: 0x10c4, usbProductId: 0xea60 };
  }
}

/** The command byte of the first SLIP frame in a host write (frame: C0 00 op len(2) chk(4) data C0). */
function commandOf(written: Uint8Array): number | null {
  const start = written.indexOf(0xc0);
  return start >= 0 && written[start + 1] === 0x00 && start + 2 < written.length ? written[start + 2]! : null;
}

/** A SLIP-framed ROM response (direction 1) with the given op, value and status bytes. */
function response(op: number, status: number[], direction = 0x01, value = 0): Uint8Array {
  const body = [direction, op, status.length & 0xff, status.length >> 8, value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, value >>> 24, ...status];
  const out = [0xc0];
  for (const b of body) {
    if (b === 0xc0) out.push(0xdb, 0xdc);
    else if (b === 0xdb) out.push(0xdb, 0xdd);
    else out.push(b);
  }
  out.push(0xc0);
  return new Uint8Array(out);
}

const liars: Array<[string, (rand: () => number) => Responder]> = [
  ['echoes every frame back (a loop-back cable)', () => (w, send) => send(w.slice())],
  ['answers each command with the wrong op', () => (w, send) => {
    const op = commandOf(w);
    if (op !== null) send(response((op + 1) & 0xff, [0, 0]));
  }],
  ['answers each command with an error status', () => (w, send) => {
    const op = commandOf(w);
    if (op !== null) send(response(op, [1, 0x05]));
  }],
  ['answers in the host direction (0x00) instead of the response direction', () => (w, send) => {
    const op = commandOf(w);
    if (op !== null) send(response(op, [0, 0], 0x00));
  }],
  ['syncs, then answers every register read with random values and sizes', (rand) => (w, send) => {
    const op = commandOf(w);
    if (op === null) return;
    if (op === 0x08) send(response(op, [0, 0]));
    else send(response(op, Array.from(randomBytesFrom(rand, intBelow(rand, 6))), 0x01, Math.floor(rand() * 2 ** 32)));
  }],
  ['answers with random SLIP frames', (rand) => (_w, send) => {
    for (let i = intBelow(rand, 4); i >= 0; i--) {
      const payload = Array.from(randomBytesFrom(rand, intBelow(rand, 24))).filter((b) => b !== 0xc0);
      send(new Uint8Array([0xc0, ...payload, 0xc0]));
    }
  }],
  ['floods random bytes without any frame end', (rand) => (_w, send) => {
    send(randomBytesFrom(rand, 16 * 1024).map((b) => (b === 0xc0 ? 0 : b)));
  }],
];

describe('a board that answers the bootloader wrongly', () => {
  it.each(liars)('flashBoard refuses one that %s, with a StationError within the connect deadline', async (_what, make) => {
    const port = new LyingBootloaderPort(make(prng(77)));
    const r = await timed(() =>
      flashBoard({
        port,
        regions: [{ name: 'nvs', address: 0x9000, data: buildEdgentNvsImage({ auth: TOKEN, host: 'blynk.cloud' }, 0x6000) }],
        baudRate: 115_200,
        maxRetries: 0,
        connectTimeoutMs: CONNECT_DEADLINE_MS,
      }),
    );
    expect(r.value, 'a lying bootloader must never be reported as flashed').toBeUndefined();
    expect(r.error).toBeInstanceOf(StationError);
    expect(['BOARD_NOT_RESPONDING', 'FLASH_WRITE_FAILED', 'BOARD_UNSUPPORTED']).toContain((r.error as StationError).code);
    expect((r.error as StationError).message).not.toContain(TOKEN);
    expect(r.ms).toBeLessThan(CONNECT_DEADLINE_MS + SLACK_MS);
    expect(port.writes).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Random mixes of the virtual board's fault hooks, flash + self-test as the engine does them.

const NVS = { address: 0x9000, size: 0x6000 };
const nvsImage = buildEdgentNvsImage({ auth: TOKEN, host: 'blynk.cloud' }, NVS.size);
/** Generous connect deadline for the mixes: four esptool-js reset sequences run at once here. */
const MIX_CONNECT_DEADLINE_MS = 3_000;
/** Connect deadline + NVS write deadline (board-session: 2x line time + 15 s) + slack. */
const FLASH_BOUND_MS = MIX_CONNECT_DEADLINE_MS + Math.ceil(((NVS.size * 10) / 115_200) * 2000) + 15_000 + SLACK_MS;

function randomFaults(rand: () => number): BoardFaults {
  const faults: BoardFaults = {};
  const pick = () => rand() < 0.35;
  if (pick()) faults.garbage = { probability: 0.05 + rand() * 0.4, maxBytes: 1 + intBelow(rand, 12) };
  if (pick()) faults.dropEveryNthByte = 50 + intBelow(rand, 4000);
  if (pick()) faults.corruptBlock = { seq: intBelow(rand, 2), point: rand() < 0.5 ? 'wire' : 'flash', times: 1 + intBelow(rand, 3) };
  if (rand() < 0.15) faults.unplugAfterBytes = 100 + intBelow(rand, 30_000);
  if (rand() < 0.15) faults.brownOutAfterBytes = 100 + intBelow(rand, 30_000);
  if (rand() < 0.08) faults.silent = true;
  return faults;
}

describe('random fault mixes on the virtual board', () => {
  const boards: VirtualBoard[] = [];
  afterEach(() => {
    for (const b of boards.splice(0)) b.dispose();
  });

  it('16 seeded mixes: every flash ends in a StationError or a verified write, and a self-test passes only on a board holding the token', async () => {
    const outcomes: string[] = [];
    const runs = Array.from({ length: 16 }, (_, i) => async () => {
      const seed = 500 + i;
      const rand = prng(seed);
      const faults = randomFaults(rand);
      const board = new VirtualBoard({ seed, faults });
      boards.push(board);
      await board.ready;
      const port = createInProcessPort(board, { inPlaceBaudChange: true }) as unknown as WebSerialPortLike;
      const flash = await timed(() => flashBoard({ port, regions: [{ name: 'nvs', address: NVS.address, data: nvsImage }], baudRate: 115_200, maxRetries: 1, connectTimeoutMs: MIX_CONNECT_DEADLINE_MS }));
      const where = `seed ${seed} faults ${JSON.stringify(faults)}`;
      expect(flash.ms, where).toBeLessThan(FLASH_BOUND_MS * 2);
      if (flash.error) {
        expect(flash.error, where).toBeInstanceOf(StationError);
      }
      if (board.isPlugged && board.mode !== 'app') board.pressReset();
      const test = await timed(() => runSelfTest({ port: createInProcessPort(board) as unknown as WebSerialPortLike, expectedToken: TOKEN, timeoutMs: 1_500 }));
      expect(test.error, where).toBeUndefined();
      expect(test.ms, where).toBeLessThan(1_500 + SLACK_MS);
      const holds = Buffer.from(board.readFlash(NVS.address, NVS.size)).equals(Buffer.from(nvsImage));
      if (test.value?.ok) expect(holds, `${where}: self-test passed on a board without its token`).toBe(true);
      if (!flash.error) expect(holds, `${where}: flash reported success but the NVS differs`).toBe(true);
      outcomes.push(`${flash.error ? (flash.error as StationError).code : 'flashed'}/${test.value?.ok ? 'pass' : 'fail'}`);
    });
    await pool(runs, 4);
    // The mixes must exercise both sides: some boards flashed and passed, some were refused.
    expect(outcomes.some((o) => o === 'flashed/pass')).toBe(true);
    expect(outcomes.some((o) => !o.startsWith('flashed'))).toBe(true);
  });
});
