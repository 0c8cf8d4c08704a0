import { useState, type ReactElement } from 'react';
import type { BatchView } from '../../../../common/api.js';
import { base64ToBytes, downloadBlob, type SupervisorCall, type SupervisorMessage } from './supervisor-call.js';

/**
 * Download a batch as a zip in Blynk's export shape: a CSV of QR tokens and payloads, and a QR
 * PNG per token. Without AuthTokens: they never leave the station through the screen (the CLI's
 * `flashline batch export` writes the full file on the station's own disk).
 */
export function BatchExportPanel({ call, busy, batches, onMessage }: { call: SupervisorCall; busy: boolean; batches: readonly BatchView[]; onMessage: SupervisorMessage }): ReactElement {
  const [chosen, setChosen] = useState('');
  const batchId = chosen !== '' && batches.some((b) => b.id === chosen) ? chosen : (batches[batches.length - 1]?.id ?? '');
  const download = async () => {
    const r = await call('exportBatchZip', { batchId });
    if (!r) return;
    downloadBlob(new Blob([base64ToBytes(r.zipBase64)], { type: 'application/zip' }), r.fileName);
    onMessage({ kind: 'ok', text: `Downloaded ${r.fileName}: ${r.tokens} QR codes (no AuthTokens).` });
  };
  return (
    <section className="panel" aria-labelledby="export-heading" data-testid="batch-export-panel">
      <h3 id="export-heading">Export a batch</h3>
      <p className="hint">A zip of the batch's QR codes (PNG) and a CSV of QR tokens, for labels and records. AuthTokens are not included.</p>
      <form
        aria-label="Export a batch"
        onSubmit={(e) => {
          e.preventDefault();
          if (batchId) void download();
        }}
      >
        <label htmlFor="export-batch">Batch to export</label>
        <select id="export-batch" data-testid="export-batch" value={batchId} onChange={(e) => setChosen(e.target.value)} disabled={batches.length === 0}>
          {batches.map((b) => (
            <option key={b.id} value={b.id}>
              {b.id} ({b.tokenCount} tokens)
            </option>
          ))}
        </select>
        <button type="submit" disabled={busy || !batchId}>
          Download batch zip
        </button>
      </form>
    </section>
  );
}
