import { z } from 'zod';
import { CloudHttpError } from '../http/http-error.js';
import type { Route } from '../http/route.js';
import { parseInput, queryObject } from '../http/validate.js';
import { authTokenField, blynkTemplateIdField } from './wire-fields.js';

/**
 * The device side. Blynk's device HTTP API puts the AuthToken in the `token` query parameter;
 * it is the credential, so every refusal is the same "Invalid token." (unknown, deleted, voided,
 * expired provisioning token alike) and never repeats the token.
 */
function invalidToken(): CloudHttpError {
  return new CloudHttpError('NOT_FOUND', 'Invalid token.');
}

const tokenQuery = z.object({ token: authTokenField });

/** `GET /external/api/isHardwareConnected?token=<AuthToken>` answers a bare JSON `true` or `false`. */
export const isHardwareConnectedRoute: Route = {
  method: 'GET',
  path: '/external/api/isHardwareConnected',
  auth: 'public',
  async handle(ctx) {
    const { token } = parseInput(tokenQuery, queryObject(ctx.url), 'query');
    const connected = await ctx.store.devices.isConnected(token, ctx.now);
    if (connected === null) throw invalidToken();
    return { status: 200, body: connected };
  },
};

const connectQuery = z.object({ token: authTokenField, templateId: blynkTemplateIdField.optional() });

/**
 * Our stand-in for a board's link to the cloud (Blynk boards connect over the Blynk or MQTT
 * protocol, which this service does not speak): `POST /external/api/device/connect?token=<AuthToken>
 * [&templateId=<BLYNK_TEMPLATE_ID>]`. A static token's first connect puts its device, unclaimed,
 * in the creating organisation; a disclaimed device returns there; a provisioning token's first
 * connect completes the device (then `templateId` is required). The device simulator and the tests
 * use it.
 */
export const deviceConnectRoute: Route = {
  method: 'POST',
  path: '/external/api/device/connect',
  auth: 'public',
  async handle(ctx) {
    const { token, templateId } = parseInput(connectQuery, queryObject(ctx.url), 'query');
    const outcome = await ctx.store.devices.connect(token, ctx.now, templateId ?? null);
    switch (outcome.kind) {
      case 'connected':
        return {
          status: 200,
          body: { deviceId: outcome.device.id, firstConnect: outcome.firstConnect, ...(outcome.device.orgId !== null ? { orgId: outcome.device.orgId } : {}) },
        };
      case 'invalid-token':
        throw invalidToken();
      case 'template-required':
        throw new CloudHttpError('INVALID_INPUT', 'A provisioning device must send its templateId (BLYNK_TEMPLATE_ID) on its first connect.');
      case 'unknown-template':
        throw new CloudHttpError('NOT_FOUND', 'No device template with that templateId is available to this device.');
    }
  },
};

/** The board's link went away: `POST /external/api/device/disconnect?token=<AuthToken>`. */
export const deviceDisconnectRoute: Route = {
  method: 'POST',
  path: '/external/api/device/disconnect',
  auth: 'public',
  async handle(ctx) {
    const { token } = parseInput(tokenQuery, queryObject(ctx.url), 'query');
    if (!(await ctx.store.devices.disconnect(token, ctx.now))) throw invalidToken();
    return { status: 200, empty: true };
  },
};

const metaUpdateQuery = z.object({
  token: authTokenField,
  metaFieldName: z.string().min(1).max(64),
  value: z.string().max(255),
});

/**
 * Blynk's `GET /external/api/device/meta/update?token=&metaFieldName=&value=`: the field name is
 * case-sensitive and must be one of the template's metadata fields. Answers an empty 200 as Blynk does.
 */
export const metaUpdateRoute: Route = {
  method: 'GET',
  path: '/external/api/device/meta/update',
  auth: 'public',
  async handle(ctx) {
    const input = parseInput(metaUpdateQuery, queryObject(ctx.url), 'query');
    const outcome = await ctx.store.devices.updateMetadata(input.token, input.metaFieldName, input.value, ctx.now);
    switch (outcome.kind) {
      case 'ok':
        return { status: 200, empty: true };
      case 'invalid-token':
        throw invalidToken();
      case 'unknown-field':
        throw new CloudHttpError('NOT_FOUND', "MetaField doesn't exist.");
      case 'bad-value':
        throw new CloudHttpError('INVALID_INPUT', "The value doesn't match the metadata field's type or is too long.");
    }
  },
};
