import { useEffect, useState, type FormEvent, type ReactElement } from 'react';
import type { QaDynamicResult } from '../../../common/qa.js';
import type { StationClient } from '../station-client.js';
import { rehydrateError } from '../station-client.js';
import { RunView } from './qa-screen.js';

/**
 * Dynamic QA (Wi-Fi products set up later by the customer's phone app): for the board in a slot,
 * the station provisions the QA Wi-Fi over Improv, gives it a fresh provisioning token from the
 * cloud and sees it online, then factory-resets it and confirms it is unconfigured. The board holds
 * no token of ours, so it is chosen by its slot, not by a label.
 */
export function DynamicQaPanel({ client }: { client: StationClient }): ReactElement {
  const [slots, setSlots] = useState<{ id: string; index: number }[]>([]);
  const [slotId, setSlotId] = useState('slot-1');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<QaDynamicResult | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    client.call('getSnapshot', {}).then(
      (snapshot) => setSlots(snapshot.slots.map((s) => ({ id: s.id, index: s.index }))),
      () => undefined,
    );
  }, [client]);

  const run = (event: FormEvent): void => {
    event.preventDefault();
    setBusy(true);
    setResult(null);
    setError(null);
    client
      .call('qaDynamic', { slotId })
      .then(setResult, (err: unknown) => setError(rehydrateError(err).message))
      .finally(() => setBusy(false));
  };

  return (
    <section className="dynamic-qa" aria-labelledby="dynamic-qa-title" data-testid="dynamic-qa">
      <h3 id="dynamic-qa-title">Dynamic QA (Wi-Fi products)</h3>
      <form className="qa-actions" onSubmit={run}>
        <label htmlFor="dynamic-qa-slot">Board in</label>
        <select id="dynamic-qa-slot" data-testid="dynamic-qa-slot" value={slotId} onChange={(e) => setSlotId(e.target.value)} disabled={busy}>
          {(slots.length ? slots : [{ id: 'slot-1', index: 1 }]).map((s) => (
            <option key={s.id} value={s.id}>
              Slot {s.index}
            </option>
          ))}
        </select>
        <button type="submit" data-testid="dynamic-qa-run" disabled={busy}>
          {busy ? 'Running dynamic QA…' : 'Run dynamic QA'}
        </button>
      </form>
      {error ? (
        <p className="qa-error" role="alert" data-testid="dynamic-qa-error">
          {error}
        </p>
      ) : null}
      {result ? (
        <>
          <div className={result.ok ? 'qa-verdict pass' : 'qa-verdict fail'} role="status" data-testid="dynamic-qa-verdict" data-ok={result.ok ? 'true' : 'false'}>
            {result.ok ? 'PASS — erased, ready to pack' : `FAIL — ${result.reason ?? 'no reason given'}`}
          </div>
          <ol className="qa-runs">
            <RunView run={result.run} />
          </ol>
        </>
      ) : null}
    </section>
  );
}
