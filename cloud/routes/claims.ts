import { z } from 'zod';
import { CloudHttpError } from '../http/http-error.js';
import { readJsonBody } from '../http/request-body.js';
import { callerOf, type Route } from '../http/route.js';
import { parseInput } from '../http/validate.js';
import { CLOUD_LIMITS } from '../limits.js';
import { parseClaimCode, type LifecycleError } from '../store/lifecycle-store.js';
import { toDeviceView, toStaticTokenView } from './views.js';
import { claimCodeField, positiveIdField } from './wire-fields.js';

const LIFECYCLE_ERRORS: Record<LifecycleError, () => CloudHttpError> = {
  'not-found': () => new CloudHttpError('NOT_FOUND', 'The static token does not exist or is not accessible.'),
  'user-not-found': () => new CloudHttpError('NOT_FOUND', "The user does not exist or you don't have access to them."),
  'already-claimed': () => new CloudHttpError('CONFLICT', 'The static token is already claimed; nobody else can claim it.'),
  'not-claimed': () => new CloudHttpError('CONFLICT', 'The static token is not claimed.'),
  retired: () => new CloudHttpError('CONFLICT', 'The static token was voided at the factory and cannot be claimed.'),
};

export function lifecycleError(kind: LifecycleError): CloudHttpError {
  return LIFECYCLE_ERRORS[kind]();
}

const claimRequest = z.object({ token: claimCodeField, userId: positiveIdField });

/**
 * Blynk's claim: the QR code (plain `sqr_…` or `sqr_…+{orgId}`) and the user who gets the device.
 * The caller must manage both the token's organisation and the user's. The device moves to the
 * user's organisation (it is created there if its board never connected); nobody can claim it again.
 */
export const claimStaticTokenRoute: Route = {
  method: 'POST',
  path: '/api/v1/organization/static-tokens/claim',
  auth: 'bearer',
  async handle(ctx) {
    const input = parseInput(claimRequest, await readJsonBody(ctx.req, CLOUD_LIMITS.jsonBodyBytes), 'request body');
    const code = parseClaimCode(input.token)!;
    const outcome = await ctx.store.lifecycle.claim(callerOf(ctx).orgId, code, input.userId, ctx.now);
    if (outcome.kind !== 'ok') throw lifecycleError(outcome.kind);
    return { status: 200, body: toDeviceView(outcome.value) };
  },
};

const tokenRequest = z.object({ token: claimCodeField });

/** Blynk's unclaim: the device returns, ownerless, to the organisation that made the token. */
export const unclaimStaticTokenRoute: Route = {
  method: 'POST',
  path: '/api/v1/organization/static-tokens/unclaim',
  auth: 'bearer',
  async handle(ctx) {
    const input = parseInput(tokenRequest, await readJsonBody(ctx.req, CLOUD_LIMITS.jsonBodyBytes), 'request body');
    const outcome = await ctx.store.lifecycle.unclaim(callerOf(ctx).orgId, parseClaimCode(input.token)!);
    if (outcome.kind !== 'ok') throw lifecycleError(outcome.kind);
    return { status: 200, body: toStaticTokenView(outcome.value, false) };
  },
};

/**
 * Disclaim (creating organisation only; our endpoint): the token becomes unclaimed and its device
 * leaves whatever organisation it was in; on its next connect it returns to the creator.
 */
export const disclaimStaticTokenRoute: Route = {
  method: 'POST',
  path: '/api/v1/organization/static-tokens/disclaim',
  auth: 'bearer',
  async handle(ctx) {
    const input = parseInput(tokenRequest, await readJsonBody(ctx.req, CLOUD_LIMITS.jsonBodyBytes), 'request body');
    const outcome = await ctx.store.lifecycle.disclaim(callerOf(ctx).orgId, parseClaimCode(input.token)!);
    if (outcome.kind !== 'ok') throw lifecycleError(outcome.kind);
    return { status: 200, body: toStaticTokenView(outcome.value, false) };
  },
};
