import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStation, type EmbeddedStation } from '../../app/embedded-station.js';

async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The whole station with the embedded cloud: the demo cloud sensor's cloud check (its virtual board
 * connects to the cloud with the token it was just given), and the demo Wi-Fi lamp's dynamic QA
 * through the `qaDynamic` command.
 */
describe('QA with the cloud, end to end in the embedded station', () => {
  describe('static-token product with a cloud check (demo cloud sensor)', () => {
    let dir: string;
    let station: EmbeddedStation;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'flashline-qa-cloud-'));
      station = await startEmbeddedStation({ dataDir: dir, slots: 1, virtualBoards: 1, boardTransport: 'in-process', batchSize: 5, productId: 'demo-cloud-sensor' });
    });
    afterAll(async () => {
      await station?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the board comes online in the cloud before its label; the run holds the cloud check', async () => {
      await waitFor(() => station.service.snapshot().slots[0]!.state.kind === 'detected');
      await station.call('runSlot', { slotId: 'slot-1' });
      await waitFor(() => ['awaiting-scan', 'failed'].includes(station.service.snapshot().slots[0]!.state.kind));
      const state = station.service.snapshot().slots[0]!.state;
      expect(state.kind === 'failed' ? state.error.message : state.kind).toBe('awaiting-scan');
      const history = await station.call('qaLookup', { code: 'slot-1' });
      const cloud = history.testRuns[0]!.checks.find((c) => c.check === 'cloud');
      expect(cloud).toMatchObject({ ok: true, value: `online, unclaimed in org ${station.product.orgId}` });
      expect(station.rack.boardIn('slot-1')?.cloudOnline).toBe(true);
      expect(history.audit.some((a) => a.toState === 'verified' && a.detail?.includes('cloud online, unclaimed'))).toBe(true);
    });

    it('a re-test of a board that was probed again (left in its ROM bootloader) resets it into its app first', async () => {
      const state = station.service.snapshot().slots[0]!.state;
      if (state.kind !== 'awaiting-scan') throw new Error(`slot is ${state.kind}`);
      await station.call('scanLabel', { slotId: 'slot-1', payload: `${state.token.qrToken}+${station.product.orgId}` });
      // The operator acknowledges the slot: the board is probed again, as a board plugged in for QA is.
      await station.call('clearSlot', { slotId: 'slot-1' });
      await waitFor(() => station.service.snapshot().slots[0]!.state.kind === 'done');
      expect(station.rack.boardIn('slot-1')!.mode).toBe('download');
      const result = await station.call('qaRetest', { slotId: 'slot-1' });
      expect(result.reason).toBeNull();
      expect(result.history.testRuns.map((r) => [r.kind, r.ok])).toEqual([
        ['provision', true],
        ['retest', true],
      ]);
    });
  });

  describe('dynamic-token product (demo Wi-Fi lamp)', () => {
    let dir: string;
    let station: EmbeddedStation;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'flashline-qa-dynamic-'));
      station = await startEmbeddedStation({ dataDir: dir, slots: 1, virtualBoards: 1, boardTransport: 'in-process', batchSize: 5, productId: 'demo-wifi-lamp' });
    });
    afterAll(async () => {
      await station?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    // The line flow of a dynamic product (runSlot: firmware, dynamic QA, factory reset, no token,
    // no label) is tested in test/app/dynamic-line.test.ts.

    it('qaDynamic resets the probed board into its app, provisions, brings it online, erases it, and stores the run', async () => {
      await waitFor(() => station.service.snapshot().slots[0]!.state.kind === 'detected');
      const board = station.rack.boardIn('slot-1')!;
      // The probe left it in its ROM bootloader: dynamic QA must reset it into its app first.
      expect(board.mode).toBe('download');
      const result = await station.call('qaDynamic', { slotId: 'slot-1' });
      expect(result.reason).toBeNull();
      expect(result.ok).toBe(true);
      expect(result.run).toMatchObject({ kind: 'dynamic', slotId: 'slot-1', ok: true });
      expect(result.run.checks.map((c) => c.check)).toEqual([
        'improv_state', 'improv_info', 'wifi_provision', 'provisioned', 'cloud_token', 'cloud_online', 'config_erase', 'unconfigured', 'cloud_removed',
      ]);
      // Nothing of QA is left in the board: no Wi-Fi, no cloud session.
      expect(board.storedWifi).toBeNull();
      expect(board.cloudOnline).toBe(false);
      const stored = station.db.prepare("SELECT kind, ok FROM test_runs WHERE kind = 'dynamic'").all();
      expect(stored).toEqual([{ kind: 'dynamic', ok: 1 }]);
    });
  });
});
