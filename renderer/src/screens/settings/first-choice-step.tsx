import { useEffect, useState, type FormEvent, type ReactElement } from 'react';
import type { StationInfo } from '../../../../common/api.js';
import type { StationClient } from '../../station-client.js';
import { ProductionFields } from './production-fields.js';
import { errorText, useSettingsView } from './use-settings.js';

/**
 * The line's one-time step on a new station: choose product and batch. Until then the line runs
 * the station's default product with the oldest batch first; after it, only a supervisor changes
 * the choice (Settings).
 */
export function FirstChoiceStep({ client, station }: { client: StationClient; station: StationInfo }): ReactElement | null {
  const { view } = useSettingsView(client, station.productId);
  const [choice, setChoice] = useState<{ productId: string; batchId: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  useEffect(() => {
    if (!view || choice) return;
    const first = view.batches.find((b) => b.usable && b.available > 0);
    setChoice({ productId: view.settings.productId, batchId: view.settings.batchId ?? first?.id ?? '' });
  }, [view, choice]);

  if (!view || !choice) return null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSending(true);
    client.call('chooseProduction', { productId: choice.productId, batchId: choice.batchId === '' ? null : choice.batchId }).then(
      () => setError(null),
      (err: unknown) => setError(errorText(err)),
    ).finally(() => setSending(false));
  };
  return (
    <section className="first-choice" aria-labelledby="first-choice-heading" data-testid="first-choice">
      <form onSubmit={submit} aria-describedby="first-choice-hint">
        <h2 id="first-choice-heading">Choose product and batch</h2>
        <ProductionFields view={view} productId={choice.productId} batchId={choice.batchId} onChange={setChoice} disabled={sending} idPrefix="first-choice" />
        <button type="submit" className="button button-primary" disabled={sending}>
          Start production
        </button>
        <p id="first-choice-hint" className="first-choice-hint">
          Once per station; afterwards a supervisor changes it in Settings.
        </p>
        {error ? (
          <p role="alert" className="settings-error" data-testid="first-choice-error">
            {error}
          </p>
        ) : null}
      </form>
    </section>
  );
}
