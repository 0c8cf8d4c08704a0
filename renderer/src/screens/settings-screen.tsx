import { useState, type FormEvent, type ReactElement } from 'react';
import type { StationInfo } from '../../../common/api.js';
import { isStationErrorData } from '../../../common/errors.js';
import type { SettingsChange, StationSettingsView } from '../../../common/settings.js';
import type { StationClient } from '../station-client.js';
import { ProductionFields } from './settings/production-fields.js';
import { BatchTable, ProductTable } from './settings/product-table.js';
import { errorText, useSettingsView } from './settings/use-settings.js';
import { PinPrompt } from './supervisor/pin-prompt.js';
import './settings/settings.css';

/** What the form edits: '' stands for "the default" (no batch preference, product's stock, default threshold). */
interface Draft {
  productId: string;
  batchId: string;
  autoRun: boolean;
  labelStockId: string;
  lowStockThreshold: string;
  sounds: boolean;
}

function draftOf(s: StationSettingsView): Draft {
  return {
    productId: s.productId,
    batchId: s.batchId ?? '',
    autoRun: s.autoRun,
    labelStockId: s.labelStockId === s.productLabelStockId ? '' : s.labelStockId,
    lowStockThreshold: s.lowStockThreshold === null ? '' : String(s.lowStockThreshold),
    sounds: s.sounds,
  };
}

/** Only what differs from the station's settings goes out. */
function changesOf(base: Draft, draft: Draft): SettingsChange {
  const change: SettingsChange = {};
  if (draft.productId !== base.productId) change.productId = draft.productId;
  if (draft.batchId !== base.batchId) change.batchId = draft.batchId === '' ? null : draft.batchId;
  if (draft.autoRun !== base.autoRun) change.autoRun = draft.autoRun;
  if (draft.labelStockId !== base.labelStockId) change.labelStockId = draft.labelStockId === '' ? null : draft.labelStockId;
  if (draft.lowStockThreshold !== base.lowStockThreshold) change.lowStockThreshold = draft.lowStockThreshold === '' ? null : Number(draft.lowStockThreshold);
  if (draft.sounds !== base.sounds) change.sounds = draft.sounds;
  return change;
}

const CHANGE_NAMES: Record<keyof SettingsChange, string> = {
  productId: 'product',
  batchId: 'batch',
  autoRun: 'auto-run',
  labelStockId: 'label stock',
  lowStockThreshold: 'low-stock warning',
  sounds: 'sounds',
};

/**
 * Settings: anyone may look; changing needs the supervisor PIN (the station enforces it too:
 * `updateSettings` is a supervisor command). Product switches are refused while a slot works.
 */
