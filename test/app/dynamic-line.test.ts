import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlotState } from '../../common/slot-state.js';
import { startEmbeddedStation, type EmbeddedStation } from '../../app/embedded-station.js';
import { QA_NETWORK } from '../../native/sim/app-behaviour.js';

const WAIT_MS = 20_000;

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const until = Date.now() + WAIT_MS;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The whole station, in process, with the demo Wi-Fi lamp (a dynamic-token product) on the line:
 * virtual boards are flashed with the shared firmware over the real esptool-js path, come online in
 * the embedded cloud with a test provisioning token, are factory-reset and leave unconfigured.
 */
describe('the line flow of a dynamic-token product (demo Wi-Fi lamp), end to end', () => {
  let dir: string;
  let station: EmbeddedStation;
  const logs: string[] = [];
  const state = (slotId: string): SlotState => station.service.snapshot().slots.find((s) => s.id === slotId)!.state;
  const settled = (slotId: string): boolean => ['done', 'failed'].includes(state(slotId).kind);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-dynamic-line-'));
    station = await startEmbeddedStation({ dataDir: dir, slots: 2, virtualBoards: 2, boardTransport: 'in-process', batchSize: 5, productId: 'demo-wifi-lamp', log: (line) => logs.push(line) });
  });
  afterAll(async () => {
    await station?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pulls no static tokens for a dynamic product and shows no low-stock warning', () => {
    expect(station.product.tokenKind).toBe('dynamic');
    const stock = station.service.snapshot().stock;
    expect(stock.available).toBe(0);
    expect(stock.lowStockAt).toBeUndefined();
  });

  it('two boards: firmware, online with a test token, factory-reset, done — no token, no label, runs kept by MAC', async () => {
    await waitFor(() => state('slot-1').kind === 'detected' && state('slot-2').kind === 'detected', 'both boards detected');
    await Promise.all([station.call('runSlot', { slotId: 'slot-1' }), station.call('runSlot', { slotId: 'slot-2' })]);
    await waitFor(() => settled('slot-1') && settled('slot-2'), 'both slots settled');
    for (const slotId of ['slot-1', 'slot-2']) {
      const s = state(slotId);
      expect(s.kind === 'failed' ? s.error.message : s.kind).toBe('done');
      expect(s).not.toHaveProperty('token');
      expect(s).not.toHaveProperty('label');
      const board = station.rack.boardIn(slotId)!;
      // Nothing of QA is left in the board: no Wi-Fi, no cloud session, no token.
      expect(board.storedWifi).toBeNull();
      expect(board.cloudOnline).toBe(false);
    }
    const runs = station.db.prepare("SELECT board_mac AS mac, slot_id AS slotId, token_id AS tokenId, ok FROM test_runs WHERE kind = 'dynamic' ORDER BY slot_id").all() as { mac: string; slotId: string; tokenId: null; ok: number }[];
    expect(runs.map((r) => [r.slotId, r.tokenId, r.ok])).toEqual([
      ['slot-1', null, 1],
      ['slot-2', null, 1],
    ]);
    expect(new Set(runs.map((r) => r.mac)).size).toBe(2);
    // The full plan: bootloader, partition table, app, nothing else; what the board held already (the
    // virtual board's default partition table) is verified by MD5 instead of rewritten.
    const firmware = logs.filter((l) => l.startsWith('slot 1: firmware on'));
    expect(firmware).toHaveLength(1);
    expect(firmware[0]).toMatch(/: bootloader written md5 [0-9a-f]{32}; partition-table (written|already there) md5 [0-9a-f]{32}; app written md5 [0-9a-f]{32} at \d+ baud$/);
    expect(station.db.prepare('SELECT COUNT(*) AS n FROM labels').get()).toEqual({ n: 0 });
    expect(station.db.prepare('SELECT COUNT(*) AS n FROM outbox').get()).toEqual({ n: 0 });
    expect(station.queue.stock()).toMatchObject({ available: 0, reserved: 0, labelled: 0, failed: 0 });
    expect(station.service.snapshot().sheet).toBeNull();
    expect(station.service.snapshot().stock.shift).toMatchObject({ done: 2, failed: 0 });

    // QA finds the board's history by its slot and by its MAC.
    const bySlot = await station.call('qaLookup', { code: 'slot-1' });
    expect(bySlot).toMatchObject({ token: null, label: null, slotId: 'slot-1', canShip: false });
    expect(bySlot.testRuns.map((r) => [r.kind, r.ok])).toEqual([['dynamic', true]]);
    expect(bySlot.testRuns[0]!.checks.map((c) => c.check)).toEqual([
      'improv_state', 'improv_info', 'wifi_provision', 'provisioned', 'cloud_token', 'cloud_online', 'config_erase', 'unconfigured', 'cloud_removed',
    ]);
    const mac = runs[1]!.mac;
    const byMac = await station.call('qaLookup', { code: mac.toUpperCase() });
    expect(byMac).toMatchObject({ token: null, dynamicMac: mac, slotId: 'slot-2' });
    await expect(station.call('qaLookup', { code: '00:11:22:33:44:55' })).rejects.toThrow('No board with MAC 00:11:22:33:44:55 has been through this station.');
  });

  it('a board that already passed is recognised by its MAC when checked again: done, not run twice', async () => {
    const before = logs.filter((l) => l.startsWith('slot 1: firmware on')).length;
    await station.call('clearSlot', { slotId: 'slot-1' });
    await waitFor(() => state('slot-1').kind === 'done' && logs.some((l) => l.includes('already passed dynamic QA')), 'slot-1 done again');
    expect(state('slot-1')).not.toHaveProperty('token');
    expect(logs.filter((l) => l.startsWith('slot 1: firmware on'))).toHaveLength(before);
  });

  it('a board that cannot join the QA network fails with one sentence, and is left erased', async () => {
    // A fresh board in slot 1.
    await station.rack.unplug('slot-1');
    await waitFor(() => state('slot-1').kind === 'empty', 'slot-1 empty');
    await station.rack.plug('slot-1');
    const board = station.rack.boardIn('slot-1')!;
    board.setAppBehaviour({ networks: [{ ssid: 'Elsewhere', rssi: -70 }] });
    await waitFor(() => state('slot-1').kind === 'detected', 'slot-1 detected');
    await station.call('runSlot', { slotId: 'slot-1' });
    await waitFor(() => settled('slot-1'), 'slot-1 settled');
    const s = state('slot-1');
    if (s.kind !== 'failed') throw new Error(`slot-1 ended ${s.kind}`);
    expect(s.error.code).toBe('QA_FAILED');
    // One sentence: the step, the reason, one full stop.
    expect(s.error.message).toBe('Dynamic QA step "wifi_provision" failed: Improv: the board could not join the Wi-Fi network.');
    expect(board.storedWifi).toBeNull();
    expect(station.service.snapshot().stock.shift).toMatchObject({ done: 2, failed: 1 });
    const history = await station.call('qaLookup', { code: 'slot-1' });
    expect(history.testRuns.map((r) => r.ok)).toEqual([false]);
    expect(history.testRuns[0]!.checks.map((c) => c.check)).toContain('config_erase');

    // Fixed and checked again (its latest run failed: it is offered to run, not shown done); the
    // firmware is already on it, so every region is verified by MD5 and none is rewritten.
    board.setAppBehaviour({ networks: [QA_NETWORK] });
    await station.call('clearSlot', { slotId: 'slot-1' });
    await waitFor(() => state('slot-1').kind === 'detected', 'slot-1 detected again');
    await station.call('runSlot', { slotId: 'slot-1' });
    await waitFor(() => settled('slot-1'), 'slot-1 settled again');
    const again = state('slot-1');
    expect(again.kind === 'failed' ? again.error.message : again.kind).toBe('done');
    expect(logs.filter((l) => l.startsWith('slot 1: firmware on')).at(-1)).toMatch(/bootloader already there md5 [0-9a-f]{32}; partition-table already there md5 [0-9a-f]{32}; app already there md5/);
    expect(station.service.snapshot().stock.shift).toMatchObject({ done: 3, failed: 1 });
  });

  it('a cable pulled mid-flash fails the slot with CABLE_PULLED; no QA run is stored', async () => {
    // A fresh board (blank flash: the firmware must be written, not skipped by MD5).
    await station.rack.unplug('slot-2');
    await waitFor(() => state('slot-2').kind === 'empty', 'slot-2 empty');
    await station.rack.plug('slot-2');
    await waitFor(() => state('slot-2').kind === 'detected', 'slot-2 detected again');
    const runsBefore = (station.db.prepare("SELECT COUNT(*) AS n FROM test_runs WHERE slot_id = 'slot-2'").get() as { n: number }).n;
    let pulled = false;
    const stop = station.subscribe((event) => {
      if (event.type !== 'slot' || event.slot.id !== 'slot-2' || pulled) return;
      const st = event.slot.state;
      if (st.kind === 'flashing' && st.progress.phase === 'writing') {
        pulled = true;
        void station.rack.unplug('slot-2');
      }
    });
    await station.call('runSlot', { slotId: 'slot-2' });
    await waitFor(() => ['failed', 'empty', 'done'].includes(state('slot-2').kind), 'slot-2 settled');
    stop();
    expect(pulled).toBe(true);
    const s = state('slot-2');
    expect(s.kind === 'failed' ? s.error.code : s.kind).toBe('CABLE_PULLED');
    expect((station.db.prepare("SELECT COUNT(*) AS n FROM test_runs WHERE slot_id = 'slot-2'").get() as { n: number }).n).toBe(runsBefore);
    expect(station.service.snapshot().stock.shift).toMatchObject({ done: 3, failed: 2 });
  });
});
