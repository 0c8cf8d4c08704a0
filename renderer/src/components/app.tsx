import { useCallback, useEffect, useRef, useState, type ReactElement } from 'react';
import { QaScreen } from '../screens/qa-screen.js';
import { FirstChoiceStep } from '../screens/settings/first-choice-step.js';
import { SettingsScreen } from '../screens/settings-screen.js';
import { SupervisorScreen } from '../screens/supervisor-screen.js';
import { loadMuted, saveMuted, useSlotSounds } from '../sounds.js';
import { slotNumberForKey } from '../station-model.js';
import type { StationClient } from '../station-client.js';
import { useStation } from '../use-station.js';
import { LabelSheetPanel } from './label-sheet-panel.js';
import { ScanBar } from './scan-bar.js';
import { SlotGrid } from './slot-grid.js';
import { StationHeader } from './station-header.js';

type Screen = 'line' | 'qa' | 'supervisor' | 'settings';
const SCREENS: { id: Screen; label: string }[] = [
  { id: 'line', label: 'Line' },
  { id: 'qa', label: 'QA' },
  { id: 'supervisor', label: 'Supervisor' },
  { id: 'settings', label: 'Settings' },
];

function isIdleScanField(target: EventTarget | null): boolean {
  return target instanceof HTMLInputElement && target.id === 'scan-input' && target.value === '' && target.dataset.waiting === '0';
}

function isTypingTarget(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

export function App({ client }: { client: StationClient }): ReactElement {
  const { snapshot, connection, busySlots, lastError, dismissError, runCommand, printSheet } = useStation(client);
  const cards = useRef(new Map<number, HTMLElement>());
  const [screen, setScreen] = useState<Screen>('line');
  const [muted, setMuted] = useState(loadMuted);
  // The station-wide sounds setting (Settings) silences every browser; the toggle mutes this one.
  const stationSilent = snapshot?.station.sounds === false;
  useSlotSounds(snapshot?.slots, muted || stationSilent);
  const stock = snapshot?.stock;
  const lowStock = stock?.lowStockAt !== undefined && stock.available < stock.lowStockAt;

  const registerCard = useCallback((slotNumber: number, element: HTMLElement | null) => {
    if (element) cards.current.set(slotNumber, element);
    else cards.current.delete(slotNumber);
  }, []);

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.altKey || event.metaKey) return;
      if (screen === 'qa') {
        // QA is scanner-driven too: a label scanned anywhere on the screen lands in the QA field.
        const qaField = document.getElementById('qa-scan');
        if (qaField && !isTypingTarget(event.target) && /^[A-Za-z_]$/.test(event.key)) qaField.focus();
        return;
      }
      if (screen !== 'line') return;
      // The scan field keeps focus after the last scan: while it is empty and no label waits, a
      // digit still picks a slot (a scanner's payload starts with letters, never a lone digit).
      if (isTypingTarget(event.target) && !isIdleScanField(event.target)) return;
      const slotNumber = slotNumberForKey(event.key);
      const card = slotNumber === null ? undefined : cards.current.get(slotNumber);
      if (!card) {
        // A barcode scanner types letters first (`sqr_…`): send them to the scan field when a label
        // waits, wherever focus was; the keystroke then lands in the field.
        const scan = document.getElementById('scan-input');
        if (scan && /^[A-Za-z_]$/.test(event.key)) scan.focus();
        return;
      }
      event.preventDefault();
      card.focus();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [screen]);

  const offline = connection !== 'connected';
  return (
    <div className="app" data-connection={connection}>
      <StationHeader station={snapshot?.station ?? null} stock={snapshot?.stock ?? null} connection={connection} sync={snapshot?.sync ?? null} />
      {lastError ? (
        <div className="alert" role="alert" data-testid="command-error" data-code={lastError.code}>
          <span className="alert-text">{lastError.message}</span>
          <button type="button" className="button" onClick={dismissError}>
            Dismiss
          </button>
        </div>
      ) : null}
      {offline && snapshot ? (
        <div className="banner" role="status">
          The station is not reachable; what you see may be out of date.
        </div>
      ) : null}
      <nav className="screen-nav" aria-label="Screens">
        {SCREENS.map((item) => (
          <button
            key={item.id}
            type="button"
            className={item.id === screen ? 'nav-button current' : 'nav-button'}
            aria-current={item.id === screen ? 'page' : undefined}
            data-testid={`nav-${item.id}`}
            onClick={() => setScreen(item.id)}
          >
            {item.label}
          </button>
        ))}
        <button
          type="button"
          className="nav-button sound-toggle"
          aria-pressed={!muted && !stationSilent}
          data-testid="sound-toggle"
          data-station-silent={stationSilent ? 'true' : 'false'}
          // Station sounds off in Settings silence every browser: this toggle cannot turn them on.
          disabled={stationSilent}
          onClick={() => {
            saveMuted(!muted);
            setMuted(!muted);
          }}
        >
          {stationSilent ? 'Sound off (Settings)' : muted ? 'Sound off' : 'Sound on'}
        </button>
      </nav>
      {lowStock && stock ? (
        // Only an empty queue interrupts a screen reader; a falling count is announced politely.
        <div className="banner banner-warn" role={stock.available === 0 ? 'alert' : 'status'} data-testid="low-stock">
          {stock.available === 0
            ? 'No tokens left: the line cannot provision — ask a supervisor to pull a batch.'
            : `Only ${stock.available} tokens left — ask a supervisor to pull a batch before the line stops.`}
        </div>
      ) : null}
      {screen === 'line' ? (
        <>
        {snapshot?.station.productionChosen === false ? <FirstChoiceStep client={client} station={snapshot.station} /> : null}
        {snapshot ? <ScanBar client={client} slots={snapshot.slots} sheet={snapshot.sheet} /> : null}
        <main className="layout">
          {snapshot ? (
            <SlotGrid
              slots={snapshot.slots}
              simulator={snapshot.station.simulator}
              busySlots={offline ? new Set(snapshot.slots.map((slot) => slot.id)) : busySlots}
              onCommand={runCommand}
              registerCard={registerCard}
            />
          ) : (
            <section className="waiting" aria-label="Slots">
              <p>Waiting for the station…</p>
            </section>
          )}
          {/* A dynamic-token product has no labels at the station: no sheet to show. */}
          {snapshot?.station.tokenKind === 'dynamic' ? null : <LabelSheetPanel sheet={snapshot?.sheet ?? null} onPrint={offline ? null : printSheet} />}
        </main>
        </>
      ) : null}
      {screen === 'qa' ? <QaScreen client={client} dynamicProduct={snapshot?.station.tokenKind === 'dynamic'} /> : null}
      {screen === 'settings' ? <SettingsScreen client={client} station={snapshot?.station ?? null} available={snapshot?.stock.available ?? null} /> : null}
      {screen === 'supervisor' ? <SupervisorScreen client={client} sync={snapshot?.sync ?? null} stock={snapshot?.stock ?? null} /> : null}
      {screen === 'line' ? (
        <footer className="keys-help" aria-hidden="true">
          Keys 1–{Math.max(1, snapshot?.slots.length ?? 8)} pick a slot · Enter runs its main action · Tab moves between buttons
        </footer>
      ) : null}
    </div>
  );
}
