import { z } from 'zod';
import { CloudHttpError } from '../http/http-error.js';
import type { Route } from '../http/route.js';
import { parseInput, queryObject } from '../http/validate.js';
import { authTokenField } from './wire-fields.js';

const connectedQuery = z.object({ token: authTokenField });

/**
 * Blynk's device-side HTTP API: `GET /external/api/isHardwareConnected?token=<AuthToken>` answers
 * a bare JSON `true` or `false`. The AuthToken is the credential here, so an unknown one is a 404
 * whose message does not repeat it.
 */
export const isHardwareConnectedRoute: Route = {
  method: 'GET',
  path: '/external/api/isHardwareConnected',
  auth: 'public',
  async handle(ctx) {
    const { token } = parseInput(connectedQuery, queryObject(ctx.url), 'query');
    const connected = ctx.store.devices.isConnected(token);
    if (connected === null) throw new CloudHttpError('NOT_FOUND', 'Invalid token.');
    return { status: 200, body: connected };
  },
};
