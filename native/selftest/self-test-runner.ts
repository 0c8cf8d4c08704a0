import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  SELFTEST_BAUD,
  SELFTEST_COMMAND,
  SELFTEST_NONCE_HEX_CHARS,
  type SelfTestCheckLine,
  type SelfTestResult,
} from '../../common/self-test-protocol.js';
import { DEFAULT_SELF_TEST_PLAN, type CheckResult, type SelfTestPlan } from '../../common/self-test-plan.js';
import { TIMEOUTS } from '../../common/timeouts.js';
import type { WebSerialPortLike } from '../serial/web-serial-port.js';
import { LineReader, type LineEvent } from './line-reader.js';
import { evaluatePlan, type ReceivedCheck } from './plan-evaluation.js';
import { makeRedactor } from './redact.js';

export interface SelfTestOptions {
  port: WebSerialPortLike;
  /** The AuthToken the board should hold. Used only to compute the expected proof, never sent. */
  expectedToken: string;
  /** Overrides the plan's `timeouts.totalMs`. */
  timeoutMs?: number;
  /** Overrides the plan's `timeouts.lineGapMs`. */
  lineGapMs?: number;
  /**
   * The product's test plan: which checks, values and limits, timeouts. Default: the token proof,
   * every reported check ok, the protocol's default timeouts (what every caller got before plans).
   */
  plan?: SelfTestPlan;
  /** Raw console lines, redacted (any token-shaped text replaced), as they arrive. */
  onLine?: (line: string) => void;
}

const MAX_LINE_BYTES = 1024;
const BYTE_BUDGET = 64 * 1024;
/** The app may still be booting when we first ask: ask again after this long without an answer. */
const RESEND_AFTER_MS = 1_000;
const MAX_SENDS = 4;
/** Raw log lines kept per run (the byte budget already bounds them; this bounds the row). */
const MAX_LOG_LINES = 400;
/**
 * The ROM's reset-cause line, printed once per chip start: ESP32 family `rst:0x1 (POWERON_RESET),…`,
 * ESP8266 ` ets Jan  8 2013,rst cause:2, boot mode:(3,6)`. One is a board still starting; this many
 * during one self-test is a board that crashes and restarts.
 */
const BOOT_BANNER = /rst:0x[0-9a-f]+ \(|rst cause:\d/;
const MAX_BOOTS_PER_RUN = 2;

/** A line that is mostly not printable ASCII: noise, or text at the wrong baud rate. */
function isGarbage(text: string): boolean {
  if (text.length < 4) return false;
  let unprintable = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x20 || c > 0x7e) unprintable += 1;
  }
  return unprintable / text.length > 0.3;
}
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
  const plan = options.plan ?? DEFAULT_SELF_TEST_PLAN;
  const timeoutMs = options.timeoutMs ?? (options.plan ? plan.timeouts.totalMs : TIMEOUTS.selfTestMs);
  const lineGapMs = options.lineGapMs ?? (options.plan ? plan.timeouts.lineGapMs : TIMEOUTS.selfTestLineGapMs);
  const resendMs = options.plan ? plan.timeouts.resendMs : RESEND_AFTER_MS;
  const nonce = randomBytes(SELFTEST_NONCE_HEX_CHARS / 2).toString('hex');
  const expected = tokenProof(options.expectedToken, nonce);
  const redact = makeRedactor(options.expectedToken);
  const reader = new LineReader({ maxLineBytes: MAX_LINE_BYTES, byteBudget: BYTE_BUDGET });
  const log: string[] = [];
  const received: ReceivedCheck[] = [];
  const asResults = (): CheckResult[] =>
    received.map((r) => ({
      check: r.line.check,
      ok: r.line.ok,
      durationMs: r.atMs,
      ...(r.line.value !== undefined ? { value: r.line.value } : {}),
      ...(r.line.reason !== undefined ? { reason: r.line.reason } : {}),
    }));
  const fail = (reason: string, checks: SelfTestCheckLine[] = []): SelfTestResult => ({
    ok: false,
    checks,
    results: asResults(),
    log,
    reason,
    durationMs: Date.now() - started,
  });

  try {
    await options.port.open({ baudRate: SELFTEST_BAUD });
  } catch {
    // The port is gone (cable pulled, device re-enumerated) or busy: a result, not a crash.
    return fail('The board is not connected — plug it back in and test again.');
  }
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
    const firstSend = Date.now();
    let sends = 1;
    let lastSend = Date.now();
    let answered = false;
    let boots = 0;
    let garbageLines = 0;
    const checks: SelfTestCheckLine[] = [];
    for (;;) {
      const remaining = timeoutMs - (Date.now() - started);
      if (remaining <= 0) return fail('The board did not finish its self-test in time — replug it and test again.', checks);
      const wait = answered ? Math.min(remaining, lineGapMs) : Math.min(remaining, resendMs);
      const event: LineEvent | null = await reader.next(wait);
      if (event === null) {
        if (answered) return fail('The board went silent during its self-test — replug it and test again.', checks);
        if (sends >= MAX_SENDS) {
          if (garbageLines > 0) return fail('The board prints garbage instead of answering its self-test — wrong firmware or baud rate?', checks);
          return fail('The board does not answer the self-test — is the right firmware on it?', checks);
        }
        if (Date.now() - lastSend >= resendMs) {
          await send();
          sends += 1;
          lastSend = Date.now();
        }
        continue;
      }
      if (event.kind === 'closed') return fail('The board disconnected during its self-test — replug it.', checks);
      if (event.kind === 'budget-exceeded') return fail('The board flooded the serial line during its self-test.', checks);
      const text = redact(event.text);
      if (log.length < MAX_LOG_LINES) log.push(event.truncated ? `${text}…` : text);
      options.onLine?.(text);
      if (BOOT_BANNER.test(event.text)) {
        boots += 1;
        if (boots >= MAX_BOOTS_PER_RUN) return fail('The board keeps rebooting (reboot loop) — take it off the line.', checks);
        // A board that restarted mid-answer starts over: what it said before the reset is void.
        if (answered) {
          answered = false;
          checks.length = 0;
          received.length = 0;
        }
        continue;
      }
      if (event.truncated) continue;
      if (isGarbage(event.text)) garbageLines += 1;
      const json = parseJsonLine(event.text);
      if (!json) continue;
      if (json.selftest === 'done') {
        const verdict = evaluatePlan(plan, received, (proof) => proofMatches(expected, proof));
        const durationMs = Date.now() - started;
        if (!verdict.ok) return { ok: false, checks, results: verdict.results, log, reason: verdict.reason ?? 'The board failed its self-test.', durationMs };
        return { ok: true, checks, results: verdict.results, log, durationMs };
      }
      if (typeof json.check === 'string' && typeof json.ok === 'boolean') {
        answered = true;
        // Everything the board says is redacted before it is kept: a firmware that quotes its token
        // in a reason must not put it into the station's database or UI.
        const line: SelfTestCheckLine = { check: redact(json.check).slice(0, 40), ok: json.ok };
        if (typeof json.proof === 'string') line.proof = json.proof;
        if (typeof json.value === 'string') line.value = redact(json.value).slice(0, 200);
        if (typeof json.value === 'number') line.value = json.value;
        if (typeof json.reason === 'string') line.reason = redact(json.reason).slice(0, 200);
        checks.push(line);
        received.push({ line, atMs: Date.now() - firstSend });
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
