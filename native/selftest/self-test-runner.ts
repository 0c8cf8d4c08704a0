import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  SELFTEST_BAUD,
  SELFTEST_COMMAND,
  SELFTEST_NONCE_HEX_CHARS,
  type SelfTestCheckLine,
  type SelfTestResult,
} from '../../common/self-test-protocol.js';
import { TIMEOUTS } from '../../common/timeouts.js';
import type { WebSerialPortLike } from '../serial/web-serial-port.js';
import { LineReader, type LineEvent } from './line-reader.js';

export interface SelfTestOptions {
  port: WebSerialPortLike;
  /** The AuthToken the board should hold. Used only to compute the expected proof, never sent. */
  expectedToken: string;
  timeoutMs?: number;
  lineGapMs?: number;
  /** Raw console lines, for the board's log (the token never appears: the board only sends a proof). */
  onLine?: (line: string) => void;
}

const MAX_LINE_BYTES = 1024;
const BYTE_BUDGET = 64 * 1024;
/** The app may still be booting when we first ask: ask again after this long without an answer. */
const RESEND_AFTER_MS = 1_000;
const MAX_SENDS = 4;

export function tokenProof(token: string, nonce: string): string {
  return createHmac('sha256', Buffer.from(token, 'utf8')).update(nonce, 'ascii').digest('hex');
}

function proofMatches(expected: string, got: unknown): boolean {
  if (typeof got !== 'string' || !/^[0-9a-f]{64}$/.test(got)) return false;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(got, 'hex'));
}

/**
 * A check line may arrive glued to noise: boot-ROM output at another baud rate, or bytes garbled
 * while the host switched speed, with no newline in between. Parse from the first `{"`.
 */
function parseJsonLine(text: string): Record<string, unknown> | null {
  const start = text.indexOf('{"');
  if (start < 0) return null;
  const trimmed = text.slice(start).trim();
  try {
    const value: unknown = JSON.parse(trimmed);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Runs the self-test of common/self-test-protocol.ts on a board that was just reset into its
 * application. Boot-log lines before the answer are ignored; the run fails with a reason when the
 * board stays silent, floods, prints lines too long, or its proof does not match.
 */
export async function runSelfTest(options: SelfTestOptions): Promise<SelfTestResult> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? TIMEOUTS.selfTestMs;
  const nonce = randomBytes(SELFTEST_NONCE_HEX_CHARS / 2).toString('hex');
  const expected = tokenProof(options.expectedToken, nonce);
  const reader = new LineReader({ maxLineBytes: MAX_LINE_BYTES, byteBudget: BYTE_BUDGET });
  const fail = (reason: string, checks: SelfTestCheckLine[] = []): SelfTestResult => ({
    ok: false,
    checks,
    reason,
    durationMs: Date.now() - started,
  });

  await options.port.open({ baudRate: SELFTEST_BAUD });
  const readable = options.port.readable;
  const writable = options.port.writable;
  if (!readable || !writable) {
    await options.port.close();
    return fail('The serial port could not be opened for the self-test.');
  }
  const streamReader = readable.getReader();
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await streamReader.read();
        if (done) break;
        if (value) reader.push(value);
      }
    } catch {
      // port closed under us: the reader reports `closed`
    } finally {
      reader.close();
    }
  })();
  const writer = writable.getWriter();
  const send = async (): Promise<void> => {
    await writer.write(new TextEncoder().encode(`${SELFTEST_COMMAND} ${nonce}\n`));
  };

  try {
    await send();
    let sends = 1;
    let lastSend = Date.now();
    let answered = false;
    const checks: SelfTestCheckLine[] = [];
    for (;;) {
      const remaining = timeoutMs - (Date.now() - started);
      if (remaining <= 0) return fail('The board did not finish its self-test in time — replug it and test again.', checks);
      const wait = answered ? Math.min(remaining, options.lineGapMs ?? TIMEOUTS.selfTestLineGapMs) : Math.min(remaining, RESEND_AFTER_MS);
      const event: LineEvent | null = await reader.next(wait);
      if (event === null) {
        if (answered) return fail('The board went silent during its self-test — replug it and test again.', checks);
        if (sends >= MAX_SENDS) return fail('The board does not answer the self-test — is the right firmware on it?', checks);
        if (Date.now() - lastSend >= RESEND_AFTER_MS) {
          await send();
          sends += 1;
          lastSend = Date.now();
        }
        continue;
      }
      if (event.kind === 'closed') return fail('The board disconnected during its self-test — replug it.', checks);
      if (event.kind === 'budget-exceeded') return fail('The board flooded the serial line during its self-test.', checks);
      options.onLine?.(event.text);
      if (event.truncated) continue;
      const json = parseJsonLine(event.text);
      if (!json) continue;
      if (json.selftest === 'done') {
        const tokenCheck = checks.find((c) => c.check === 'token');
        if (!tokenCheck) return fail('The board reported no token check.', checks);
        if (!tokenCheck.ok) return fail(`The board holds no token: ${String(tokenCheck.reason ?? 'no reason given')}.`, checks);
        if (!proofMatches(expected, tokenCheck.proof)) {
          return fail('The board holds a different token than the one written — do not pack it; call a supervisor.', checks);
        }
        const failed = checks.find((c) => !c.ok);
        if (failed) return fail(`Self-test check "${failed.check}" failed: ${String(failed.reason ?? 'no reason given')}.`, checks);
        return { ok: true, checks, durationMs: Date.now() - started };
      }
      if (typeof json.check === 'string' && typeof json.ok === 'boolean') {
        answered = true;
        const line: SelfTestCheckLine = { check: json.check, ok: json.ok };
        if (typeof json.proof === 'string') line.proof = json.proof;
        if (typeof json.value === 'string' || typeof json.value === 'number') line.value = json.value;
        if (typeof json.reason === 'string') line.reason = json.reason.slice(0, 200);
        checks.push(line);
      }
    }
  } finally {
    writer.releaseLock();
    await streamReader.cancel().catch(() => undefined);
    streamReader.releaseLock();
    await options.port.close().catch(() => undefined);
    await pump;
  }
}
