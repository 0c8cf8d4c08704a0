/**
 * A simulated shift: the whole embedded station (cloud pull, queue, engine, esptool-js, self-test,
 * labels, sync) with in-process virtual boards in 8 slots. Each slot runs like an operator: plug a
 * board, run it, scan its label back, unplug, plug the next. A share of boards carries a fault
 * (silent, dropped bytes, a block corrupted in flash, a cable pulled mid-write, garbage on the line),
 * half of them from the plug (met by the probe) and half switched on after the probe (met mid-job).
 * Prints boards/hour, the outcome mix, heap/RSS at start and end, and event-loop lag p50/p99 of the
 * station's process (which here also runs the virtual boards, so the lag is an upper bound).
 *
 *   npx tsx bench/shift.bench.ts                 # 2,000 boards
 *   SHIFT_BOARDS=200 npx tsx bench/shift.bench.ts  # a quick run
 *   SHIFT_BOARDS_IN=host …                        # boards in a board host process, on ptys
 *
 * With SHIFT_BOARDS_IN=host the boards run in a child process (native/sim/board-host-main.ts) on
 * pseudo-terminals opened through the real serialport path, so the lag measured is the station's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startEmbeddedStation } from '../app/embedded-station.js';
import type { SlotState } from '../common/slot-state.js';
import type { BoardFaults } from '../native/sim/virtual-board.js';
import { BoardHostClient } from '../native/sim/board-host-client.js';
import { spawnBoardHost } from '../native/sim/spawn-board-host.js';

const BOARDS = Number(process.env.SHIFT_BOARDS ?? 2_000);
const SLOTS = Number(process.env.SHIFT_SLOTS ?? 8);
const BOARDS_IN = process.env.SHIFT_BOARDS_IN === 'host' ? 'host' : 'station';
/** How long one board may take end to end before the bench calls the slot stuck. */
const BOARD_DEADLINE_MS = 120_000;

