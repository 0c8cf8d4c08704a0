/**
 * The UI's process under load: the station in browser mode with 8 slots on auto-run, boards in a
 * board host process (plugged, scanned back and replaced as fast as they finish), and the UI open
 * in Debian's Chromium through Playwright. In the page: the gaps between animation frames
 * (requestAnimationFrame) and the long tasks (PerformanceObserver 'longtask', main-thread tasks
 * > 50 ms). In the station's process: its event-loop lag (monitorEventLoopDelay) over the same time.
 *
 *   npx tsx bench/renderer-lag.bench.ts            # 60 s of load
 *   RENDER_SECONDS=20 npx tsx bench/renderer-lag.bench.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { chromium } from '@playwright/test';
import { startBrowserMode } from '../app/browser-mode.js';
import { BoardHostClient } from '../native/sim/board-host-client.js';
import { spawnBoardHost } from '../native/sim/spawn-board-host.js';
import type { SlotState } from '../common/slot-state.js';

const SECONDS = Number(process.env.RENDER_SECONDS ?? 60);
const SLOTS = 8;
const CHROMIUM = process.env.FLASHLINE_CHROMIUM ?? '/usr/bin/chromium';

const quantile = (values: number[], p: number): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'flashline-render-'));
  const host = await spawnBoardHost(join(dir, 'boards.sock'));
  const station = await startBrowserMode({ dataDir: dir, slots: SLOTS, virtualBoards: 0, boardHost: host.socketPath, autoRun: true, batchSize: 500, log: () => undefined });
  const hands = await BoardHostClient.connect(host.socketPath);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  // Page-side probes, as source text (this file is type-checked for Node, not the DOM).
  await page.addInitScript(`
    window.__frames = [];
    window.__longtasks = [];
    // The page's event-loop delay measured like Node's monitorEventLoopDelay({ resolution: 10 }):
    // the interval between callbacks of a 10 ms timer chain (10 ms when the loop is free).
    window.__timer = [];
    let lastTick = performance.now();
    const tick = () => {
      const now = performance.now();
      window.__timer.push(now - lastTick);
      lastTick = now;
      setTimeout(tick, 10);
    };
    setTimeout(tick, 10);
    let last = performance.now();
    const frame = (now) => {
      window.__frames.push(now - last);
      last = now;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    try {
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.__longtasks.push(entry.duration);
      }).observe({ entryTypes: ['longtask'] });
    } catch (err) {
      window.__longtaskError = String(err);
    }
  `);
  await page.goto(station.url);
  await page.getByTestId('slot-1').waitFor();

  // The operator: scan back each label, swap a finished board for a new one.
  let seed = 50_000;
  let boards = 0;
  let stopping = false;
  const busy = new Set<string>();
  const act = async (slotId: string, state: SlotState) => {
    if (busy.has(slotId) || stopping) return;
    busy.add(slotId);
    try {
      if (state.kind === 'awaiting-scan' && !state.mismatch) await station.call('scanLabel', { slotId, payload: `${state.token.qrToken}+${station.product.orgId}` });
      else if (state.kind === 'done' || state.kind === 'failed') {
        boards++;
        await hands.unplug(slotId);
        if (state.kind === 'failed') await station.call('clearSlot', { slotId });
        await hands.plug(slotId, { seed: seed++ });
      }
    } finally {
      busy.delete(slotId);
      if (stopping) return;
      const now = station.service.snapshot().slots.find((s) => s.id === slotId)?.state;
      if (now && now !== state && (now.kind === 'awaiting-scan' || now.kind === 'done' || now.kind === 'failed')) void act(slotId, now);
    }
  };
  station.subscribe((e) => {
    if (e.type === 'slot') void act(e.slot.id, e.slot.state);
  });

  // Warm-up (first boards, first sheet), then measure.
  for (let i = 1; i <= SLOTS; i++) await hands.plug(`slot-${i}`, { seed: seed++ });
  await new Promise((r) => setTimeout(r, 5_000));
  await page.evaluate('window.__frames = []; window.__longtasks = []; window.__timer = [];');
  // RENDER_PROFILE=file.cpuprofile: the page's main-thread CPU profile over the measured time.
  const cdp = process.env.RENDER_PROFILE ? await page.context().newCDPSession(page) : null;
  if (cdp) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.start');
  }
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const boardsAtStart = boards;
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  lag.disable();
  const { frames, timer, longtasks, longtaskError } = (await page.evaluate(
    '({ frames: window.__frames.slice(1), timer: window.__timer.slice(1), longtasks: window.__longtasks, longtaskError: window.__longtaskError ?? null })',
  )) as {
    frames: number[];
    timer: number[];
    longtasks: number[];
    longtaskError: string | null;
  };
  if (longtaskError) console.log(`  (no long-task observer in this Chromium: ${longtaskError})`);
  const finished = boards - boardsAtStart;
  stopping = true;
  if (cdp) writeFileSync(process.env.RENDER_PROFILE!, JSON.stringify((await cdp.send('Profiler.stop')).profile));

  console.log(`\nRenderer under load: ${SLOTS} slots on auto-run, boards in a board host, UI in ${CHROMIUM} (headless), ${SECONDS} s`);
  console.log(`  boards finished          ${finished} (${Math.round((finished / SECONDS) * 3600)}/h)`);
  console.log(`  animation frames         ${frames.length}; gap p50 ${quantile(frames, 0.5).toFixed(1)} ms, p99 ${quantile(frames, 0.99).toFixed(1)} ms, max ${Math.max(0, ...frames).toFixed(1)} ms`);
  console.log(`  page event-loop lag      p50 ${quantile(timer, 0.5).toFixed(1)} ms, p99 ${quantile(timer, 0.99).toFixed(1)} ms, max ${Math.max(0, ...timer).toFixed(1)} ms (10 ms timer, as the station's)`);
  console.log(`  long tasks (> 50 ms)     ${longtasks.length}; p99 ${quantile(longtasks, 0.99).toFixed(1)} ms, max ${Math.max(0, ...longtasks).toFixed(1)} ms, total ${longtasks.reduce((a, b) => a + b, 0).toFixed(0)} ms`);
  console.log(`  station event-loop lag   p50 ${(lag.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms, max ${(lag.max / 1e6).toFixed(1)} ms`);

  await browser.close();
  await station.close();
  hands.close();
  await host.stop();
  rmSync(dir, { recursive: true, force: true });
}

await main();
