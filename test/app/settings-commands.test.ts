import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StationEvent } from '../../common/api.js';
import type { SlotState } from '../../common/slot-state.js';
import { startEmbeddedStation, type EmbeddedStation } from '../../app/embedded-station.js';
import { SECOND_PRODUCT, writeExtraProducts } from '../support/extra-products.js';

const PIN = '246810';
const WAIT_MS = 20_000;

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const until = Date.now() + WAIT_MS;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function slotState(station: EmbeddedStation, slotId: string): SlotState {
  return station.service.snapshot().slots.find((s) => s.id === slotId)!.state;
}

/** Runs the board in slot-1 up to its label scan; returns the reserved token's id. */
async function runToAwaitingScan(station: EmbeddedStation): Promise<number> {
  await waitFor(() => slotState(station, 'slot-1').kind === 'detected', 'slot-1 detected');
  await station.call('runSlot', { slotId: 'slot-1' });
  await waitFor(() => ['awaiting-scan', 'failed'].includes(slotState(station, 'slot-1').kind), 'slot-1 awaiting its scan');
  const state = slotState(station, 'slot-1');
  if (state.kind !== 'awaiting-scan') throw new Error(`slot-1 ended ${state.kind}: ${JSON.stringify(state)}`);
  return state.token.id;
}

async function scanAndClear(station: EmbeddedStation): Promise<void> {
  const state = slotState(station, 'slot-1');
  if (state.kind !== 'awaiting-scan') throw new Error('nothing to scan');
  await station.call('scanLabel', { slotId: 'slot-1', payload: `${state.token.qrToken}+${station.product.orgId}` });
  await waitFor(() => slotState(station, 'slot-1').kind === 'done', 'slot-1 done');
}

