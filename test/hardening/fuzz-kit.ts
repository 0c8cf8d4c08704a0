import { StationError } from '../../common/errors.js';

/** Seeded PRNG (mulberry32): every fuzz run is repeatable from its seed, printed on failure. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytesFrom(rand: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

export function intBelow(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}

export interface Timed<T> {
  value?: T;
  error?: unknown;
  ms: number;
}

export async function timed<T>(work: () => Promise<T>): Promise<Timed<T>> {
  const started = performance.now();
  try {
    return { value: await work(), ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

/** Runs `fn` and returns the StationError it throws; anything else (a return, a TypeError) fails. */
export function stationErrorOf(fn: () => unknown, context = ''): StationError {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    if (err instanceof StationError) return err;
    throw new Error(`${context}: expected a StationError, got ${String(err)}`, { cause: err });
  }
  throw new Error(`${context}: expected a StationError, but the call returned ${typeof result}`);
}

/** Runs at most `limit` of `jobs` at once. */
export async function pool<T>(jobs: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}
