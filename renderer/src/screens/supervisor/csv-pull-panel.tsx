import { useState, type ReactElement } from 'react';
import type { CsvPullPreview } from '../../../../common/api.js';
import { bytesToBase64, CSV_PULL_BYTES_MAX, type SupervisorCall, type SupervisorMessage } from './supervisor-call.js';

interface LoadedFile {
  fileName: string;
  csvBase64: string;
}

/**
 * Pull a batch from a CSV (one token per row): choose the file, map each CSV header to a template
 * field (or ignore it) while the first rows and every problem are shown, then confirm. Nothing is
 * pulled before the confirmation, and the station checks the file again when it comes.
 */
export function CsvPullPanel({ call, busy, onMessage }: { call: SupervisorCall; busy: boolean; onMessage: SupervisorMessage }): ReactElement {
  const [file, setFile] = useState<LoadedFile | null>(null);
  const [remap, setRemap] = useState<Record<string, string | null>>({});
  const [preview, setPreview] = useState<CsvPullPreview | null>(null);
  const [inputKey, setInputKey] = useState(0);

  const reset = () => {
    setFile(null);
    setPreview(null);
    setRemap({});
    setInputKey((k) => k + 1);
  };

  const check = async (loaded: LoadedFile, map: Record<string, string | null>) => {
    const result = await call('previewCsvPull', { ...loaded, remap: map });
    setPreview(result);
    return result;
  };

  const choose = async (chosen: File | undefined) => {
    setPreview(null);
    if (!chosen) return;
    if (chosen.size > CSV_PULL_BYTES_MAX) {
      onMessage({ kind: 'error', text: `The CSV file "${chosen.name}" is ${chosen.size} bytes; at most ${CSV_PULL_BYTES_MAX} are accepted. Nothing was pulled.` });
      return;
    }
    const loaded = { fileName: chosen.name, csvBase64: bytesToBase64(new Uint8Array(await chosen.arrayBuffer())) };
    setFile(loaded);
    // First the headers as they are, then every header made explicit: a field of the same name,
    // else ignored; the supervisor changes the mapping below.
    const first = await check(loaded, {});
    if (!first) return;
    const explicit = Object.fromEntries(first.headers.map((h) => [h, first.mapping[h] ?? null]));
    setRemap(explicit);
    await check(loaded, explicit);
  };

  const remapTo = (header: string, field: string) => {
    if (!file) return;
    const next = { ...remap, [header]: field === '' ? null : field };
    setRemap(next);
    void check(file, next);
  };

  const confirm = async () => {
    if (!file || !preview?.acceptable) return;
    const r = await call('pullBatchCsv', { ...file, remap });
    if (r) {
      onMessage({ kind: 'ok', text: `Pulled batch ${r.batchId} from ${file.fileName}: ${r.imported} tokens.` });
      reset();
    }
  };

  return (
    <section className="panel csv-pull" aria-labelledby="csv-pull-heading" data-testid="csv-pull-panel">
      <h3 id="csv-pull-heading">Pull a batch from a CSV</h3>
      <p className="hint">One token per row: serial numbers, MACs or names. The header row names the columns.</p>
      <label htmlFor="csv-pull-file">CSV file to pull from</label>
      <input key={inputKey} id="csv-pull-file" data-testid="csv-pull-file" type="file" accept=".csv,text/csv" disabled={busy} onChange={(e) => void choose(e.target.files?.[0])} />
      {preview && file ? (
        <>
          <p data-testid="csv-pull-summary">
            {preview.fileName}: {preview.rowCount} row{preview.rowCount === 1 ? '' : 's'} → {preview.rowCount} token{preview.rowCount === 1 ? '' : 's'}
          </p>
          <div className="csv-preview-scroll">
            <table className="csv-preview" aria-label="CSV columns and first rows">
              <thead>
                <tr>
                  <th scope="col">Row</th>
                  {preview.headers.map((h) => (
                    <th key={h} scope="col">
                      {h}
                    </th>
                  ))}
                </tr>
                <tr>
                  <th scope="row">Field</th>
                  {preview.headers.map((h, i) => (
                    <td key={h}>
                      <select aria-label={`Template field for column ${h}`} data-testid={`csv-remap-${i}`} value={remap[h] ?? ''} disabled={busy} onChange={(e) => remapTo(h, e.target.value)}>
                        <option value="">(ignore)</option>
                        {preview.fields.map((f) => (
                          <option key={f} value={f}>
                            {f}
                          </option>
                        ))}
                      </select>
                    </td>
                  ))}
                </tr>
              </thead>
              <tbody>
                {preview.sample.map((cells, r) => (
                  <tr key={r}>
                    <th scope="row">{r + 2}</th>
                    {cells.map((c, i) => (
                      <td key={i}>{c}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {preview.problems.length > 0 || preview.rowErrorCount > 0 ? (
            <div role="alert" className="csv-problems" data-testid="csv-pull-problems">
              <p>
                Fix {preview.problems.length + preview.rowErrorCount === 1 ? 'this problem' : `these ${preview.problems.length + preview.rowErrorCount} problems`} in the file (or the
                mapping) and choose it again; nothing is pulled until then.
              </p>
              <ul>
                {preview.problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
                {preview.rowErrors.map((e, i) => (
                  <li key={`row-${i}`} data-testid="csv-row-error">
                    Row {e.row}
                    {e.column !== undefined ? `, column “${e.column}”` : ''}: {e.message}
                  </li>
                ))}
              </ul>
              {preview.rowErrorCount > preview.rowErrors.length ? <p>…and {preview.rowErrorCount - preview.rowErrors.length} more row problems.</p> : null}
            </div>
          ) : (
            <p role="status" data-testid="csv-pull-ready">
              Every row fits the template.
            </p>
          )}
          <div className="actions">
            <button type="button" onClick={() => void confirm()} disabled={busy || !preview.acceptable}>
              Pull {preview.rowCount} tokens from CSV
            </button>
            <button type="button" onClick={reset}>
              Cancel CSV pull
            </button>
          </div>
        </>
      ) : null}
    </section>
  );
}