/** Deterministic mix: which fault board n carries (about 12 % of boards carry one). */
function faultFor(n: number): { name: string; faults: BoardFaults } | null {
  const r = (Math.imul(n + 1, 2654435761) >>> 0) % 100;
  if (r < 1) return { name: 'silent', faults: { silent: true } };
  if (r < 4) return { name: 'drop-bytes', faults: { dropEveryNthByte: 300 } };
  if (r < 7) return { name: 'corrupt-in-flash', faults: { corruptBlock: { seq: 0, point: 'flash', times: 1 } } };
  if (r < 9) return { name: 'cable-pulled', faults: { unplugAfterBytes: 6_000 } };
  if (r < 12) return { name: 'garbage', faults: { garbage: { probability: 0.2, maxBytes: 4 } } };
  return null;
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'flashline-shift-'));
  const host = BOARDS_IN === 'host' ? await spawnBoardHost(join(dir, 'boards.sock')) : null;
  const station = await startEmbeddedStation({
    dataDir: dir,
    slots: SLOTS,
    virtualBoards: 0,
    boardTransport: 'in-process',
    ...(host ? { boardHost: host.socketPath } : {}),
    batchSize: 500,
    log: () => undefined,
  });
  // The operator's hands: the in-process rack, or the board host's control socket.
  const hands = host ? await BoardHostClient.connect(host.socketPath) : null;
  const rack = {
    plug: async (slotId: string, options: { seed: number; faults?: BoardFaults }) => {
      if (hands) await hands.plug(slotId, options);
      else await station.rack.plug(slotId, options);
    },
    setFaults: async (slotId: string, faults: BoardFaults) => {
      if (hands) await hands.setFaults(slotId, faults);
      else station.rack.boardIn(slotId)!.setFaults(faults);
    },
    unplug: async (slotId: string) => {
      if (hands) await hands.unplug(slotId);
      else await station.rack.unplug(slotId);
    },
  };
  const lag = monitorEventLoopDelay({ resolution: 10 });
  global.gc?.();
  const memStart = process.memoryUsage();

  // Per-slot waiters on slot-state events.
  const waiters = new Map<string, { pred: (s: SlotState) => boolean; resolve: (s: SlotState) => void }>();
  station.subscribe((e) => {
    if (e.type !== 'slot') return;
    const w = waiters.get(e.slot.id);
    if (w && w.pred(e.slot.state)) {
      waiters.delete(e.slot.id);
      w.resolve(e.slot.state);
    }
  });
  const stateOf = (slotId: string) => station.service.snapshot().slots.find((s) => s.id === slotId)!.state;
  const waitSlot = (slotId: string, pred: (s: SlotState) => boolean): Promise<SlotState> =>
    new Promise((resolve, reject) => {
      const now = stateOf(slotId);
      if (pred(now)) return resolve(now);
      const timer = setTimeout(() => {
        waiters.delete(slotId);
        reject(new Error(`${slotId} stuck in ${stateOf(slotId).kind}`));
      }, BOARD_DEADLINE_MS);
      waiters.set(slotId, {
        pred,
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
      });
    });

  let next = 0;
  const outcomes = new Map<string, number>();
  const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  const durations: number[] = [];
  /** What a board without a fault failed with (the messages never hold a token). */
  const unexpected: string[] = [];

  const worker = async (slotId: string) => {
    for (;;) {
      const n = next++;
      if (n >= BOARDS) return;
      const fault = faultFor(n);
      const started = performance.now();
      // Odd boards carry their fault from the plug (the probe meets it, before any token is
      // reserved); even boards get it once probed, so it hits the flash or the self-test.
      const atPlug = fault !== null && n % 2 === 1;
      await rack.plug(slotId, { seed: 10_000 + n, ...(atPlug ? { faults: fault.faults } : {}) });
      const ready = await waitSlot(slotId, (s) => s.kind === 'detected' || s.kind === 'failed');
      if (ready.kind === 'detected') {
        if (fault && !atPlug) await rack.setFaults(slotId, fault.faults);
        await station.call('runSlot', { slotId });
        const end = await waitSlot(slotId, (s) => s.kind === 'awaiting-scan' || s.kind === 'done' || s.kind === 'failed');
        if (end.kind === 'awaiting-scan') {
          await station.call('scanLabel', { slotId, payload: `${end.token.qrToken}+${station.product.orgId}` });
          await waitSlot(slotId, (s) => s.kind === 'done');
          count(`passed${fault ? ` (${fault.name})` : ''}`);
        } else if (end.kind === 'failed') {
          count(`failed ${end.error.code}${fault ? ` (${fault.name})` : ' (no fault!)'}`);
          if (!fault) unexpected.push(`board ${n} in ${slotId}: ${end.error.code}: ${end.error.message}`);
        } else count(`passed${fault ? ` (${fault.name})` : ''}`);
      } else {
        count(`refused at probe ${ready.kind === 'failed' ? ready.error.code : ''}${fault ? ` (${fault.name})` : ' (no fault!)'}`);
        if (!fault && ready.kind === 'failed') unexpected.push(`board ${n} in ${slotId}, at the probe: ${ready.error.code}: ${ready.error.message}`);
      }
      durations.push(performance.now() - started);
      await rack.unplug(slotId);
      // A failed slot keeps showing its error until the operator clears it.
      if (stateOf(slotId).kind === 'failed') await station.call('clearSlot', { slotId });
      await waitSlot(slotId, (s) => s.kind === 'empty');
    }
  };

  lag.enable();
  const t0 = performance.now();
  let lastReport = t0;
  const progress = setInterval(() => {
    const now = performance.now();
    if (now - lastReport > 30_000) {
      lastReport = now;
      process.stdout.write(`  … ${Math.min(next, BOARDS)}/${BOARDS} boards, ${((now - t0) / 1000).toFixed(0)} s\n`);
    }
  }, 5_000);
  await Promise.all(Array.from({ length: SLOTS }, (_, i) => worker(`slot-${i + 1}`)));
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(progress);
  lag.disable();
  const memEnd = process.memoryUsage();
  global.gc?.();
  const memAfterGc = process.memoryUsage();

  // Invariants of the shift, straight from the database.
  const db = station.db;
  const labelled = (db.prepare("SELECT count(*) AS n FROM tokens WHERE state = 'labelled'").get() as { n: number }).n;
  const dupLabels = (db.prepare('SELECT count(*) AS n FROM (SELECT token_id FROM labels GROUP BY token_id HAVING count(*) > 1)').get() as { n: number }).n;
  const states = db.prepare('SELECT state, count(*) AS n FROM tokens GROUP BY state ORDER BY state').all() as { state: string; n: number }[];
  const integrity = db.pragma('integrity_check', { simple: true });
  const passed = [...outcomes].filter(([k]) => k.startsWith('passed')).reduce((a, [, n]) => a + n, 0);
  durations.sort((a, b) => a - b);
  const q = (p: number) => durations[Math.min(durations.length - 1, Math.floor(p * durations.length))]!;

  console.log(`\nShift: ${BOARDS} boards, ${SLOTS} slots, ${host ? 'virtual boards in a board host process on ptys' : 'in-process virtual boards'} (unthrottled), token-only plan`);
  console.log(`  wall time            ${seconds.toFixed(1)} s`);
  console.log(`  boards/hour          ${Math.round((BOARDS / seconds) * 3600)} (passed ${passed}: ${Math.round((passed / seconds) * 3600)}/h)`);
  console.log(`  per board            p50 ${(q(0.5) / 1000).toFixed(2)} s, p99 ${(q(0.99) / 1000).toFixed(2)} s`);
  console.log(`  event-loop lag       p50 ${(lag.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms, max ${(lag.max / 1e6).toFixed(1)} ms`);
  console.log(`  heap                 ${mb(memStart.heapUsed)} -> ${mb(memEnd.heapUsed)}${global.gc ? ` (after GC ${mb(memAfterGc.heapUsed)})` : ''}`);
  console.log(`  RSS                  ${mb(memStart.rss)} -> ${mb(memEnd.rss)}`);
  console.log('  outcomes:');
  for (const [k, n] of [...outcomes].sort()) console.log(`    ${String(n).padStart(5)}  ${k}`);
  for (const line of unexpected.slice(0, 10)) console.log(`  unexpected: ${line}`);
  console.log(`  tokens by state:     ${states.map((s) => `${s.state} ${s.n}`).join(', ')}`);
  console.log(`  labelled == passed   ${labelled === passed ? 'yes' : `NO (${labelled} vs ${passed})`}; tokens on two labels: ${dupLabels}; integrity_check: ${integrity}`);
  await station.close();
  hands?.close();
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
}

await main();
