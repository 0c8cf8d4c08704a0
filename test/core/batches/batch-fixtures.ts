import { createHash } from 'node:crypto';
import type { BatchToken } from '../../../core/batches/batch-zip.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** 32 characters of the static-token alphabet, derived from a seed so runs are repeatable. */
export function token32(seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  return Array.from(digest.subarray(0, 32), (b) => ALPHABET[b % 64]).join('');
}

export function batchTokens(n: number, seed: string): BatchToken[] {
  return Array.from({ length: n }, (_, i) => ({ authToken: token32(`${seed}-auth-${i}`), qrToken: `sqr_${token32(`${seed}-qr-${i}`)}` }));
}
