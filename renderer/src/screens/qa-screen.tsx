import { useEffect, useRef, useState, type FormEvent, type ReactElement } from 'react';
import type { QaBoardHistory, QaTestRun } from '../../../common/qa.js';
import type { StationClient } from '../station-client.js';
import { rehydrateError } from '../station-client.js';
import { DynamicQaPanel } from './dynamic-qa-panel.js';

type Verdict = { ok: boolean; text: string } | null;

/**
 * QA: scan a label (a USB barcode scanner types its payload and Enter into the focused field) or
 * type a slot id -> the board's whole history -> re-run the product's test plan -> pass or fail,
 * big, with the reason. Only a board whose latest test passed can be shipped.
 */
/** `dynamicProduct`: the station runs a Wi-Fi product, whose boards get Dynamic QA (no labels to scan). */
export function QaScreen({ client, dynamicProduct }: { client: StationClient; dynamicProduct: boolean }): ReactElement {
  const input = useRef<HTMLInputElement>(null);
  const [code, setCode] = useState('');
  const [history, setHistory] = useState<QaBoardHistory | null>(null);
  const [verdict, setVerdict] = useState<Verdict>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    input.current?.focus();
  }, []);

  const show = (next: QaBoardHistory): void => {
    setHistory(next);
    setError(null);
    const latest = next.testRuns.at(-1);
    setVerdict(latest ? { ok: latest.ok, text: latest.ok ? 'PASS' : `FAIL — ${latest.reason ?? 'no reason given'}` } : null);
  };

  const fail = (err: unknown): void => setError(rehydrateError(err).message);

  const lookup = (event: FormEvent): void => {
    event.preventDefault();
    const scanned = code.trim();
    setCode('');
    if (!scanned) return;
    client.call('qaLookup', { code: scanned }).then(show, (err: unknown) => {
      setHistory(null);
      setVerdict(null);
      fail(err);
    });
  };

  const retest = (): void => {
    if (!history?.slotId) return;
    setBusy(true);
    setVerdict(null);
    client
      .call('qaRetest', { slotId: history.slotId })
      .then((result) => show(result.history), fail)
      .finally(() => {
        setBusy(false);
        input.current?.focus();
      });
  };

  const ship = (): void => {
    if (!history?.token) return;
    client.call('shipToken', { code: history.token.qrToken }).then(show, fail);
  };

  return (
    <section className="screen qa-screen" aria-label="QA">
      <h2>QA</h2>
      <form className="scan-bar" onSubmit={lookup}>
        <label htmlFor="qa-scan">Scan a label (or type a slot, e.g. slot-1)</label>
        <input
          id="qa-scan"
          ref={input}
          data-testid="qa-scan-input"
          autoComplete="off"
          spellCheck={false}
          value={code}
          onChange={(e) => setCode(e.target.value)}
        />
      </form>
      {error ? (
        <p className="qa-error" role="alert" data-testid="qa-error">
          {error}
        </p>
      ) : null}
      {verdict ? (
        <div className={verdict.ok ? 'qa-verdict pass' : 'qa-verdict fail'} role="status" data-testid="qa-verdict" data-ok={verdict.ok ? 'true' : 'false'}>
          {verdict.text}
        </div>
      ) : null}
      {history ? <History history={history} busy={busy} onRetest={retest} onShip={ship} /> : null}
      {dynamicProduct ? <DynamicQaPanel client={client} /> : null}
    </section>
  );
}

