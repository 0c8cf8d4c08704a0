import { describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { BoardSession } from '../../../native/flash/board-session.js';
import { PROBE_CONNECT_ATTEMPTS, probeBoard } from '../../../native/flash/probe-board.js';
import type { WebSerialPortLike } from '../../../native/serial/web-serial-port.js';
import { createInProcessPort } from '../../../native/sim/in-process-port.js';
import { VirtualBoard } from '../../../native/sim/virtual-board.js';

/** The ROM answers a SYNC within esptool's 100 ms read timeout; a host this late misses every answer. */
const HOST_LATENCY_MS = 250;
/** First connect deadline in these tests (production: TIMEOUTS.flashConnectMs). */
const FIRST_DEADLINE_MS = 1_500;
const NVS = { offset: 0x9000, size: 0x6000 };

/**
 * A host too busy to read its serial port in time: while `slow()` holds, every chunk the board
 * sends reaches esptool HOST_LATENCY_MS late (the bytes are all there, just late), as when the
 * station's process is starved of CPU. The port stays reopenable, like a real one.
 */
function slowHostPort(inner: WebSerialPortLike, slow: () => boolean): WebSerialPortLike {
  let readable: ReadableStream<Uint8Array> | null = null;
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  return {
    open: async (o) => {
      await inner.open(o);
      const own = inner.readable!.getReader();
      reader = own;
      readable = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { value, done } = await own.read().catch(() => ({ value: undefined, done: true as const }));
          if (done || !value) return controller.close();
          if (slow()) await new Promise((r) => setTimeout(r, HOST_LATENCY_MS));
          controller.enqueue(value);
        },
        cancel: () => own.cancel().catch(() => undefined),
      });
    },
    close: async () => {
      await reader?.cancel().catch(() => undefined);
      reader?.releaseLock();
      reader = null;
      readable = null;
      await inner.close();
    },
    get readable() {
      return readable;
    },
    get writable() {
      return inner.writable;
    },
    setSignals: (s) => inner.setSignals(s),
    getInfo: () => inner.getInfo(),
    ...(inner.setBaudRate ? { setBaudRate: (b: number) => inner.setBaudRate!(b) } : {}),
  };
}

describe('probe on a slow host', () => {
  it('a healthy board whose first connect meets a starved host is probed on the second, not refused', async () => {
    const board = new VirtualBoard({ seed: 91 });
    await board.ready;
    const started = Date.now();
    // Slow for the first connect only: the host recovers while the probe is still deciding.
    const port = slowHostPort(createInProcessPort(board) as unknown as WebSerialPortLike, () => Date.now() - started < FIRST_DEADLINE_MS);
    const lines: string[] = [];
    const outcome = await probeBoard({ port, baudRate: 921_600, nvs: NVS, connectTimeoutMs: FIRST_DEADLINE_MS, log: (l) => lines.push(l) });
    expect(outcome.identity.chipFamily).toBe('ESP32');
    expect(outcome.nvs.length).toBe(NVS.size);
    expect(lines.filter((l) => l.startsWith('probe: no answer')).length).toBe(PROBE_CONNECT_ATTEMPTS - 1);
    board.dispose();
  }, 20_000);

  it('the same slow start refuses the board when only one connect is tried (what the retry fixes)', async () => {
    const board = new VirtualBoard({ seed: 92 });
    await board.ready;
    const started = Date.now();
    const port = slowHostPort(createInProcessPort(board) as unknown as WebSerialPortLike, () => Date.now() - started < FIRST_DEADLINE_MS);
    const err = await BoardSession.open({ port, baudRate: 921_600, connectTimeoutMs: FIRST_DEADLINE_MS }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StationError);
    expect((err as StationError).code).toBe('BOARD_NOT_RESPONDING');
    board.dispose();
  }, 20_000);

  it('a silent board is still refused after the second connect, within both deadlines', async () => {
    const board = new VirtualBoard({ seed: 93, faults: { silent: true } });
    await board.ready;
    const started = Date.now();
    const err = await probeBoard({ port: createInProcessPort(board) as unknown as WebSerialPortLike, baudRate: 921_600, nvs: NVS, connectTimeoutMs: 800 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as StationError).code).toBe('BOARD_NOT_RESPONDING');
    // 800 ms + 1,600 ms of deadlines, plus closing the port each time.
    expect(Date.now() - started).toBeLessThan(800 * 3 + 2_000);
    board.dispose();
  }, 20_000);
});
