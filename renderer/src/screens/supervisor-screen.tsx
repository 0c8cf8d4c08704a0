import { useCallback, useEffect, useState, type FormEvent, type ReactElement } from 'react';
import type { CommandArgs, CommandName, CommandResult, ReportsView, StockView, SyncStatus } from '../../../common/api.js';
import { isStationErrorData } from '../../../common/errors.js';
import { describeAge } from '../components/sync-summary.js';
import type { StationClient } from '../station-client.js';
import { BarChart } from './supervisor/bar-chart.js';
import { PinPrompt } from './supervisor/pin-prompt.js';
import { SupervisorTools } from './supervisor/supervisor-tools.js';

type SessionArgs<N extends CommandName> = Omit<CommandArgs<N>, 'session'>;

/** Supervisor: PIN, stock and batches, sync, pull a batch, void a token, reports, CSV export. */
export function SupervisorScreen({ client, sync, stock }: { client: StationClient; sync: SyncStatus | null; stock: StockView | null }): ReactElement {
  const [session, setSession] = useState<string | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [reports, setReports] = useState<ReportsView | null>(null);
  const [busy, setBusy] = useState(false);

  const fail = useCallback((err: unknown) => {
    const text = isStationErrorData(err) ? err.message : String(err);
    if (isStationErrorData(err) && err.code === 'UNAUTHORIZED') setSession(null);
    setMessage({ kind: 'error', text });
  }, []);

  const call = useCallback(
    async <N extends CommandName>(name: N, args: SessionArgs<N>): Promise<CommandResult<N> | null> => {
      if (!session) return null;
      setBusy(true);
      try {
        return await client.call(name, { ...args, session } as CommandArgs<N>);
      } catch (err) {
        fail(err);
        return null;
      } finally {
        setBusy(false);
      }
    },
    [client, session, fail],
  );

  const refreshReports = useCallback(async () => {
    const r = await call('getReports', {});
    if (r) setReports(r);
  }, [call]);

  useEffect(() => {
    if (session) void refreshReports();
  }, [session, stock, refreshReports]);

  if (!session) {
    return (
      <section className="screen supervisor" aria-label="Supervisor">
        <h2>Supervisor</h2>
        <PinPrompt
          error={message?.kind === 'error' ? message.text : null}
          onSubmit={(pin) => {
            client.call('supervisorLogin', { pin }).then(
              (s) => {
                setMessage(null);
                setSession(s.session);
              },
              fail,
            );
          }}
        />
      </section>
    );
  }

  return (
    <section className="screen supervisor" aria-label="Supervisor">
      <div className="supervisor-bar">
        <h2>Supervisor</h2>
        <button
          type="button"
          onClick={() => {
            void call('supervisorLogout', {});
            setSession(null);
          }}
        >
          Lock supervisor
        </button>
      </div>
      {message ? (
        <p role={message.kind === 'error' ? 'alert' : 'status'} data-testid="supervisor-message" data-kind={message.kind}>
          {message.text}
        </p>
      ) : null}
      <div className="supervisor-grid">
        <SyncPanel
          sync={sync}
          busy={busy}
          onSyncNow={() => {
            client.call('syncNow', {}).then((s) => setMessage(s.lastError ? { kind: 'error', text: s.lastError.message } : { kind: 'ok', text: `Synced: ${s.waiting} records waiting.` }), fail);
          }}
        />
        <StockPanel
          stock={stock}
          reports={reports}
          busy={busy}
          onPull={async (count) => {
            const r = await call('pullBatch', { count });
            if (r) setMessage({ kind: 'ok', text: `Pulled batch ${r.batchId}: ${r.imported} tokens.` });
            void refreshReports();
          }}
        />
        <VoidPanel
          busy={busy}
          onVoid={async (qrToken, reason) => {
            const r = await call('voidToken', { qrToken, reason });
            if (r) setMessage({ kind: 'ok', text: `Token …${r.qrToken.slice(-6)} voided.` });
            return r !== null;
          }}
        />
        <SupervisorTools call={call} busy={busy} batches={reports?.batches ?? []} heldCount={sync?.held ?? 0} onMessage={setMessage} />
        <ReportsPanel
          reports={reports}
          busy={busy}
          onExport={async () => {
            const r = await call('exportDeviceRecordsCsv', {});
            if (!r) return;
            const url = URL.createObjectURL(new Blob([r.csv], { type: 'text/csv' }));
            const a = document.createElement('a');
            a.href = url;
            a.download = r.fileName;
            a.click();
            setTimeout(() => URL.revokeObjectURL(url), 10_000);
            setMessage({ kind: 'ok', text: `Exported ${r.rows} device records.` });
          }}
        />
      </div>
    </section>
  );
}

