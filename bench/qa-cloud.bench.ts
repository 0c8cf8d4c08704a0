/**
 * What the QA cloud steps cost per board, in one run of the whole embedded station (in-process
 * virtual boards, the embedded cloud on 127.0.0.1):
 *   - provisioning one board (plug -> label waiting for its scan) of the demo thermostat (no cloud
 *     check) vs the demo cloud sensor (same firmware, `cloudCheck`), and the cloud check alone;
 *   - dynamic QA of the demo Wi-Fi lamp (Improv, provisioning token, online, erase, device removed).
 * Prints medians and the ratio cloud-sensor / thermostat.
 *
 *   npx tsx bench/qa-cloud.bench.ts          # 10 boards per product
 *   QA_BENCH_BOARDS=30 npx tsx bench/qa-cloud.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedStation, type EmbeddedStation } from '../app/embedded-station.js';

const BOARDS = Number(process.env.QA_BENCH_BOARDS ?? 10);
const STEP_DEADLINE_MS = 60_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function until(station: EmbeddedStation, kinds: string[]): Promise<string> {
  const deadline = Date.now() + STEP_DEADLINE_MS;
  for (;;) {
    const kind = station.service.snapshot().slots[0]!.state.kind;
    if (kinds.includes(kind)) return kind;
    if (Date.now() > deadline) throw new Error(`slot stuck in ${kind}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function withStation<T>(productId: string, use: (station: EmbeddedStation) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'flashline-qa-bench-'));
  const station = await startEmbeddedStation({ dataDir: dir, slots: 1, virtualBoards: 0, boardTransport: 'in-process', batchSize: BOARDS + 5, productId });
  try {
    return await use(station);
  } finally {
    await station.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Plug -> detected -> run -> awaiting-scan, per board; the cloud check's own duration from the stored run. */
async function provisionTimes(productId: string): Promise<{ totalMs: number[]; cloudMs: number[] }> {
  return withStation(productId, async (station) => {
    const totalMs: number[] = [];
    const cloudMs: number[] = [];
    for (let i = 0; i < BOARDS; i++) {
      await station.rack.plug('slot-1');
      await until(station, ['detected']);
      const t0 = performance.now();
      await station.call('runSlot', { slotId: 'slot-1' });
      const end = await until(station, ['awaiting-scan', 'failed']);
      if (end !== 'awaiting-scan') throw new Error(`board ${i} failed`);
      totalMs.push(performance.now() - t0);
      const history = await station.call('qaLookup', { code: 'slot-1' });
      const cloud = history.testRuns[0]?.checks.find((c) => c.check === 'cloud');
      if (cloud) cloudMs.push(cloud.durationMs);
      const state = station.service.snapshot().slots[0]!.state;
      if (state.kind === 'awaiting-scan') await station.call('scanLabel', { slotId: 'slot-1', payload: `${state.token.qrToken}+${station.product.orgId}` });
      await station.rack.unplug('slot-1');
    }
    return { totalMs, cloudMs };
  });
}

async function dynamicTimes(): Promise<number[]> {
  return withStation('demo-wifi-lamp', async (station) => {
    const times: number[] = [];
    for (let i = 0; i < BOARDS; i++) {
      await station.rack.plug('slot-1');
      await until(station, ['detected']);
      const t0 = performance.now();
      const result = await station.call('qaDynamic', { slotId: 'slot-1' });
      if (!result.ok) throw new Error(`dynamic QA failed: ${result.reason}`);
      times.push(performance.now() - t0);
      await station.rack.unplug('slot-1');
    }
    return times;
  });
}

const plain = await provisionTimes('demo-thermostat');
const cloud = await provisionTimes('demo-cloud-sensor');
const dynamic = await dynamicTimes();
const p = median(plain.totalMs);
const c = median(cloud.totalMs);
console.log(`boards per product: ${BOARDS}`);
console.log(`provision, no cloud check (demo-thermostat):   median ${p.toFixed(0)} ms`);
console.log(`provision, with cloud check (demo-cloud-sensor): median ${c.toFixed(0)} ms  (ratio ${(c / p).toFixed(2)}x)`);
console.log(`cloud check alone (stored check duration):       median ${median(cloud.cloudMs).toFixed(0)} ms`);
console.log(`dynamic QA (reset, Improv, token, online, erase, removal): median ${median(dynamic).toFixed(0)} ms`);
