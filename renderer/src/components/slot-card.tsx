import { memo, useCallback, useEffect, useRef, type KeyboardEvent, type ReactElement } from 'react';
import type { SlotView } from '../../../common/slot-state.js';
import { describeSlot, primaryAction, type SlotCommand, type SlotProgressView } from '../describe-slot.js';
import { StateIcon } from './state-icon.js';

function ProgressBar({ progress, slotNumber }: { progress: SlotProgressView; slotNumber: number }): ReactElement {
  const fill = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // Width is set through the CSSOM: the CSP forbids inline style attributes.
    fill.current?.style.setProperty('transform', `scaleX(${progress.percent / 100})`);
  }, [progress.percent]);
  return (
    <div className="progress">
      <div
        className="progress-track"
        role="progressbar"
        aria-label={`Slot ${slotNumber} progress`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={progress.percent}
        aria-valuetext={`${progress.phase} ${progress.percent}%`}
      >
        <div className="progress-fill" ref={fill} />
      </div>
      <div className="progress-text">
        <span className="progress-percent">{progress.percent}%</span>
        <span>{progress.phase}</span>
        {progress.rate ? <span>{progress.rate}</span> : null}
        {progress.timeLeft ? <span>{progress.timeLeft}</span> : null}
      </div>
    </div>
  );
}

export interface SlotCardProps {
  slot: SlotView;
  simulator: boolean;
  busy: boolean;
  onCommand(slotId: string, command: SlotCommand): void;
  /** Keeps the card's element by slot number (keys 1–8 focus it); must be a stable function. */
  registerCard(slotNumber: number, element: HTMLElement | null): void;
}

/**
 * One fixture position. Memoised: a progress event replaces only its own slot object, so the other
 * seven cards are not re-rendered (eight bars at 10 updates/s each).
 */
export const SlotCard = memo(function SlotCard({ slot, simulator, busy, onCommand, registerCard }: SlotCardProps): ReactElement {
  const view = describeSlot(slot.state, { simulator });
  const main = primaryAction(view);
  const number = slot.index;
  const cardRef = useCallback((element: HTMLElement | null) => registerCard(number, element), [registerCard, number]);

  const onKeyDown = useCallback(
    (event: KeyboardEvent<HTMLElement>) => {
      // Enter on a focused button already clicks it; only the card itself maps Enter to its action.
      if (event.key !== 'Enter' || event.target !== event.currentTarget || !main || busy) return;
      event.preventDefault();
      onCommand(slot.id, main.command);
    },
    [busy, main, onCommand, slot.id],
  );

  return (
    <article
      ref={cardRef}
      className={`slot-card tone-${view.tone}`}
      data-testid={`slot-${number}`}
      data-slot-id={slot.id}
      data-state={view.kind}
      data-busy={busy ? 'true' : 'false'}
      tabIndex={0}
      aria-label={`Slot ${number}: ${view.word}`}
      onKeyDown={onKeyDown}
    >
      <div className="slot-band">
        <span className="slot-number" aria-hidden="true">
          {number}
        </span>
        <span className="slot-status">
          <StateIcon icon={view.icon} />
          <span className="slot-word" data-testid={`slot-${number}-state`}>
            {view.word}
          </span>
        </span>
      </div>
      <div className="slot-body">
        <p className="slot-hint">{view.hint}</p>
        {view.board ? (
          <dl className="board-facts">
            <div>
              <dt>Port</dt>
              <dd>{view.board.port}</dd>
            </div>
            {view.board.chip ? (
              <div>
                <dt>Chip</dt>
                <dd>{view.board.chip}</dd>
              </div>
            ) : null}
            {view.board.mac ? (
              <div>
                <dt>MAC</dt>
                <dd className="mono">{view.board.mac}</dd>
              </div>
            ) : null}
          </dl>
        ) : null}
        {view.qrShort || view.labelNumber !== null ? (
          <div className="token-line">
            {view.qrShort ? (
              <span className="qr-short" title="Last characters of the QR claim code" data-testid={`slot-${number}-qr`}>
                QR …{view.qrShort}
              </span>
            ) : null}
            {view.labelNumber !== null ? <span className="label-number">Label {view.labelNumber}</span> : null}
          </div>
        ) : null}
        {view.progress ? <ProgressBar progress={view.progress} slotNumber={number} /> : null}
        {view.failure ? (
          <div className="failure" data-testid={`slot-${number}-error`} data-code={view.failure.code}>
            <p className="failure-next" data-testid={`slot-${number}-next-step`}>
              {view.failure.next}
            </p>
            <p className="failure-detail">{view.failure.message}</p>
          </div>
        ) : null}
      </div>
      <div className="slot-actions">
        {view.actions.map((action) => (
          <button
            key={action.command}
            type="button"
            className={action.primary ? 'button button-primary' : 'button'}
            data-testid={`slot-${number}-${action.command}`}
            disabled={busy}
            onClick={() => onCommand(slot.id, action.command)}
          >
            {action.label}
          </button>
        ))}
      </div>
    </article>
  );
});
