import type { Route } from '../http/route.js';
import { pushDeviceRecordsRoute } from './device-records.js';
import { isHardwareConnectedRoute } from './external.js';
import { oauthTokenRoute } from './oauth-token.js';
import { generateStaticTokensRoute, listStaticTokensRoute } from './static-tokens.js';

/** Every endpoint of the service; `cloud/openapi.json` describes exactly these (a test checks). */
export const CLOUD_ROUTES: readonly Route[] = [
  oauthTokenRoute,
  generateStaticTokensRoute,
  listStaticTokensRoute,
  pushDeviceRecordsRoute,
  isHardwareConnectedRoute,
];
