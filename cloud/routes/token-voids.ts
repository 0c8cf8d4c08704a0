import { z } from 'zod';
import { CloudHttpError } from '../http/http-error.js';
import { readJsonBody } from '../http/request-body.js';
import { callerOf, type Route } from '../http/route.js';
import { parseInput } from '../http/validate.js';
import { CLOUD_LIMITS } from '../limits.js';
import { qrTokenField, stationIdField } from './wire-fields.js';

const voidEntry = z.object({
  qrToken: qrTokenField,
  /** `voided`: a supervisor took it out before use; `burned`: it went into a board that failed. */
  reason: z.enum(['voided', 'burned']),
  stationId: stationIdField,
  /** When the station retired it, ms since the epoch. */
  voidedAt: z.number().int().min(0).max(8_640_000_000_000_000),
});

const voidsRequest = z.object({ voids: z.array(voidEntry).min(1).max(CLOUD_LIMITS.voidsPerPushMax) });

/**
 * Stations report tokens they will never ship (an outbox: at least once). Idempotent by token:
 * the same report again counts as a duplicate; the other reason for the same token is a conflict.
 * All or nothing. A retired token's AuthToken never connects and its QR code never claims.
 */
export const pushTokenVoidsRoute: Route = {
  method: 'POST',
  path: '/api/v1/station/token-voids',
  auth: 'bearer',
  clients: ['api', 'station'],
  async handle(ctx) {
    const input = parseInput(voidsRequest, await readJsonBody(ctx.req, CLOUD_LIMITS.jsonBodyBytes * 4), 'request body');
    const outcome = await ctx.store.staticTokens.pushVoids(callerOf(ctx).orgId, input.voids);
    switch (outcome.kind) {
      case 'ok':
        return { status: 200, body: { accepted: outcome.accepted, duplicates: outcome.duplicates } };
      case 'unknown-token':
        throw new CloudHttpError('NOT_FOUND', `Entry ${outcome.index} names a QR token this organisation does not own; nothing was stored.`);
      case 'conflict':
        throw new CloudHttpError(
          'CONFLICT',
          `Entry ${outcome.index} gives a token a different reason than the one already recorded; nothing was stored.`,
        );
    }
  },
};
