import { useCallback, useEffect, useRef, useState } from 'react';
import type { StationSnapshot } from '../../common/api.js';
import type { StationErrorData } from '../../common/errors.js';
import type { SlotCommand } from './describe-slot.js';
import { rehydrateError, type ConnectionState, type StationClient } from './station-client.js';
import { applyStationEvent } from './station-model.js';

export interface StationView {
  snapshot: StationSnapshot | null;
  connection: ConnectionState;
  /** Slots with a command in flight; their buttons are disabled until the answer. */
  busySlots: ReadonlySet<string>;
  lastError: StationErrorData | null;
  dismissError(): void;
  runCommand(slotId: string, command: SlotCommand): void;
  /** Print the sheet's new labels, or reprint it; failures land in `lastError`. */
  printSheet(reprint: boolean): void;
}

export function useStation(client: StationClient): StationView {
  const [snapshot, setSnapshot] = useState<StationSnapshot | null>(null);
  const [connection, setConnection] = useState<ConnectionState>(client.connectionState());
  const [busySlots, setBusySlots] = useState<ReadonlySet<string>>(new Set());
  const [lastError, setLastError] = useState<StationErrorData | null>(null);
  const mounted = useRef(true);

  useEffect(() => {
    mounted.current = true;
    const unsubscribe = client.subscribe((event) => setSnapshot((current) => applyStationEvent(current, event)));
    const refresh = () => {
      client.call('getSnapshot', {}).then(
        (fresh) => {
          if (mounted.current) setSnapshot(fresh);
        },
        (err: unknown) => {
          if (mounted.current) setLastError(rehydrateError(err).toJSON());
        },
      );
    };
    const stopWatching = client.onConnectionChange((state) => {
      setConnection(state);
      // Every (re)connect starts from a fresh snapshot: events sent while away are lost.
      if (state === 'connected') refresh();
    });
    // The socket may have opened between the first render and this effect: catch up, or the UI
    // would show "Connecting…" (and disable every button) for a connection that is already up.
    setConnection(client.connectionState());
    if (client.connectionState() === 'connected') refresh();
    return () => {
      mounted.current = false;
      unsubscribe();
      stopWatching();
    };
  }, [client]);

  const runCommand = useCallback(
    (slotId: string, command: SlotCommand) => {
      setBusySlots((busy) => new Set(busy).add(slotId));
      client
        .call(command, { slotId })
        .then(
          () => undefined,
          (err: unknown) => {
            if (mounted.current) setLastError(rehydrateError(err).toJSON());
          },
        )
        .finally(() => {
          if (!mounted.current) return;
          setBusySlots((busy) => {
            const next = new Set(busy);
            next.delete(slotId);
            return next;
          });
        });
    },
    [client],
  );

  const dismissError = useCallback(() => setLastError(null), []);

  const printSheet = useCallback(
    (reprint: boolean) => {
      client.call('printSheet', { reprint }).then(
        () => undefined,
        (err: unknown) => {
          if (mounted.current) setLastError(rehydrateError(err).toJSON());
        },
      );
    },
    [client],
  );

  return { snapshot, connection, busySlots, lastError, dismissError, runCommand, printSheet };
}
