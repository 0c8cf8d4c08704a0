import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { selfTestPlanSchema, type SelfTestPlan } from '../../../common/self-test-plan.js';
import { buildEdgentNvsImage } from '../../../core/payload/edgent-payload.js';
import type { AppBehaviour } from '../../../native/sim/app-behaviour.js';
import { createInProcessPort } from '../../../native/sim/in-process-port.js';
import { VirtualBoard } from '../../../native/sim/virtual-board.js';
import { runSelfTest } from '../../../native/selftest/self-test-runner.js';
import { REDACTED } from '../../../native/selftest/redact.js';

const TOKEN_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';
const randomToken = (): string => Array.from(randomBytes(32), (b) => TOKEN_CHARS[b % 64]).join('');

/** The demo product's plan, with timeouts short enough for tests. */
const PLAN: SelfTestPlan = selfTestPlanSchema.parse({
  checks: [
    { check: 'token' },
    { check: 'fw', equals: '1.0.0' },
    { check: 'app_md5' },
    { check: 'heap', min: 60_000 },
    { check: 'wifi', min: 2, label: 'Wi-Fi networks seen' },
    { check: 'periph:sht30', label: 'temperature sensor' },
  ],
  timeouts: { resendMs: 150, lineGapMs: 300, totalMs: 2_000 },
});

const boards: VirtualBoard[] = [];
afterEach(() => {
  for (const b of boards.splice(0)) b.dispose();
});

/** A board holding `token` in NVS, booted into its app, behaving as `behaviour` says. */
function boardWith(token: string, behaviour: Partial<AppBehaviour> = {}): VirtualBoard {
  const board = new VirtualBoard({ seed: 7, appBehaviour: behaviour });
  boards.push(board);
  board.flash.load(0x9000, buildEdgentNvsImage({ auth: token, host: 'blynk.cloud' }, 0x6000));
  board.powerCycle();
  return board;
}

async function test(board: VirtualBoard, token: string, plan: SelfTestPlan = PLAN) {
  return runSelfTest({ port: createInProcessPort(board), expectedToken: token, plan });
}

describe('the station against each virtual-board failure mode', () => {
  it('passes a healthy board, with every planned check, its value and duration', async () => {
    const token = randomToken();
    const result = await test(boardWith(token), token);
    expect(result.reason).toBeUndefined();
    expect(result.ok).toBe(true);
    const byName = Object.fromEntries((result.results ?? []).map((r) => [r.check, r]));
    expect(byName.token?.ok).toBe(true);
    expect(byName.fw).toMatchObject({ ok: true, value: '1.0.0', expected: '= 1.0.0' });
    expect(byName.app_md5?.value).toMatch(/^[0-9a-f]{32}$/);
    expect(byName.heap).toMatchObject({ ok: true, value: 182_344, expected: '≥ 60000' });
    expect(byName.wifi).toMatchObject({ ok: true, value: 3 });
    expect(byName['periph:sht30']?.ok).toBe(true);
    for (const r of result.results ?? []) expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.log?.some((l) => l.startsWith('{"check":"heap"'))).toBe(true);
  });

  it('garbage: fails saying the board prints garbage', async () => {
    const token = randomToken();
    const result = await test(boardWith(token, { failure: 'garbage' }), token);
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/garbage/);
  });

  it('flood: fails as a flood once the byte budget is spent', async () => {
    const token = randomToken();
    const result = await test(boardWith(token, { failure: 'flood' }), token);
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/flooded/);
  });

  it('silence: resends while it may be booting, then fails saying it does not answer', async () => {
    const token = randomToken();
    const result = await test(boardWith(token, { failure: 'silent' }), token);
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/does not answer/);
  });

  it('stall: a board that goes quiet mid-answer fails as silent', async () => {
    const token = randomToken();
    const result = await test(boardWith(token, { failure: 'stall' }), token);
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/went silent/);
  });

  it('reboot loop: fails saying the board keeps rebooting', async () => {
    const token = randomToken();
    const result = await test(boardWith(token, { failure: 'reboot-loop' }), token);
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/reboot loop/);
    expect(result.log?.filter((l) => l.startsWith('rst:0x')).length).toBeGreaterThanOrEqual(2);
  });

  it('wrong token: fails, and the reason never holds the token', async () => {
    const token = randomToken();
    const result = await test(boardWith(token, { failure: 'wrong-token' }), token);
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/different token/);
    expect(JSON.stringify(result)).not.toContain(token);
  });

  it('low heap: fails the heap check with the value and the limit', async () => {
    const token = randomToken();
    const result = await test(boardWith(token, { heapFree: 41_000 }), token);
    expect(result.ok).toBe(false);
    expect(result.reason).toBe('Self-test check "heap" reported 41000, below the minimum 60000.');
    expect(result.results?.find((r) => r.check === 'heap')).toMatchObject({ ok: false, value: 41_000 });
  });

  it('too few networks: fails the Wi-Fi check by its label', async () => {
    const token = randomToken();
    const result = await test(boardWith(token, { networks: [{ ssid: 'Lonely', rssi: -90 }] }), token);
    expect(result.ok).toBe(false);
    expect(result.reason).toBe('Self-test check "Wi-Fi networks seen" reported 1, below the minimum 2.');
  });

  it('a failed peripheral: fails with the firmware\'s reason', async () => {
    const token = randomToken();
    const result = await test(boardWith(token, { peripherals: { sht30: 'no ACK at 0x44' } }), token);
    expect(result.ok).toBe(false);
    expect(result.reason).toBe('Self-test check "temperature sensor" failed: no ACK at 0x44.');
  });

  it('wrong firmware version: fails with what it reported and what was expected', async () => {
    const token = randomToken();
    const plan = selfTestPlanSchema.parse({ ...PLAN, checks: [{ check: 'token' }, { check: 'fw', equals: '2.0.0' }] });
    const result = await test(boardWith(token), token, plan);
    expect(result.reason).toBe('Self-test check "fw" reported 1.0.0, expected 2.0.0.');
  });

  it('a board that leaks its token: the log, reasons and results keep no trace of it', async () => {
    const token = randomToken();
    const seen: string[] = [];
    const result = await runSelfTest({ port: createInProcessPort(boardWith(token, { failure: 'leak-token' })), expectedToken: token, plan: PLAN, onLine: (l) => seen.push(l) });
    expect(result.ok).toBe(false);
    expect(result.reason).toContain(REDACTED);
    const everything = JSON.stringify(result) + seen.join('\n');
    expect(everything).not.toContain(token);
    expect(everything.toLowerCase()).not.toContain(token.toLowerCase());
    expect(result.log?.some((l) => l.includes(`auth=${REDACTED}`))).toBe(true);
  });

  it('the default plan (no plan given) keeps today\'s behaviour: token proof and every check ok', async () => {
    const token = randomToken();
    const ok = await runSelfTest({ port: createInProcessPort(boardWith(token, { heapFree: 10 })), expectedToken: token });
    expect(ok.ok).toBe(true);
    const bad = await runSelfTest({ port: createInProcessPort(boardWith(token, { peripherals: { sht30: 'dead' } })), expectedToken: token });
    expect(bad.reason).toBe('Self-test check "periph:sht30" failed: dead.');
  });
});
