import { useState, type ReactElement } from 'react';
import type { SupervisorCall, SupervisorMessage } from './supervisor-call.js';

type Action = 'disclaim' | 'delete';

const qrOf = (code: string) => code.trim().split('+')[0] ?? '';

const WHAT: Record<Action, string> = {
  disclaim: 'Disclaim: the device leaves its owner and returns to this organisation; the token stays valid.',
  delete: 'Delete: the cloud refuses this AuthToken from now on and deletes its device. An unused token here is voided.',
};

/**
 * Disclaim or delete a static token in the cloud. The supervisor scans or types the QR token, then
 * confirms by scanning or typing it again; nothing changes unless the cloud acted.
 */
export function CloudTokenPanel({ call, busy, onMessage }: { call: SupervisorCall; busy: boolean; onMessage: SupervisorMessage }): ReactElement {
  const [qrToken, setQrToken] = useState('');
  const [action, setAction] = useState<Action>('disclaim');
  const [confirming, setConfirming] = useState(false);
  const [confirm, setConfirm] = useState('');
  const matches = qrOf(confirm) !== '' && qrOf(confirm) === qrOf(qrToken);
  const close = () => {
    setConfirming(false);
    setConfirm('');
  };
  const run = async () => {
    const args = { qrToken: qrToken.trim(), confirm: confirm.trim() };
    const tail = qrOf(qrToken).slice(-6);
    if (action === 'disclaim') {
      const r = await call('disclaimToken', args);
      if (r) onMessage({ kind: 'ok', text: `Token …${tail} disclaimed in the cloud (now ${r.status.toLowerCase()}).` });
      if (r) setQrToken('');
    } else {
      const r = await call('deleteCloudToken', args);
      if (r) onMessage({ kind: 'ok', text: `Token …${tail} deleted in the cloud${r.voidedHere ? ' and voided here' : ''}.` });
      if (r) setQrToken('');
    }
    close();
  };
  return (
    <section className="panel" aria-labelledby="cloud-token-heading" data-testid="cloud-token-panel">
      <h3 id="cloud-token-heading">Disclaim or delete in the cloud</h3>
      <form
        aria-label="Disclaim or delete a token"
        onSubmit={(e) => {
          e.preventDefault();
          if (qrOf(qrToken)) setConfirming(true);
        }}
      >
        <label htmlFor="cloud-qr">QR token to act on (scan the label)</label>
        <input id="cloud-qr" data-testid="cloud-qr" value={qrToken} onChange={(e) => setQrToken(e.target.value)} autoComplete="off" />
        <fieldset className="choice">
          <legend>Action</legend>
          {(['disclaim', 'delete'] as const).map((a) => (
            <label key={a}>
              <input type="radio" name="cloud-action" value={a} checked={action === a} onChange={() => setAction(a)} /> {a === 'disclaim' ? 'Disclaim' : 'Delete'}
            </label>
          ))}
        </fieldset>
        <p className="hint">{WHAT[action]}</p>
        <button type="submit" disabled={busy || !qrOf(qrToken) || confirming}>
          {action === 'disclaim' ? 'Disclaim token…' : 'Delete token…'}
        </button>
      </form>
      {confirming ? (
        <div role="alertdialog" aria-labelledby="cloud-confirm-text" className="confirm" data-testid="cloud-confirm">
          <p id="cloud-confirm-text">
            {action === 'disclaim' ? 'Disclaim' : 'Delete'} token …{qrOf(qrToken).slice(-6)} in the cloud? Scan or type the same QR token again to confirm.
          </p>
          <label htmlFor="cloud-confirm-qr">Repeat the QR token</label>
          <input id="cloud-confirm-qr" data-testid="cloud-confirm-qr" value={confirm} onChange={(e) => setConfirm(e.target.value)} autoComplete="off" autoFocus />
          <button type="button" onClick={() => void run()} disabled={busy || !matches}>
            {action === 'disclaim' ? 'Confirm disclaim' : 'Confirm delete'}
          </button>
          <button type="button" onClick={close}>
            Cancel
          </button>
        </div>
      ) : null}
    </section>
  );
}
