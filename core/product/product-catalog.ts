import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ProductListing } from '../../common/settings.js';
import { StationError } from '../../common/errors.js';
import { defaultProductManifestPath, loadProductManifest, type LoadedProduct } from './manifest.js';

/** Where manifests are looked for: the shipped ones first, then the data folder's own. */
export interface ProductSource {
  dir: string;
  source: ProductListing['source'];
}

/** A manifest file and what loading it gave: the product, or the one sentence why not. */
export interface CatalogEntry {
  listing: ProductListing;
  path: string;
  product: LoadedProduct | null;
}

/** resources/products, found the same way as the demo manifest (source tree or build output). */
export function builtInProductsDir(): string {
  return dirname(defaultProductManifestPath());
}

/** The manifests a station may build, in the order: built-in (by file name), then the data folder's. */
export function productSources(dataDir: string | null): ProductSource[] {
  return [{ dir: builtInProductsDir(), source: 'built-in' }, ...(dataDir ? [{ dir: join(dataDir, 'products'), source: 'data' as const }] : [])];
}

/**
 * Loads every `*.json` in the sources. A manifest that fails to load (bad JSON, schema, missing
 * firmware, an id already taken) is listed with its error, never hidden, and never chosen.
 */
export function loadProductCatalog(sources: readonly ProductSource[], plan: ProductListing['flashPlan']): CatalogEntry[] {
  const entries: CatalogEntry[] = [];
  const taken = new Set<string>();
  for (const { dir, source } of sources) {
    if (!existsSync(dir)) continue;
    const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    for (const file of files) {
      const path = join(dir, file);
      const stem = basename(file, '.json');
      const base: ProductListing = { id: stem, file, source, name: null, chipFamilies: [], flashPlan: plan, payloadKind: null, labelStockId: null, testChecks: null, error: null };
      try {
        const product = loadProductManifest(path);
        const listing: ProductListing = {
          ...base,
          id: product.id,
          name: product.name,
          chipFamilies: product.builds.map((b) => b.chipFamily),
          payloadKind: payloadKindOf(product),
          labelStockId: product.labelStockId,
          testChecks: product.testPlan.checks.length,
        };
        if (taken.has(product.id)) {
          entries.push({ listing: { ...listing, error: `Another manifest already uses the product id "${product.id}"; rename one.` }, path, product: null });
          continue;
        }
        taken.add(product.id);
        entries.push({ listing, path, product });
      } catch (err) {
        const message = err instanceof StationError ? err.message : `The manifest could not be read (${err instanceof Error ? err.message : String(err)}).`;
        entries.push({ listing: { ...base, error: message }, path, product: null });
      }
    }
  }
  return entries;
}

function payloadKindOf(product: LoadedProduct): string {
  const kinds = new Set(product.builds.map((b) => (b.tokenPayload.kind === 'nvs' ? `nvs (${b.tokenPayload.schema})` : b.tokenPayload.kind)));
  return [...kinds].join(', ');
}