function SyncPanel({ sync, busy, onSyncNow }: { sync: SyncStatus | null; busy: boolean; onSyncNow: () => void }): ReactElement {
  const now = Date.now();
  return (
    <section className="panel" aria-labelledby="sync-heading" data-testid="sync-panel">
      <h3 id="sync-heading">Outbox and sync</h3>
      {sync ? (
        <dl className="facts">
          <div>
            <dt>Waiting</dt>
            <dd data-testid="sync-waiting">{sync.waiting}</dd>
          </div>
          <div>
            <dt>Held</dt>
            <dd data-testid="sync-held">{sync.held}</dd>
          </div>
          <div>
            <dt>Last sync</dt>
            <dd data-testid="sync-last">{describeAge(sync.lastSuccessAt, now)}</dd>
          </div>
          <div>
            <dt>State</dt>
            <dd data-testid="sync-state">{sync.state}</dd>
          </div>
          {sync.nextAttemptAt ? (
            <div>
              <dt>Next try</dt>
              <dd>{new Date(sync.nextAttemptAt).toLocaleTimeString()}</dd>
            </div>
          ) : null}
          {sync.lastError ? (
            <div>
              <dt>Last error</dt>
              <dd data-testid="sync-error">{sync.lastError.message}</dd>
            </div>
          ) : null}
        </dl>
      ) : (
        <p>This station has no cloud sync.</p>
      )}
      <button type="button" onClick={onSyncNow} disabled={busy || !sync}>
        Sync now
      </button>
    </section>
  );
}

function StockPanel({ stock, reports, busy, onPull }: { stock: StockView | null; reports: ReportsView | null; busy: boolean; onPull: (count: number) => Promise<void> }): ReactElement {
  const [count, setCount] = useState('100');
  const n = Number(count);
  const valid = Number.isInteger(n) && n >= 1 && n <= 1000;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (valid) void onPull(n);
  };
  return (
    <section className="panel" aria-labelledby="stock-heading" data-testid="stock-panel">
      <h3 id="stock-heading">Stock and batches</h3>
      <p data-testid="supervisor-available">{stock ? `${stock.available} tokens available` : '—'}</p>
      <form onSubmit={submit} aria-label="Pull a batch">
        <label htmlFor="pull-count">Tokens to pull</label>
        <input id="pull-count" data-testid="pull-count" type="number" min={1} max={1000} value={count} onChange={(e) => setCount(e.target.value)} />
        <button type="submit" disabled={busy || !valid}>
          Pull batch
        </button>
      </form>
      <table className="batches" aria-label="Batches">
        <thead>
          <tr>
            <th scope="col">Batch</th>
            <th scope="col">Tokens</th>
            <th scope="col">Available</th>
            <th scope="col">Used</th>
            <th scope="col">Failed</th>
            <th scope="col">Voided</th>
          </tr>
        </thead>
        <tbody>
          {(reports?.batches ?? []).map((b) => (
            <tr key={b.id} data-testid="batch-row">
              <td>{b.id}</td>
              <td>{b.tokenCount}</td>
              <td>{b.available}</td>
              <td>{b.used}</td>
              <td>{b.failed}</td>
              <td>{b.voided}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function VoidPanel({ busy, onVoid }: { busy: boolean; onVoid: (qrToken: string, reason: string) => Promise<boolean> }): ReactElement {
  const [qrToken, setQrToken] = useState('');
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const ready = qrToken.trim().length > 0 && reason.trim().length >= 3;
  return (
    <section className="panel" aria-labelledby="void-heading" data-testid="void-panel">
      <h3 id="void-heading">Void a token</h3>
      <form
        aria-label="Void a token"
        onSubmit={(e) => {
          e.preventDefault();
          if (ready) setConfirming(true);
        }}
      >
        <label htmlFor="void-qr">QR token (scan the label)</label>
        <input id="void-qr" data-testid="void-qr" value={qrToken} onChange={(e) => setQrToken(e.target.value)} autoComplete="off" />
        <label htmlFor="void-reason">Reason for voiding</label>
        <input id="void-reason" data-testid="void-reason" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={200} />
        <button type="submit" disabled={busy || !ready || confirming}>
          Void token
        </button>
      </form>
      {confirming ? (
        <div role="alertdialog" aria-labelledby="void-confirm-text" className="confirm" data-testid="void-confirm">
          <p id="void-confirm-text">Void token …{qrToken.trim().slice(-6)}? It will never be used and the cloud is told.</p>
          <button
            type="button"
            onClick={() => {
              void onVoid(qrToken.trim(), reason.trim()).then((ok) => {
                setConfirming(false);
                if (ok) {
                  setQrToken('');
                  setReason('');
                }
              });
            }}
          >
            Confirm void
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      ) : null}
    </section>
  );
}

function ReportsPanel({ reports, busy, onExport }: { reports: ReportsView | null; busy: boolean; onExport: () => Promise<void> }): ReactElement {
  return (
    <section className="panel" aria-labelledby="reports-heading" data-testid="reports-panel">
      <h3 id="reports-heading">Reports</h3>
      {reports ? (
        <>
          <p data-testid="first-pass-yield">
            First-pass yield: {reports.firstPassYield === null ? '—' : `${(reports.firstPassYield * 100).toFixed(1)} %`} ({reports.passed} passed, {reports.failed} failed)
          </p>
          <BarChart
            title="Devices per hour"
            testId="chart-per-hour"
            bars={reports.devicesPerHour.map((h) => ({ label: `${new Date(h.hour).getHours()}h`, value: h.count }))}
          />
          <BarChart title="Failures by reason" testId="chart-failures" bars={reports.failuresByReason.map((f) => ({ label: f.reason.slice(0, 8), value: f.count }))} />
        </>
      ) : (
        <p>Loading…</p>
      )}
      <button type="button" onClick={() => void onExport()} disabled={busy}>
        Export device records (CSV)
      </button>
    </section>
  );
}
