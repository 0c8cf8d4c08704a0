/** Time for the sync loop, so tests can run hours of backoff in microseconds. */
export interface SyncClock {
  now(): number;
  /** Calls `fn` after `ms`; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: SyncClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    // The sync loop must never keep a CLI process alive on its own.
    timer.unref?.();
    return () => clearTimeout(timer);
  },
};