describe('settings: product and batch choice, the supervisor lock, persistence', () => {
  let dir: string;
  let station: EmbeddedStation;
  const events: StationEvent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-settings-'));
    writeExtraProducts(dir);
    station = await startEmbeddedStation({ dataDir: dir, slots: 1, virtualBoards: 1, boardTransport: 'in-process', batchSize: 10, supervisorPin: PIN });
    station.subscribe((e) => events.push(e));
  });

  afterAll(async () => {
    await station?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists every manifest (a broken one with its error) and the batches with stock', async () => {
    const view = await station.call('getSettings', {});
    expect(view.settings).toMatchObject({ productId: 'demo-thermostat', productionChosen: false, batchId: null, slotCount: 1, sounds: true, autoRun: false });
    const byId = new Map(view.products.map((p) => [p.id, p]));
    expect(byId.get('demo-thermostat')).toMatchObject({ source: 'built-in', name: 'Demo Thermostat', chipFamilies: ['ESP32'], payloadKind: 'nvs (edgent)', flashPlan: 'token-only', error: null });
    expect(byId.get(SECOND_PRODUCT.id)).toMatchObject({ source: 'data', name: SECOND_PRODUCT.name, labelStockId: SECOND_PRODUCT.labelStock, error: null });
    expect(byId.get('broken-gadget')).toMatchObject({ source: 'data', name: null });
    expect(byId.get('broken-gadget')!.error).toMatch(/missing-app\.bin/);
    expect(view.batches).toHaveLength(1);
    expect(view.batches[0]).toMatchObject({ available: 10, tokenCount: 10, usable: true });
    expect(station.service.snapshot().station).toMatchObject({ productId: 'demo-thermostat', productionChosen: false, batchId: view.batches[0]!.id });
  });

  it('lets the line choose once; after that every change needs a supervisor session (enforced in the service)', async () => {
    const firstBatch = (await station.call('getSettings', {})).batches[0]!.id;
    await expect(station.call('chooseProduction', { productId: 'broken-gadget', batchId: null })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const chosen = await station.call('chooseProduction', { productId: 'demo-thermostat', batchId: firstBatch });
    expect(chosen.settings).toMatchObject({ productionChosen: true, batchId: firstBatch });
    expect(events.some((e) => e.type === 'snapshot' && e.snapshot.station.productionChosen === true)).toBe(true);

    await expect(station.call('chooseProduction', { productId: SECOND_PRODUCT.id, batchId: null })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(station.call('updateSettings', { session: 'x'.repeat(32), autoRun: true })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(station.call('updateSettings', { autoRun: true } as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await station.call('getSettings', {})).settings.autoRun).toBe(false);

    const { session } = await station.call('supervisorLogin', { pin: PIN });
    // With a supervisor session the same command works again (and changes nothing here).
    expect((await station.call('chooseProduction', { productId: 'demo-thermostat', batchId: firstBatch, session })).settings.batchId).toBe(firstBatch);
    const changed = await station.call('updateSettings', { session, lowStockThreshold: 7, sounds: false });
    expect(changed.settings).toMatchObject({ lowStockThreshold: 7, sounds: false });
    expect(station.service.snapshot().stock.lowStockAt).toBe(7);
    expect(station.service.snapshot().station.sounds).toBe(false);
    const audit = station.db.prepare("SELECT detail FROM audit_log WHERE event = 'setting-changed' ORDER BY id").all() as { detail: string }[];
    expect(audit.map((a) => a.detail)).toEqual([
      expect.stringMatching(/^productId: \(unset\) -> "demo-thermostat" by line worker \(first-time setup\)$/),
      expect.stringMatching(/^batchId: \(unset\) -> ".+" by line worker/),
      expect.stringMatching(/^productionChosen: \(unset\) -> true by line worker/),
      'lowStockThreshold: (unset) -> 7 by supervisor',
      'sounds: (unset) -> false by supervisor',
    ]);
  });

  it('refuses a product switch while a slot is at work, and while labels wait to print; then switches', async () => {
    const { session } = await station.call('supervisorLogin', { pin: PIN });
    await runToAwaitingScan(station);
    await expect(station.call('updateSettings', { session, productId: SECOND_PRODUCT.id })).rejects.toMatchObject({
      code: 'BUSY',
      message: expect.stringMatching(/slot 1 \(awaiting-scan\).*before switching the product/),
    });
    expect(station.product.id).toBe('demo-thermostat');
    // Settings that do not touch the board in work are fine meanwhile.
    await station.call('updateSettings', { session, autoRun: false });
    await scanAndClear(station);
    await expect(station.call('updateSettings', { session, productId: SECOND_PRODUCT.id })).rejects.toMatchObject({
      code: 'BUSY',
      message: expect.stringMatching(/not printed yet: print them/),
    });
    await station.call('printSheet', {});
    const oldSheet = station.service.snapshot().sheet!.id;
    const switched = await station.call('updateSettings', { session, productId: SECOND_PRODUCT.id });
    expect(switched.settings).toMatchObject({ productId: SECOND_PRODUCT.id, productName: SECOND_PRODUCT.name, labelStockId: SECOND_PRODUCT.labelStock });
    expect(station.product.name).toBe(SECOND_PRODUCT.name);
    expect(station.service.snapshot().station.productName).toBe(SECOND_PRODUCT.name);
    // The old sheet keeps its own stock (the paper it was printed on): 24 labels, not the new 30.
    expect(station.service.snapshot().sheet).toMatchObject({ id: oldSheet, capacity: 24 });

    // The next board is built as the new product: its label goes onto a fresh sheet of its stock.
    await station.call('clearSlot', { slotId: 'slot-1' });
    await station.call('unplugVirtualBoard', { slotId: 'slot-1' });
    await station.call('plugVirtualBoard', { slotId: 'slot-1' });
    await runToAwaitingScan(station);
    const sheet = station.service.snapshot().sheet!;
    expect(sheet.id).not.toBe(oldSheet);
    expect(sheet.capacity).toBe(30);
    const stock = station.db.prepare('SELECT stock_id AS stock FROM sheets WHERE id = ?').get(sheet.id) as { stock: string };
    expect(stock.stock).toBe(SECOND_PRODUCT.labelStock);
    await scanAndClear(station);
    await station.call('printSheet', {});
  });

  it('reserves from the chosen batch first, and never from a batch of another template', async () => {
    const { session } = await station.call('supervisorLogin', { pin: PIN });
    const pulled = await station.call('pullBatch', { session, count: 3 });
    // A batch of another cloud template (another product line) sits in the same queue.
    station.queue.importBatch({ batchId: 'foreign-1', cloudBatchId: 'foreign-1', templateId: '999999', orgId: station.product.orgId, tokens: [{ authToken: 'F'.repeat(32), qrToken: 'sqr_foreign_0001' }] });
    const view = await station.call('getSettings', {});
    expect(view.batches.find((b) => b.id === 'foreign-1')).toMatchObject({ usable: false, available: 1 });
    await expect(station.call('updateSettings', { session, batchId: 'foreign-1' })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/another template/) });
    await expect(station.call('updateSettings', { session, batchId: 'no-such-batch' })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    await station.call('updateSettings', { session, batchId: pulled.batchId });
    expect(station.service.snapshot().station.batchId).toBe(pulled.batchId);
    await station.call('clearSlot', { slotId: 'slot-1' });
    await station.call('unplugVirtualBoard', { slotId: 'slot-1' });
    await station.call('plugVirtualBoard', { slotId: 'slot-1' });
    const tokenId = await runToAwaitingScan(station);
    // The chosen batch is the newest: without the preference the oldest token would have come first.
    expect(station.queue.get(tokenId).batchId).toBe(pulled.batchId);
    await scanAndClear(station);

    // The foreign token is not counted as stock and never handed out.
    const usable = view.batches.filter((b) => b.usable).reduce((n, b) => n + b.available, 0) - 1;
    expect(station.queue.stock().available).toBe(usable);
    for (let i = 0; i < usable; i++) station.queue.reserve('slot-1', `drain-${i}`);
    expect(() => station.queue.reserve('slot-1', 'drain-last')).toThrow(expect.objectContaining({ code: 'NO_TOKENS_AVAILABLE' }));
    expect(station.queue.findByQrToken('sqr_foreign_0001')?.state).toBe('available');
  });

  it('restores product, batch and switches after a restart', async () => {
    const before = await station.call('getSettings', {});
    await station.close();
    station = await startEmbeddedStation({ dataDir: dir, slots: 1, virtualBoards: 0, boardTransport: 'in-process', batchSize: 10, supervisorPin: PIN, syncIntervalMs: 60_000 });
    const after = await station.call('getSettings', {});
    expect(after.settings).toEqual(before.settings);
    expect(after.settings).toMatchObject({ productId: SECOND_PRODUCT.id, productionChosen: true, lowStockThreshold: 7, sounds: false });
    expect(station.product.name).toBe(SECOND_PRODUCT.name);
    // The chosen batch was drained above and the start pulled a fresh one: the header names the
    // batch the next token comes from.
    const fresh = after.batches.filter((b) => b.usable && b.available > 0);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]!.id).not.toBe(before.settings.batchId);
    expect(station.service.snapshot().station).toMatchObject({ productName: SECOND_PRODUCT.name, productionChosen: true, batchId: fresh[0]!.id });
    expect(station.service.snapshot().stock.lowStockAt).toBe(7);
  });
});
