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

/** An id in a query string (`orgId`, `deviceId`, `templateId`). */
export const idQueryParam = () => intQueryParam(1, 2_147_483_647);

/** Blynk's paging: `page` is 0-based, `size` at most 1000 (50 by default). */
export function pagingQuery(limits: { pageIndexMax: number; pageSizeMax: number; pageSizeDefault: number }) {
  return {
    page: intQueryParam(0, limits.pageIndexMax).default(0),
    size: intQueryParam(1, limits.pageSizeMax).default(limits.pageSizeDefault),
  };
}

/** A person-facing name: no control characters, trimmed, 1-100 characters. */
export const displayNameField = z
  .string()
  .transform((s) => s.trim())
  .pipe(
    z
      .string()
      .min(1)
      .max(100)
      .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters'),
  );

/** A metadata field name: what CSV headers must equal, so exact and case-sensitive (no trimming). */
export const metadataFieldNameField = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^\p{Cc},"]+$/u, 'must not contain control characters, commas or quotes')
  .refine((s) => s === s.trim(), 'must not start or end with spaces');

/** Blynk's QR code as scanned: `sqr_…` or `sqr_…+{orgId}`. */
export const claimCodeField = z
  .string()
  .max(64)
  .regex(/^sqr_[-_a-zA-Z0-9]{32}(\+[1-9]\d{0,9})?$/, 'must be a QR token, "sqr_…" or "sqr_…+{orgId}"');

/** BLYNK_TEMPLATE_ID as firmware declares it. */
export const blynkTemplateIdField = z.string().regex(/^TMPL[A-Za-z0-9_-]{1,32}$/, 'must look like "TMPL…" (letters, digits, "_" or "-")');
