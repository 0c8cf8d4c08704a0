import { StationError, type StationErrorData } from './errors.js';

/**
 * Runs `work` under a deadline of our own. On expiry `onTimeout` runs (close the port, so the stuck
 * call underneath fails too) and the returned promise rejects with the given error data. Nothing of
 * a dead board can hang a slot longer than `ms`.
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  timeoutError: StationErrorData,
  onTimeout?: () => void | Promise<void>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void Promise.resolve(onTimeout?.()).catch(() => undefined);
      reject(new StationError(timeoutError));
    }, ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
    // A late rejection of `work` after the deadline must not surface as unhandled.
    work.catch(() => undefined);
  }
}
