import { useCallback, useEffect, useState, type ReactElement } from 'react';
import type { HeldRecordView } from '../../../../common/api.js';
import type { SupervisorCall, SupervisorMessage } from './supervisor-call.js';

const KIND: Record<string, string> = { 'device-record': 'Device record', 'token-void': 'Voided/burned token' };

/** Outbox records the cloud refused for good, with its reason; release one to send it again. */
export function HeldRecordsPanel({ call, busy, heldCount, onMessage }: { call: SupervisorCall; busy: boolean; heldCount: number; onMessage: SupervisorMessage }): ReactElement {
  const [records, setRecords] = useState<HeldRecordView[] | null>(null);
  const load = useCallback(async () => {
    const r = await call('listHeldRecords', {});
    if (r) setRecords(r.records);
  }, [call]);
  useEffect(() => {
    void load();
  }, [load, heldCount]);
  const release = async (record: HeldRecordView) => {
    const r = await call('releaseHeldRecord', { id: record.id });
    if (r) {
      onMessage(
        r.sync.lastError
          ? { kind: 'error', text: `Record #${record.id} released, but the sync failed: ${r.sync.lastError.message}` }
          : { kind: 'ok', text: `Record #${record.id} released and sent again; ${r.sync.held} still held.` },
      );
    }
    await load();
  };
  return (
    <section className="panel" aria-labelledby="held-heading" data-testid="held-panel">
      <h3 id="held-heading">Held records</h3>
      {records === null ? (
        <p>Loading…</p>
      ) : records.length === 0 ? (
        <p data-testid="held-none">No records held: the cloud took everything it was sent.</p>
      ) : (
        <ul className="held-list">
          {records.map((r) => (
            <li key={r.id} data-testid="held-record">
              <strong>
                #{r.id} {KIND[r.kind] ?? r.kind}
              </strong>
              {r.qrToken ? ` for token …${r.qrToken.slice(-6)}` : ''}, held {new Date(r.heldAt).toLocaleString()} after {r.attempts} attempt{r.attempts === 1 ? '' : 's'}.
              <br />
              <span className="reason">Reason: {r.reason ?? 'not recorded'}</span>{' '}
              <button type="button" onClick={() => void release(r)} disabled={busy} aria-label={`Release record ${r.id} and send it again`}>
                Release and retry
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
