import { z } from 'zod';
import { CloudHttpError } from '../http/http-error.js';
import { readJsonBody } from '../http/request-body.js';
import { callerOf, type Route } from '../http/route.js';
import { parseInput } from '../http/validate.js';
import { CLOUD_LIMITS } from '../limits.js';
import { idempotencyKeyField, qrTokenField, stationIdField } from './wire-fields.js';

const nullableText = (max: number) => z.string().min(1).max(max).nullable();

const deviceRecord = z
  .object({
    recordId: idempotencyKeyField,
    qrToken: qrTokenField,
    /** Station MAC of the board, `aa:bb:cc:dd:ee:ff`; stored lower-case. Null when the board never answered. */
    mac: z
      .string()
      .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, 'must be six colon-separated hex bytes')
      .transform((mac) => mac.toLowerCase())
      .nullable(),
    chip: nullableText(32),
    stationId: stationIdField,
    result: z.enum(['passed', 'failed']),
    /** SHA-256 of the per-device payload written to the board (NVS image or patched firmware). */
    payloadSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters')
      .nullable(),
    firmwareVersion: nullableText(64),
    labelRef: z.object({ sheetId: z.string().min(1).max(64), position: z.number().int().min(0).max(100_000) }).nullable(),
    /** When the station finished with the board, ms since the epoch. */
    completedAt: z.number().int().min(0).max(8_640_000_000_000_000),
  })
  .superRefine((record, ctx) => {
    if (record.result !== 'passed') return;
    // A board that passed was identified, flashed, self-tested and labelled: all of it is known.
    for (const key of ['mac', 'chip', 'payloadSha256', 'firmwareVersion', 'labelRef'] as const) {
      if (record[key] === null) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when result is "passed"' });
    }
  });

const pushRequest = z.object({
  records: z.array(deviceRecord).min(1).max(CLOUD_LIMITS.recordsPerPushMax),
});

/**
 * Stations push what they did with each token (an outbox: at least once). Idempotent by recordId,
 * and by (qrToken, mac): resending changes nothing. A push is all-or-nothing.
 */
export const pushDeviceRecordsRoute: Route = {
  method: 'POST',
  path: '/api/v1/station/device-records',
  auth: 'bearer',
  clients: ['api', 'station'],
  async handle(ctx) {
    const orgId = callerOf(ctx).orgId;
    const input = parseInput(pushRequest, await readJsonBody(ctx.req, CLOUD_LIMITS.deviceRecordsBodyBytes), 'request body');
    const outcome = await ctx.store.deviceRecords.push(orgId, input.records, ctx.now);
    switch (outcome.kind) {
      case 'ok':
        return { status: 200, body: { accepted: outcome.accepted, duplicates: outcome.duplicates } };
      case 'unknown-token':
        throw new CloudHttpError(
          'NOT_FOUND',
          `Record ${outcome.index} (recordId ${outcome.recordId}) names a QR token this organisation does not own; nothing was stored.`,
        );
      case 'conflict':
        throw new CloudHttpError(
          'CONFLICT',
          outcome.reason === 'record-changed'
            ? `Record ${outcome.index} (recordId ${outcome.recordId}) differs from the record already stored under that recordId; nothing was stored.`
            : `Record ${outcome.index} (recordId ${outcome.recordId}) puts a QR token on a board other than the one already recorded; nothing was stored.`,
        );
    }
  },
};
