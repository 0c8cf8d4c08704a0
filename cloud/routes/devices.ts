import { z } from 'zod';
import { CloudHttpError } from '../http/http-error.js';
import { readJsonBody } from '../http/request-body.js';
import { callerOf, type Route, type RouteContext } from '../http/route.js';
import { parseInput, queryObject } from '../http/validate.js';
import { CLOUD_LIMITS, CLOUD_TIMEOUTS } from '../limits.js';
import type { DeviceRow } from '../store/device-store.js';
import { actingOrg } from './access.js';
import { lifecycleError } from './claims.js';
import { toDeviceView } from './views.js';
import { idQueryParam, pagingQuery, positiveIdField } from './wire-fields.js';

function deviceNotFound(): CloudHttpError {
  return new CloudHttpError('NOT_FOUND', 'The device does not exist or belongs to another organisation.');
}

/** The device, when it sits in an organisation the caller manages. */
async function managedDevice(ctx: RouteContext, deviceId: number): Promise<DeviceRow> {
  const device = await ctx.store.devices.get(deviceId);
  if (!device || device.orgId === null || !(await ctx.store.orgs.manages(callerOf(ctx).orgId, device.orgId))) throw deviceNotFound();
  return device;
}

const listQuery = z.object({ orgId: idQueryParam().optional(), ...pagingQuery(CLOUD_LIMITS) });

/** Blynk's device list of one organisation (`orgId` defaults to the caller's). */
export const listDevicesRoute: Route = {
  method: 'GET',
  path: '/api/v1/organization/devices',
  auth: 'bearer',
  async handle(ctx) {
    const query = parseInput(listQuery, queryObject(ctx.url), 'query');
    const orgId = await actingOrg(ctx, query.orgId);
    const { rows, total } = await ctx.store.devices.listForOrg(orgId, query.page, query.size);
    return { status: 200, body: { content: rows.map(toDeviceView), totalElements: total } };
  },
};

const deviceQuery = z.object({ deviceId: idQueryParam() });

export const getDeviceRoute: Route = {
  method: 'GET',
  path: '/api/v1/organization/device',
  auth: 'bearer',
  async handle(ctx) {
    const { deviceId } = parseInput(deviceQuery, queryObject(ctx.url), 'query');
    return { status: 200, body: toDeviceView(await managedDevice(ctx, deviceId)) };
  },
};

/**
 * The owner deletes a device. A claimed static-token device is not destroyed: it becomes
 * unclaimed and returns to the organisation that made its token. Any other device is deleted.
 */
export const deleteDeviceRoute: Route = {
  method: 'DELETE',
  path: '/api/v1/organization/device',
  auth: 'bearer',
  async handle(ctx) {
    const { deviceId } = parseInput(deviceQuery, queryObject(ctx.url), 'query');
    const outcome = await ctx.store.lifecycle.deleteDevice(callerOf(ctx).orgId, deviceId);
    if (outcome.kind === 'not-found') throw deviceNotFound();
    if (outcome.kind !== 'ok') throw lifecycleError(outcome.kind);
    return { status: 200, body: { deleted: true, unclaimed: outcome.value.unclaimed } };
  },
};

/** A device's metadata values, by field name. */
export const getDeviceMetafieldsRoute: Route = {
  method: 'GET',
  path: '/api/v1/organization/device/metafield',
  auth: 'bearer',
  async handle(ctx) {
    const { deviceId } = parseInput(deviceQuery, queryObject(ctx.url), 'query');
    const device = await managedDevice(ctx, deviceId);
    return { status: 200, body: JSON.parse(device.metadata) as Record<string, string> };
  },
};

const provisionRequest = z.object({ orgId: positiveIdField, ownerId: positiveIdField });

/**
 * Blynk's dynamic provisioning token for a Wi-Fi product: the phone app asks for it and hands it
 * to the board with the Wi-Fi credentials. The device (owned by `ownerId` in `orgId`) exists from
 * now on and completes when the board first connects with the token, within the token's lifetime.
 * The token is in this reply only; the service keeps a hash.
 */
export const provisionTokenRoute: Route = {
  method: 'POST',
  path: '/api/v1/organization/device/provision/token',
  auth: 'bearer',
  async handle(ctx) {
    const input = parseInput(provisionRequest, await readJsonBody(ctx.req, CLOUD_LIMITS.jsonBodyBytes), 'request body');
    const orgId = await actingOrg(ctx, input.orgId);
    const owner = await ctx.store.orgs.getUser(input.ownerId);
    if (!owner || !(await ctx.store.orgs.manages(callerOf(ctx).orgId, owner.orgId))) {
      throw new CloudHttpError('NOT_FOUND', "The user does not exist or you don't have access to them.");
    }
    const made = await ctx.store.devices.createProvisioned(orgId, owner.id, ctx.now + CLOUD_TIMEOUTS.provisionTokenTtlS * 1000, ctx.now);
    return { status: 200, body: { token: made.token, deviceId: made.deviceId } };
  },
};
