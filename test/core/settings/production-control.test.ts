import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SlotView } from '../../../common/slot-state.js';
import { openStationDatabase, type StationDatabase } from '../../../core/db/open-database.js';
import { defaultProductManifestPath, loadProductManifest } from '../../../core/product/manifest.js';
import { loadProductCatalog, productSources } from '../../../core/product/product-catalog.js';
import { ProductLine } from '../../../core/product/product-line.js';
import { TokenQueue } from '../../../core/queue/token-queue.js';
import { ProductionControl } from '../../../core/settings/production-control.js';
import { StationSettings } from '../../../core/settings/station-settings.js';
import { SECOND_PRODUCT, writeExtraProducts } from '../../support/extra-products.js';

const BOARD = { port: '/dev/ttyUSB0', location: '1-1.2', chipFamily: 'ESP32', mac: 'aa:bb:cc:dd:ee:ff' };
const TOKEN = { id: 1, qrToken: 'sqr_x' };

function slot(kind: string): SlotView {
  const state = { kind, board: BOARD, token: TOKEN, progress: { bytesWritten: 0, bytesTotal: 1, phase: 'write' }, label: { sheetId: 'S', position: 0 } };
  return { id: 'slot-2', index: 2, state } as unknown as SlotView;
}

describe('ProductionControl', () => {
  let dir: string;
  let db: StationDatabase;
  let queue: TokenQueue;
  let line: ProductLine;
  let slots: SlotView[];
  let control: ProductionControl;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-production-'));
    writeExtraProducts(dir);
    db = openStationDatabase(join(dir, 'station.db'));
    queue = new TokenQueue(db);
    line = new ProductLine({ templateId: '11', orgId: 5, plan: 'token-only' }, loadProductManifest(defaultProductManifestPath()));
    slots = [];
    control = new ProductionControl({
      db,
      settings: new StationSettings(db),
      line,
      queue,
      catalog: () => loadProductCatalog(productSources(dir), 'token-only'),
      slots: () => slots,
      defaultProductId: 'demo-thermostat',
      slotCount: 2,
      printer: () => 'folder',
      autoRunDefault: false,
    });
    control.restore();
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['probing', 'flashing', 'testing', 'labelling', 'awaiting-scan'])('refuses a product switch while a slot is %s', (kind) => {
    slots = [slot(kind)];
    expect(() => control.update({ productId: SECOND_PRODUCT.id }, 'supervisor')).toThrow(expect.objectContaining({ code: 'BUSY', message: expect.stringContaining(`slot 2 (${kind})`) }));
    expect(line.product.id).toBe('demo-thermostat');
    expect(new StationSettings(db).get('productId')).toBeUndefined();
  });

  it.each(['empty', 'detected', 'done', 'failed'])('switches while the only slot is %s, and the live view follows', (kind) => {
    slots = [slot(kind)];
    const held = line.product;
    control.update({ productId: SECOND_PRODUCT.id }, 'supervisor');
    expect(held.name).toBe(SECOND_PRODUCT.name);
    expect(held.labelStockId).toBe(SECOND_PRODUCT.labelStock);
    expect({ ...held }).toMatchObject({ id: SECOND_PRODUCT.id, templateId: '11', orgId: 5, plan: 'token-only' });
  });

  it('refuses a broken or unknown product with its reason, and a label stock that does not exist', () => {
    expect(() => control.update({ productId: 'broken-gadget' }, 'supervisor')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('missing-app.bin') }));
    expect(() => control.update({ productId: 'nope' }, 'supervisor')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => control.update({ labelStockId: 'no-such-stock' }, 'supervisor')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('overrides the label stock until the product changes, and falls back to the default when the stored product stops loading', () => {
    control.update({ labelStockId: 'roll-62x29' }, 'supervisor');
    expect(line.product.labelStockId).toBe('roll-62x29');
    expect(control.view().settings).toMatchObject({ labelStockId: 'roll-62x29', productLabelStockId: 'a4-3x8' });
    control.update({ productId: SECOND_PRODUCT.id }, 'supervisor');
    expect(line.product.labelStockId).toBe(SECOND_PRODUCT.labelStock);
    // The stored product's manifest breaks (deleted here): the next start uses the default product.
    rmSync(join(dir, 'products', `${SECOND_PRODUCT.id}.json`));
    const fresh = new ProductLine({ templateId: '11', orgId: 5, plan: 'token-only' }, loadProductManifest(defaultProductManifestPath()));
    new ProductionControl({
      db,
      settings: new StationSettings(db),
      line: fresh,
      queue,
      catalog: () => loadProductCatalog(productSources(dir), 'token-only'),
      slots: () => [],
      defaultProductId: 'demo-thermostat',
      slotCount: 2,
      printer: () => 'folder',
      autoRunDefault: false,
    }).restore();
    expect(fresh.product.id).toBe('demo-thermostat');
  });

  it('orders reservations: the chosen batch first, then the oldest of the same template; never another template', () => {
    const tokens = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ authToken: `${prefix}${'A'.repeat(31)}${i}`, qrToken: `sqr_${prefix}_${i}` }));
    queue.importBatch({ batchId: 'old', cloudBatchId: 'old', templateId: '11', orgId: 5, tokens: tokens('o', 2) });
    queue.importBatch({ batchId: 'other-template', cloudBatchId: 'x', templateId: '12', orgId: 5, tokens: tokens('x', 2) });
    queue.importBatch({ batchId: 'other-org', cloudBatchId: 'y', templateId: '11', orgId: 6, tokens: tokens('y', 2) });
    queue.importBatch({ batchId: 'new', cloudBatchId: 'new', templateId: '11', orgId: 5, tokens: tokens('n', 2) });
    control.restore();
    expect(queue.stock().available).toBe(4);
    expect(queue.reserve('slot-1', 'p').batchId).toBe('old');
    control.update({ batchId: 'new' }, 'supervisor');
    expect(() => control.update({ batchId: 'other-template' }, 'supervisor')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => control.update({ batchId: 'other-org' }, 'supervisor')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(control.headerBatchId()).toBe('new');
    const header: (string | null)[] = [];
    const order = [1, 2, 3, 4].map(() => {
      try {
        header.push(control.headerBatchId());
        return queue.reserve('slot-1', 'p').batchId;
      } catch (err) {
        return (err as { code: string }).code;
      }
    });
    expect(order).toEqual(['new', 'new', 'old', 'NO_TOKENS_AVAILABLE']);
    // The header names where the next token comes from; with nothing left, the chosen batch.
    expect(header).toEqual(['new', 'new', 'old', 'new']);
    expect(control.headerBatchId()).toBe('new');
    expect(control.view().batches.filter((b) => !b.usable).map((b) => [b.id, b.available])).toEqual([
      ['other-template', 2],
      ['other-org', 2],
    ]);
  });
});
