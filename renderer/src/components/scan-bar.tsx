import { useEffect, useRef, useState, type FormEvent, type ReactElement } from 'react';
import type { LabelSheetView } from '../../../common/api.js';
import type { SlotView } from '../../../common/slot-state.js';
import type { StationClient } from '../station-client.js';
import { rehydrateError } from '../station-client.js';

interface ScanBarProps {
  client: StationClient;
  slots: readonly SlotView[];
  /** The open label sheet: a label not printed yet cannot be stuck on, so say so. */
  sheet?: LabelSheetView | null;
}

function labelPosition(slot: SlotView): number {
  return slot.state.kind === 'awaiting-scan' ? slot.state.label.position : Number.MAX_SAFE_INTEGER;
}

type ScanOutcome = { kind: 'ok' | 'wrong' | 'error'; text: string } | null;

/**
 * Scan-back. A USB barcode scanner is a keyboard: it types the label's QR payload and Enter. The
 * field takes focus whenever a label waits for its scan, so the operator just scans; typing the
 * code by hand works the same way.
 */
export function ScanBar({ client, slots, sheet = null }: ScanBarProps): ReactElement | null {
  // The station gives an unaddressed scan to the slot that has waited longest, which is the one
  // whose label was placed first: say which, so the operator picks up the right label.
  const waiting = slots
    .filter((s) => s.state.kind === 'awaiting-scan')
    .sort((a, b) => labelPosition(a) - labelPosition(b));
  const next = waiting[0];
  const input = useRef<HTMLInputElement>(null);
  const [value, setValue] = useState('');
  const [outcome, setOutcome] = useState<ScanOutcome>(null);
  const count = waiting.length;

  useEffect(() => {
    // Take focus only when nothing else has it: a keyboard user on a slot card keeps their place
    // (a scanner still lands here: the app forwards letter keys to this field).
    const active = document.activeElement;
    if (count > 0 && (!active || active === document.body)) input.current?.focus();
  }, [count]);

  if (count === 0 && outcome === null) return null;

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const payload = value.trim();
    setValue('');
    if (!payload) return;
    client.call('scanLabel', { payload }).then(
      (result) => {
        const slot = slots.find((s) => s.id === result.slotId);
        setOutcome(
          result.confirmed
            ? { kind: 'ok', text: `Label confirmed for slot ${slot?.index ?? '?'}.` }
            : { kind: 'wrong', text: `Wrong label for slot ${slot?.index ?? '?'} — find that board's own label.` },
        );
      },
      (err: unknown) => setOutcome({ kind: 'error', text: rehydrateError(err).message }),
    );
  };

  return (
    <form className={`scan-bar scan-${outcome?.kind ?? 'idle'}`} onSubmit={submit} data-testid="scan-bar">
      <label htmlFor="scan-input" className="scan-label">
        {next ? `Scan label ${labelPosition(next) + 1} for slot ${next.index}${count > 1 ? ` (${count} waiting)` : ''}` : 'Scan label'}
      </label>
      <input
        id="scan-input"
        ref={input}
        className="scan-input"
        data-testid="scan-input"
        data-waiting={count}
        autoComplete="off"
        spellCheck={false}
        value={value}
        onChange={(e) => setValue(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') e.currentTarget.blur();
        }}
        placeholder="Scan the label's QR code"
      />
      {next && sheet ? <UnprintedHint slot={next} sheet={sheet} /> : null}
      {outcome ? (
        <span className="scan-outcome" role={outcome.kind === 'ok' ? 'status' : 'alert'} data-testid="scan-outcome" data-kind={outcome.kind}>
          {outcome.text}
        </span>
      ) : null}
    </form>
  );
}

/** First-time operators looked for a label that was never printed: say where it comes from. */
function UnprintedHint({ slot, sheet }: { slot: SlotView; sheet: LabelSheetView }): ReactElement | null {
  if (slot.state.kind !== 'awaiting-scan') return null;
  const { sheetId, position } = slot.state.label;
  if (sheetId !== sheet.id || position < sheet.printed) return null;
  const unprinted = sheet.labels.length - sheet.printed;
  return (
    <span className="scan-print-hint" data-testid="scan-print-hint">
      Label {position + 1} is not printed yet: press “Print {unprinted} new label{unprinted === 1 ? '' : 's'}” on the label sheet first.
    </span>
  );
}