export function SettingsScreen({ client, station, available }: { client: StationClient; station: StationInfo | null; available: number | null }): ReactElement {
  const { view, error: loadError, setView } = useSettingsView(client, `${station?.productId}|${station?.batchId}|${station?.sounds}|${available}`);
  const [session, setSession] = useState<string | null>(null);
  const [edits, setEdits] = useState<Partial<Draft>>({});
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [saving, setSaving] = useState(false);

  if (!view) {
    return (
      <section className="screen settings" aria-label="Settings">
        <h2>Settings</h2>
        <p role={loadError ? 'alert' : 'status'}>{loadError ?? 'Loading settings…'}</p>
      </section>
    );
  }
  const s = view.settings;
  const base = draftOf(s);
  const draft: Draft = { ...base, ...edits };
  const locked = session === null;
  const change = changesOf(base, draft);
  const changed = Object.keys(change) as (keyof SettingsChange)[];
  const thresholdValid = draft.lowStockThreshold === '' || /^[0-9]{1,6}$/.test(draft.lowStockThreshold);
  const edit = (next: Partial<Draft>) => setEdits((e) => ({ ...e, ...next }));

  const save = (e: FormEvent) => {
    e.preventDefault();
    if (!session || changed.length === 0 || !thresholdValid) return;
    setSaving(true);
    client.call('updateSettings', { session, ...change }).then(
      (fresh) => {
        setView(fresh);
        setEdits({});
        setMessage({ kind: 'ok', text: `Saved: ${changed.map((k) => CHANGE_NAMES[k]).join(', ')}.` });
      },
      (err: unknown) => {
        if (isStationErrorData(err) && err.code === 'UNAUTHORIZED') setSession(null);
        setMessage({ kind: 'error', text: errorText(err) });
      },
    ).finally(() => setSaving(false));
  };

  return (
    <section className="screen settings" aria-label="Settings">
      <div className="settings-bar">
        <h2>Settings</h2>
        <span className="settings-lock" data-locked={locked ? 'true' : 'false'} data-testid="settings-lock" role="status">
          {locked ? 'Locked: viewing only' : 'Unlocked for changes'}
        </span>
        {locked ? null : (
          <button
            type="button"
            className="button"
            onClick={() => {
              void client.call('supervisorLogout', { session }).catch(() => undefined);
              setSession(null);
              setEdits({});
            }}
          >
            Lock settings
          </button>
        )}
      </div>
      {locked ? (
        <>
          <p>A supervisor unlocks changes with the PIN.</p>
          <PinPrompt
            error={message?.kind === 'error' ? message.text : null}
            onSubmit={(pin) => {
              client.call('supervisorLogin', { pin }).then(
                (got) => {
                  setMessage(null);
                  setSession(got.session);
                },
                (err: unknown) => setMessage({ kind: 'error', text: errorText(err) }),
              );
            }}
          />
        </>
      ) : message ? (
        <p role={message.kind === 'error' ? 'alert' : 'status'} className={message.kind === 'error' ? 'settings-error' : 'settings-ok'} data-testid="settings-message">
          {message.text}
        </p>
      ) : null}
      <form className="settings-form" onSubmit={save} aria-label="Station settings">
        <fieldset>
          <legend>Production</legend>
          <ProductionFields view={view} productId={draft.productId} batchId={draft.batchId} onChange={(next) => edit(next)} disabled={locked || saving} idPrefix="settings" />
          {view.workingSlots.length > 0 ? (
            <p className="settings-note" data-testid="settings-busy">
              {`Boards are being worked on (${view.workingSlots.join(', ')}): the product can change once they finish.`}
            </p>
          ) : null}
        </fieldset>
        <fieldset>
          <legend>Line</legend>
          <div className="settings-row">
            <label htmlFor="settings-auto-run">Auto-run on plug</label>
            <input id="settings-auto-run" type="checkbox" checked={draft.autoRun} disabled={locked || saving} onChange={(e) => edit({ autoRun: e.target.checked })} />
            <label htmlFor="settings-low-stock">Low-stock warning below</label>
            <input
              id="settings-low-stock"
              type="number"
              min={0}
              max={100000}
              placeholder="station default"
              value={draft.lowStockThreshold}
              disabled={locked || saving}
              aria-invalid={!thresholdValid}
              onChange={(e) => edit({ lowStockThreshold: e.target.value })}
            />
            <label htmlFor="settings-sounds">Sounds on done and failure</label>
            <input id="settings-sounds" type="checkbox" checked={draft.sounds} disabled={locked || saving} onChange={(e) => edit({ sounds: e.target.checked })} />
            <span>Slots</span>
            <span data-testid="settings-slots">{s.slotCount}</span>
            <p className="settings-note">Fixture positions are fixed while the station runs: restart it with --slots to change them.</p>
          </div>
        </fieldset>
        <fieldset>
          <legend>Labels and printing</legend>
          <div className="settings-row">
            <label htmlFor="settings-label-stock">Label stock</label>
            <select id="settings-label-stock" value={draft.labelStockId} disabled={locked || saving} onChange={(e) => edit({ labelStockId: e.target.value })}>
              <option value="">{`The product's own (${s.productLabelStockId})`}</option>
              {view.labelStocks.map((stock) => (
                <option key={stock.id} value={stock.id}>
                  {stock.name}
                </option>
              ))}
            </select>
            <span>Printer</span>
            <span data-testid="settings-printer">{s.printer}</span>
            <p className="settings-note">The printer is chosen at start (--printer); without one, sheets are saved as PDFs.</p>
          </div>
        </fieldset>
        {locked ? null : (
          <button type="submit" className="button button-primary" disabled={saving || changed.length === 0 || !thresholdValid}>
            Save settings
          </button>
        )}
      </form>
      <h3>Products on this station</h3>
      <ProductTable products={view.products} currentId={s.productId} />
      <h3>Token batches</h3>
      <BatchTable batches={view.batches} chosenId={s.batchId} />
    </section>
  );
}
