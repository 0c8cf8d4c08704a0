import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlotState } from '../../common/slot-state.js';
import { startEmbeddedStation, type EmbeddedStation } from '../../app/embedded-station.js';
import { findNvsString } from '../../native/nvs/nvs-reader.js';

/**
 * The whole station (cloud pull, queue, engine, esptool-js, virtual boards, self-test, labels) with
 * eight boards provisioned at once: every slot ends done, each board holds its own token, no token
 * is in two boards, and the sheet holds one label per board in completion order.
 */
describe('eight slots at once', () => {
  let dir: string;
  let station: EmbeddedStation;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-8slots-'));
    station = await startEmbeddedStation({ dataDir: dir, slots: 8, virtualBoards: 8, boardTransport: 'in-process', batchSize: 20 });
  });

  afterAll(async () => {
    await station?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('provisions eight boards in parallel, each with its own token, labels in completion order', async () => {
    await waitFor(() => station.service.snapshot().slots.every((s) => s.state.kind === 'detected'));
    const completed: string[] = [];
    let finishedCount = 0;
    const finished = new Promise<void>((resolve) => {
      station.subscribe((e) => {
        if (e.type !== 'slot') return;
        const state = e.slot.state;
        // The board passed and its label is on the sheet: the operator scans it back.
        if (state.kind === 'awaiting-scan' && !state.mismatch) {
          completed.push(e.slot.id);
          void station.call('scanLabel', { slotId: e.slot.id, payload: `${state.token.qrToken}+${station.product.orgId}` });
        }
        if (state.kind === 'done' || state.kind === 'failed') {
          finishedCount += 1;
          if (finishedCount === 8) resolve();
        }
      });
    });
    for (let i = 1; i <= 8; i++) await station.call('runSlot', { slotId: `slot-${i}` });
    await finished;

    const states = station.service.snapshot().slots.map((s) => s.state);
    expect(states.map((s) => s.kind)).toEqual(Array(8).fill('done'));
    // AuthTokens are sealed at rest: the queue opens them.
    const rows = (
      station.db
        .prepare(`SELECT id, slot_id AS slotId, state, label_position AS position FROM tokens WHERE state <> 'available' ORDER BY id`)
        .all() as { id: number; slotId: string; state: string; position: number }[]
    ).map((r) => ({ ...r, authToken: station.queue.authTokenOf(r.id) }));
    expect(rows).toHaveLength(8);
    expect(new Set(rows.map((r) => r.authToken)).size).toBe(8);
    for (const row of rows) {
      expect(row.state).toBe('labelled');
      const board = station.rack.boardIn(row.slotId)!;
      expect(findNvsString(board.readFlash(station.product.nvs.offset, station.product.nvs.size), 'blynk', 'auth')).toBe(row.authToken);
    }
    // Sheet positions follow the order in which the slots finished.
    const byPosition = [...rows].sort((a, b) => a.position - b.position).map((r) => r.slotId);
    expect(byPosition).toEqual(completed);
    const done = states.filter((s): s is Extract<SlotState, { kind: 'done' }> => s.kind === 'done');
    expect(new Set(done.map((s) => s.board.mac)).size).toBe(8);
  }, 120_000);
});

async function waitFor(predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
