import { memo, type ReactElement } from 'react';
import type { StationInfo, StockView, SyncStatus } from '../../../common/api.js';
import { SyncSummary } from './sync-summary.js';
import type { ConnectionState } from '../station-client.js';
import { StateIcon } from './state-icon.js';

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  refused: 'Refused: reopen the station link',
};

export function ConnectionBadge({ state }: { state: ConnectionState }): ReactElement {
  return (
    <div className="connection" data-testid="connection" data-connection={state} role="status" aria-live="polite">
      {state === 'connected' ? (
        <StateIcon icon="check" />
      ) : state === 'refused' ? (
        <StateIcon icon="cross" />
      ) : (
        <svg className="state-icon spinner" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
          <path d="M12 2.5a9.5 9.5 0 1 1-9.5 9.5" />
        </svg>
      )}
      <span>{CONNECTION_TEXT[state]}</span>
    </div>
  );
}

interface CounterProps {
  label: string;
  /** Null until the first snapshot: show a dash, not a misleading zero. */
  value: number | null;
  testId: string;
  alarm?: boolean;
}

function Counter({ label, value, testId, alarm = false }: CounterProps): ReactElement {
  return (
    <div className={`counter${alarm ? ' counter-alarm' : ''}`} data-testid={testId}>
      <span className="counter-value">{value === null ? '—' : value.toLocaleString('en-US')}</span>
      <span className="counter-label">{label}</span>
    </div>
  );
}

export interface StationHeaderProps {
  station: StationInfo | null;
  stock: StockView | null;
  connection: ConnectionState;
  /** Outbox and last sync ("12 records waiting, last sync 3 min ago"); absent without a sync engine. */
  sync?: SyncStatus | null;
}

export const StationHeader = memo(function StationHeader({ station, stock, connection, sync = null }: StationHeaderProps): ReactElement {
  return (
    <header className="station-header">
      <div className="identity">
        <div className="brand" aria-hidden="true">
          FLASHLINE
        </div>
        <h1 className="station-name" data-testid="station-name">
          {station?.name ?? 'Station'}
        </h1>
        <dl className="facts">
          <div>
            <dt>Product</dt>
            <dd data-testid="product-name">{station?.productName ?? '—'}</dd>
          </div>
          {station?.tokenKind === 'dynamic' ? (
            <div>
              <dt>Tokens</dt>
              <dd data-testid="token-kind">from the customer's app</dd>
            </div>
          ) : (
            <div>
              <dt>Batch</dt>
              <dd data-testid="batch-id">{station ? (station.batchId ?? 'none') : '—'}</dd>
            </div>
          )}
          {station?.simulator ? (
            <div>
              <dt>Mode</dt>
              <dd className="sim-mode">Simulator</dd>
            </div>
          ) : null}
        </dl>
      </div>
      {/* A dynamic-token product uses no tokens from the queue: the stock would only distract. */}
      {station?.tokenKind === 'dynamic' ? null : (
      <section className="stock" aria-label="Token stock">
        <Counter
          label="Available"
          value={stock?.available ?? null}
          testId="stock-available"
          // No `lowStockAt`: the product on the line uses no tokens (dynamic), so no stock alarm.
          alarm={stock !== null && stock.lowStockAt !== undefined && (stock.available === 0 || stock.available < stock.lowStockAt)}
        />
        {/* Reserved tokens sit in a slot that has not written yet: they are in progress too. */}
        <Counter label="In progress" value={stock ? stock.inProgress : null} testId="stock-in-progress" />
        <Counter label="Labelled" value={stock?.labelled ?? null} testId="stock-labelled" />
        <Counter label="Failed" value={stock?.failed ?? null} testId="stock-failed" alarm={(stock?.failed ?? 0) > 0} />
      </section>
      )}
      {stock?.shift ? (
        <section className="stock shift" aria-label="This shift">
          <Counter label="Done this shift" value={stock.shift.done} testId="shift-done" />
          <Counter label="Failed this shift" value={stock.shift.failed} testId="shift-failed" alarm={stock.shift.failed > 0} />
        </section>
      ) : null}
      {sync ? <SyncSummary sync={sync} /> : null}
      <ConnectionBadge state={connection} />
    </header>
  );
});
