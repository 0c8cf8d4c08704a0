import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProductCatalog, productSources } from '../../../core/product/product-catalog.js';
import { SECOND_PRODUCT, writeExtraProducts } from '../../support/extra-products.js';

describe('product catalog', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-catalog-'));
    writeExtraProducts(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists built-in manifests first, then the data folder, each with its facts or its error', () => {
    writeFileSync(join(dir, 'products', 'not-json.json'), '{ nope');
    const listings = loadProductCatalog(productSources(dir), 'full').map((e) => e.listing);
    // Built-in ones (whatever resources/products holds) come first, then the data folder's, by file name.
    const firstData = listings.findIndex((l) => l.source === 'data');
    expect(listings.slice(0, firstData).every((l) => l.source === 'built-in')).toBe(true);
    expect(listings.slice(firstData).map((l) => [l.source, l.file])).toEqual([
      ['data', 'broken-gadget.json'],
      ['data', `${SECOND_PRODUCT.id}.json`],
      ['data', 'not-json.json'],
    ]);
    expect(listings.find((l) => l.id === 'demo-thermostat')).toMatchObject({ source: 'built-in', flashPlan: 'full', chipFamilies: ['ESP32'], payloadKind: 'nvs (edgent)', labelStockId: 'a4-3x8', testChecks: 6, error: null });
    expect(listings.at(-1)).toMatchObject({ id: 'not-json', name: null, error: expect.stringMatching(/not readable JSON/) });
  });

  it('refuses a second manifest with an id already taken, keeping the first', () => {
    copyFileSync(join(dir, 'products', `${SECOND_PRODUCT.id}.json`), join(dir, 'products', 'zz-copy.json'));
    const entries = loadProductCatalog(productSources(dir), 'token-only');
    const copies = entries.filter((e) => e.listing.id === SECOND_PRODUCT.id);
    expect(copies.map((e) => [e.listing.file, e.product !== null])).toEqual([
      [`${SECOND_PRODUCT.id}.json`, true],
      ['zz-copy.json', false],
    ]);
    expect(copies[1]!.listing.error).toMatch(/already uses the product id/);
  });

  it('has no data-folder products when the folder has none', () => {
    const entries = loadProductCatalog(productSources(join(dir, 'elsewhere')), 'token-only');
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.listing.source === 'built-in')).toBe(true);
  });
});
