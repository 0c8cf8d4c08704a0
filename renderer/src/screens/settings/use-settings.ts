import { useCallback, useEffect, useState } from 'react';
import type { SettingsView } from '../../../../common/settings.js';
import { isStationErrorData } from '../../../../common/errors.js';
import type { StationClient } from '../../station-client.js';

/** The settings view, fetched now and again whenever `refreshKey` changes (a pushed snapshot). */
export function useSettingsView(client: StationClient, refreshKey: unknown): { view: SettingsView | null; error: string | null; reload: () => void; setView: (view: SettingsView) => void } {
  const [view, setView] = useState<SettingsView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let live = true;
    client.call('getSettings', {}).then(
      (fresh) => {
        if (!live) return;
        setView(fresh);
        setError(null);
      },
      (err: unknown) => {
        if (live) setError(isStationErrorData(err) ? err.message : String(err));
      },
    );
    return () => {
      live = false;
    };
  }, [client, refreshKey, tick]);
  return { view, error, reload, setView };
}

/** A station error's sentence, or the thrown thing as text. */
export function errorText(err: unknown): string {
  return isStationErrorData(err) ? err.message : err instanceof Error ? err.message : String(err);
}
