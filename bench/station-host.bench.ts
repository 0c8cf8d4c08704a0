/**
 * What moving the station core into its own process (the Electron utility process; here the same
 * host under child_process.fork) buys the process that owns the windows: that process's event-loop
 * delay while 8 virtual boards are provisioned at once (probe, flash, self-test, label PDF
 * rendering, SQLite), core in-process vs core in the host. Also the cost: round trip of a
 * getSnapshot call, in-process vs over the host channel. One run, ratios printed.
 *
 *   npx tsx bench/station-host.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { StationApi, StationEvent } from '../common/api.js';
import { startEmbeddedStation } from '../app/embedded-station.js';
import { StationHostClient } from '../app/station-host-client.js';
import { forkNodeHost } from '../app/station-host-node.js';
import type { HostStartOptions } from '../app/station-host-protocol.js';

const SLOTS = 8;
/** Give up on a provisioning round after this long (ms). */
const ROUND_DEADLINE_MS = 120_000;
const SNAPSHOT_CALLS = 300;

const options = (dataDir: string): HostStartOptions => ({ dataDir, slots: SLOTS, virtualBoards: SLOTS, boardTransport: 'in-process', autoRun: true, batchSize: 50 });

/** Waits until every slot has a label waiting for its scan (flash, self-test and label PDF done). */
function allLabelled(api: StationApi): Promise<void> {
  return new Promise((resolve, reject) => {
    const states = new Map<string, string>();
    const timer = setTimeout(() => reject(new Error(`not all slots labelled within ${ROUND_DEADLINE_MS} ms: ${JSON.stringify([...states])}`)), ROUND_DEADLINE_MS);
    const unsubscribe = api.subscribe((event: StationEvent) => {
      if (event.type !== 'slot') return;
      states.set(event.slot.id, event.slot.state.kind);
      if (event.slot.state.kind === 'failed') console.log(`  ${event.slot.id} failed`);
      const finished = [...states.values()].filter((kind) => kind === 'awaiting-scan' || kind === 'done' || kind === 'failed');
      if (finished.length === SLOTS) {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      }
    });
  });
}

async function measure(label: string, start: () => Promise<{ api: StationApi; close(): Promise<unknown> }>) {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  {
    const station = await start();
    const done = allLabelled(station.api);
    histogram.enable();
    const t0 = performance.now();
    await done;
    const roundMs = performance.now() - t0;
    histogram.disable();
    const c0 = performance.now();
    for (let i = 0; i < SNAPSHOT_CALLS; i++) await station.api.call('getSnapshot', {});
    const snapshotMs = (performance.now() - c0) / SNAPSHOT_CALLS;
    await station.close();
    const result = { label, roundMs, p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6, snapshotMs };
    console.log(`${label}: 8 boards labelled in ${(roundMs / 1000).toFixed(1)} s; parent event-loop delay p99 ${result.p99.toFixed(1)} ms, max ${result.max.toFixed(1)} ms; getSnapshot ${snapshotMs.toFixed(2)} ms`);
    return result;
  }
}

const inProcessDir = mkdtempSync(join(tmpdir(), 'bench-host-in-'));
const hostDir = mkdtempSync(join(tmpdir(), 'bench-host-out-'));
try {
  const inProcess = await measure('core in-process', async () => {
    const station = await startEmbeddedStation(options(inProcessDir));
    return { api: station, close: () => station.close() };
  });
  const hosted = await measure('core in host   ', async () => {
    const { channel, child } = forkNodeHost({ stderr: 'pipe' });
    child.stderr?.resume(); // the core's log lines are not part of the measurement
    const client = new StationHostClient(channel);
    await client.start(options(hostDir));
    return { api: client, close: () => client.close() };
  });
  console.log(
    `ratios (in-process / host): event-loop delay p99 ${(inProcess.p99 / hosted.p99).toFixed(1)}x, max ${(inProcess.max / hosted.max).toFixed(1)}x; ` +
      `getSnapshot cost host / in-process ${(hosted.snapshotMs / inProcess.snapshotMs).toFixed(1)}x`,
  );
} finally {
  rmSync(inProcessDir, { recursive: true, force: true });
  rmSync(hostDir, { recursive: true, force: true });
}
