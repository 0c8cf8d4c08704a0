import { z } from 'zod';

/** Field rules shared by the endpoints' request schemas. */
export const stationIdField = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of letters, digits, ".", "_" or "-"');

/** Idempotency keys chosen by the station (a UUID fits). */
export const idempotencyKeyField = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{8,128}$/, 'must be 8-128 characters of letters, digits, ".", "_", ":" or "-"');

export const positiveIdField = z.number().int().min(1).max(2_147_483_647);

export const qrTokenField = z.string().regex(/^sqr_[-_a-zA-Z0-9]{32}$/, 'must be "sqr_" followed by 32 token characters');

export const authTokenField = z.string().regex(/^[-_a-zA-Z0-9]{32}$/, 'must be a 32-character AuthToken');

/** A whole number in a query string, within [min, max]. */
export function intQueryParam(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,10}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}
