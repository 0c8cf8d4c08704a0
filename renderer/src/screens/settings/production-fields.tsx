import type { ReactElement } from 'react';
import type { SettingsView } from '../../../../common/settings.js';

export interface ProductionFieldsProps {
  view: SettingsView;
  productId: string;
  /** '' means no preferred batch: the oldest usable batch first. */
  batchId: string;
  onChange: (next: { productId: string; batchId: string }) => void;
  disabled: boolean;
  /** Keeps ids unique when two pickers could exist (settings screen, first-time step). */
  idPrefix: string;
}

/** Product and batch pickers: products that fail to load are shown but cannot be picked. */
export function ProductionFields({ view, productId, batchId, onChange, disabled, idPrefix }: ProductionFieldsProps): ReactElement {
  const usable = view.batches.filter((b) => b.usable);
  return (
    <div className="production-fields">
      <label htmlFor={`${idPrefix}-product`}>Product</label>
      <select id={`${idPrefix}-product`} data-testid={`${idPrefix}-product`} value={productId} disabled={disabled} onChange={(e) => onChange({ productId: e.target.value, batchId })}>
        {view.products.map((p) => (
          <option key={`${p.source}/${p.file}`} value={p.id} disabled={p.error !== null}>
            {p.error === null ? `${p.name ?? p.id} — ${p.chipFamilies.join(', ')}` : `${p.file} (cannot load)`}
          </option>
        ))}
      </select>
      <label htmlFor={`${idPrefix}-batch`}>Batch</label>
      <select id={`${idPrefix}-batch`} data-testid={`${idPrefix}-batch`} value={batchId} disabled={disabled} onChange={(e) => onChange({ productId, batchId: e.target.value })}>
        <option value="">No preference (oldest first)</option>
        {usable.map((b) => (
          <option key={b.id} value={b.id}>
            {`${b.id} — ${b.available} of ${b.tokenCount} left`}
          </option>
        ))}
      </select>
    </div>
  );
}
