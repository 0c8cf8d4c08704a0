import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { StationError } from '../../common/errors.js';
import type { VirtualBoard } from './virtual-board.js';

/**
 * Puts a virtual board behind a Linux pseudo-terminal, so the real `serialport` package (and anything
 * else that opens a tty) can talk to it. A small Python helper owns the pty pair: it sets the slave
 * raw, reports the slave's path, and relays bytes between the master and its own stdin/stdout. It also
 * reports the baud rate the client sets on the slave (the master sees the slave's termios), so the
 * board knows when host and chip disagree on the rate, as with a real cable.
 *
 * Modem lines cannot cross a pty (Linux refuses TIOCMSET on it), so DTR/RTS go through the side
 * channel: the returned `setLines`, which is the board's own.
 *
 * Helper -> Node is framed so data and baud reports stay in order: `type u8, length u32 BE, payload`,
 * type 0 = bytes from the client, type 1 = one JSON control message (`{"path"}`, `{"baud"}`).
 */
export const PTY_HOST_START_TIMEOUT_MS = 5_000;
export const PTY_HOST_EXIT_TIMEOUT_MS = 2_000;
/** How often the helper looks at the slave's termios for a baud change. */
const BAUD_POLL_SECONDS = 0.002;
/** Bytes the helper keeps for a client that is not reading before it drops the oldest. */
const HELPER_BACKLOG_LIMIT_BYTES = 1 << 20;

const HELPER = String.raw`
import json, os, pty, select, signal, struct, sys, termios, tty

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
master, slave = pty.openpty()
tty.setraw(slave)
os.set_blocking(master, False)
os.set_blocking(1, True)
speeds = {}
for rate in (300, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 74880, 115200, 230400, 460800,
             500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 3000000):
    const = getattr(termios, 'B%d' % rate, None)
    if const is not None:
        speeds[const] = rate

def send(kind, payload):
    view = memoryview(struct.pack('>BI', kind, len(payload)) + payload)
    while view:
        n = os.write(1, view)
        view = view[n:]

def control(message):
    send(1, json.dumps(message).encode())

control({'path': os.ttyname(slave)})
# A fresh pty reports 38400 baud although nobody chose it; report nothing until a client sets a rate.
initial = termios.tcgetattr(slave)[5]
chosen = False
baud = None
backlog = bytearray()
stdin_open = True
def current_speed():
    global chosen
    raw = termios.tcgetattr(slave)[5]
    chosen = chosen or raw != initial
    return speeds.get(raw) if chosen else None

while stdin_open:
    speed = current_speed()
    if speed != baud:
        baud = speed
        control({'baud': baud})
    writers = [master] if backlog else []
    readable, writable, _ = select.select([master, 0], writers, [], ${BAUD_POLL_SECONDS})
    if master in writable and backlog:
        try:
            n = os.write(master, backlog)
            del backlog[:n]
        except BlockingIOError:
            pass
    if master in readable:
        # Report a baud change the client made before the bytes it sent at the new rate.
        speed = current_speed()
        if speed != baud:
            baud = speed
            control({'baud': baud})
        try:
            data = os.read(master, 65536)
        except (BlockingIOError, OSError):
            data = b''
        if data:
            send(0, data)
    if 0 in readable:
        data = os.read(0, 65536)
        if not data:
            stdin_open = False
        else:
            backlog += data
            if len(backlog) > ${HELPER_BACKLOG_LIMIT_BYTES}:
                del backlog[:len(backlog) - ${HELPER_BACKLOG_LIMIT_BYTES}]
`;

export interface PtyHost {
  /** The slave device to open, e.g. /dev/pts/7. */
  path: string;
  /** Process id of the relay helper (for diagnostics). */
  pid: number | undefined;
  /** Side channel for DTR/RTS (a pty carries no modem lines). */
  setLines: VirtualBoard['setLines'];
  /** Stop relaying and wait for the helper to exit. */
  close(): Promise<void>;
}

type Helper = ChildProcessByStdio<Writable, Readable, Readable>;

export async function hostBoardOnPty(board: VirtualBoard): Promise<PtyHost> {
  await board.ready;
  const child: Helper = spawn('python3', ['-u', '-c', HELPER], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-2000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Writes to a helper that already exited must not crash the process.
  child.stdin.on('error', () => undefined);

  let buffer: Buffer = Buffer.alloc(0);
  let resolvePath: (path: string) => void = () => undefined;
  const pathReported = new Promise<string>((resolve) => {
    resolvePath = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    while (buffer.length >= 5) {
      const length = buffer.readUInt32BE(1);
      if (buffer.length < 5 + length) break;
      const kind = buffer[0];
      const payload = buffer.subarray(5, 5 + length);
      buffer = buffer.subarray(5 + length);
      if (kind === 0) {
        board.write(Uint8Array.from(payload));
      } else {
        const message = JSON.parse(payload.toString('utf8')) as { path?: string; baud?: number | null };
        if (message.path) resolvePath(message.path);
        if ('baud' in message) board.setHostBaud(message.baud ?? undefined);
      }
    }
  });
  const unsubscribe = board.onData((bytes) => {
    if (child.exitCode === null && !child.stdin.destroyed) child.stdin.write(bytes);
  });

  const close = async (): Promise<void> => {
    unsubscribe();
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), PTY_HOST_EXIT_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  };

  let startTimer: ReturnType<typeof setTimeout> | undefined;
  const failed = new Promise<never>((_, reject) => {
    const fail = (why: string) =>
      reject(
        new StationError({
          code: 'INTERNAL',
          message: `Could not put the virtual board on a pseudo-terminal (${why}); python3 is needed for that.`,
          operatorFault: false,
        }),
      );
    child.once('error', (err) => fail(err.message));
    void exited.then(() => fail(`helper exited: ${stderr.trim() || 'no output'}`));
    startTimer = setTimeout(() => fail('helper did not start in time'), PTY_HOST_START_TIMEOUT_MS);
  });
  try {
    const path = await Promise.race([pathReported, failed]);
    return { path, pid: child.pid, setLines: (change) => board.setLines(change), close };
  } catch (err) {
    await close();
    throw err;
  } finally {
    clearTimeout(startTimer);
    failed.catch(() => undefined);
  }
}
