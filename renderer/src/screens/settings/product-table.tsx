import type { ReactElement } from 'react';
import type { BatchChoice, ProductListing } from '../../../../common/settings.js';

/** Every manifest on the station; one that does not load shows its error instead of hiding. */
export function ProductTable({ products, currentId }: { products: ProductListing[]; currentId: string }): ReactElement {
  return (
    <table className="settings-table" aria-label="Products" data-testid="product-table">
      <thead>
        <tr>
          <th scope="col">Product</th>
          <th scope="col">Chip</th>
          <th scope="col">Flash plan</th>
          <th scope="col">Payload</th>
          <th scope="col">Label stock</th>
          <th scope="col">Checks</th>
          <th scope="col">From</th>
        </tr>
      </thead>
      <tbody>
        {products.map((p) => (
          <tr key={`${p.source}/${p.file}`} data-testid="product-row" data-product={p.id} data-error={p.error ? 'true' : undefined} className={p.error ? 'broken' : p.id === currentId ? 'current' : undefined}>
            <th scope="row">
              {p.name ?? p.file}
              {p.id === currentId && !p.error ? <span className="tag"> in use</span> : null}
            </th>
            {p.error ? (
              <td colSpan={5} className="settings-error">
                {p.error}
              </td>
            ) : (
              <>
                <td>{p.chipFamilies.join(', ')}</td>
                <td>{p.flashPlan}</td>
                <td>{p.payloadKind}</td>
                <td>{p.labelStockId}</td>
                <td>{p.testChecks}</td>
              </>
            )}
            <td>{p.source === 'built-in' ? 'built-in' : 'data folder'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Batches in the queue; those of another template are listed as not usable for this product. */
export function BatchTable({ batches, chosenId }: { batches: BatchChoice[]; chosenId: string | null }): ReactElement {
  return (
    <table className="settings-table" aria-label="Batches in the queue" data-testid="settings-batch-table">
      <thead>
        <tr>
          <th scope="col">Batch</th>
          <th scope="col">Pulled</th>
          <th scope="col">Left</th>
          <th scope="col">Template</th>
          <th scope="col">For this product</th>
        </tr>
      </thead>
      <tbody>
        {batches.length === 0 ? (
          <tr>
            <td colSpan={5}>No batches yet.</td>
          </tr>
        ) : (
          batches.map((b) => (
            <tr key={b.id} data-testid="settings-batch-row" data-batch={b.id} className={b.id === chosenId ? 'current' : undefined}>
              <th scope="row" className="mono">
                {b.id}
                {b.id === chosenId ? <span className="tag"> chosen</span> : null}
              </th>
              <td>{new Date(b.pulledAt).toLocaleString()}</td>
              <td>{`${b.available} of ${b.tokenCount}`}</td>
              <td>{b.templateId}</td>
              <td>{b.usable ? 'usable' : 'another template — never used'}</td>
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}
