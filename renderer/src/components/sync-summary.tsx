import { useEffect, useState, type ReactElement } from 'react';
import type { SyncStatus } from '../../../common/api.js';

/** How often the "last sync N min ago" text is refreshed (ms). */
const AGE_REFRESH_MS = 30_000;

export function describeAge(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const minutes = Math.floor((now - Date.parse(iso)) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 120) return `${minutes} min ago`;
  return `${Math.floor(minutes / 60)} h ago`;
}

/** "312 records waiting, last sync 14 min ago" — always saying what is waiting for the cloud. */
export function SyncSummary({ sync }: { sync: SyncStatus }): ReactElement {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), AGE_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => setNow(Date.now()), [sync]);
  const waiting = `${sync.waiting.toLocaleString('en-US')} ${sync.waiting === 1 ? 'record' : 'records'} waiting`;
  const trouble = sync.lastError !== null || sync.held > 0;
  return (
    <div className={`sync-summary${trouble ? ' counter-alarm' : ''}`} data-testid="sync-summary" data-sync-state={sync.state} role="status" aria-live="polite">
      <span>
        {waiting}, last sync {describeAge(sync.lastSuccessAt, now)}
      </span>
      {sync.held > 0 ? <span> · {sync.held} held</span> : null}
      {sync.lastError ? <span className="sync-error"> · {sync.state === 'syncing' ? 'syncing…' : 'cloud unreachable, retrying'}</span> : null}
      {sync.lowStock ? <span> · low stock</span> : null}
    </div>
  );
}