function History({ history, busy, onRetest, onShip }: { history: QaBoardHistory; busy: boolean; onRetest: () => void; onShip: () => void }): ReactElement {
  const { token, label } = history;
  return (
    <div className="qa-history" data-testid="qa-history">
      {token === null ? (
        // A dynamic-token board: no token of ours, no label; its runs are kept under its MAC.
        <dl className="qa-facts">
          <dt>Board MAC</dt>
          <dd data-testid="qa-dynamic-mac">{history.dynamicMac ?? '—'}</dd>
          <dt>Token</dt>
          <dd>none (dynamic-token product: set up later by the phone app)</dd>
          <dt>Slot</dt>
          <dd>{history.slotId ?? 'not plugged in'}</dd>
        </dl>
      ) : (
      <dl className="qa-facts">
        <dt>QR token</dt>
        <dd data-testid="qa-qr">{token.qrToken}</dd>
        <dt>State</dt>
        <dd data-testid="qa-token-state">{token.state}</dd>
        <dt>Board MAC</dt>
        <dd>{token.boardMac ?? '—'}</dd>
        <dt>Payload SHA-256</dt>
        <dd className="mono">{token.payloadSha256 ? `${token.payloadSha256.slice(0, 16)}…` : '—'}</dd>
        <dt>Label</dt>
        <dd>{label ? `${label.sheetId} #${label.position + 1}${label.printed ? ' (printed)' : ''}` : 'none'}</dd>
        <dt>Cloud sync</dt>
        <dd data-testid="qa-sync">{history.sync.length ? history.sync.map((s) => `${s.kind}: ${s.sentAt ? 'sent' : `waiting (${s.attempts} tries)`}`).join(', ') : 'nothing queued'}</dd>
        <dt>Slot</dt>
        <dd>{history.slotId ?? 'not plugged in'}</dd>
      </dl>
      )}
      <div className="qa-actions">
        <button type="button" data-testid="qa-retest" disabled={busy || !history.slotId || token === null} onClick={onRetest}>
          {busy ? 'Testing…' : 'Re-test'}
        </button>
        <button type="button" data-testid="qa-ship" disabled={!history.canShip} onClick={onShip} title={history.shipBlocker ?? ''}>
          Ship
        </button>
        {history.shipBlocker ? <span className="qa-blocker">{history.shipBlocker}</span> : null}
      </div>
      <h3>Test runs</h3>
      {history.testRuns.length === 0 ? <p>No test runs.</p> : null}
      <ol className="qa-runs" data-testid="qa-runs">
        {[...history.testRuns].reverse().map((run) => (
          <RunView key={run.id} run={run} />
        ))}
      </ol>
      <h3>History</h3>
      <ol className="qa-audit" data-testid="qa-audit">
        {history.audit.map((a, i) => (
          <li key={i}>
            <time>{a.at}</time> {a.event}
            {a.fromState || a.toState ? ` ${a.fromState ?? ''} → ${a.toState ?? ''}` : ''}
            {a.detail ? ` — ${a.detail}` : ''}
          </li>
        ))}
      </ol>
    </div>
  );
}

export function RunView({ run }: { run: QaTestRun }): ReactElement {
  return (
    <li className={run.ok ? 'qa-run pass' : 'qa-run fail'} data-testid="qa-run" data-ok={run.ok ? 'true' : 'false'}>
      <strong>{run.ok ? 'PASS' : 'FAIL'}</strong> {run.kind} · {run.at} · {run.durationMs} ms{run.reason ? ` — ${run.reason}` : ''}
      <table className="qa-checks">
        <thead>
          <tr>
            <th>Check</th>
            <th>Value</th>
            <th>Expected</th>
            <th>Time</th>
            <th>Result</th>
          </tr>
        </thead>
        <tbody>
          {run.checks.map((c) => (
            <tr key={c.check} className={c.ok ? 'pass' : 'fail'}>
              <td>{c.check}</td>
              <td className="mono">{c.value === undefined ? '' : String(c.value)}</td>
              <td>{c.expected ?? ''}</td>
              <td>{c.durationMs} ms</td>
              <td>{c.ok ? 'ok' : (c.reason ?? 'failed')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <details>
        <summary>Serial log ({run.log.length} lines)</summary>
        <pre className="qa-log">{run.log.join('\n')}</pre>
      </details>
    </li>
  );
}
