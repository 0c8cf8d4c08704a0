import type { Route } from '../http/route.js';
import { claimStaticTokenRoute, disclaimStaticTokenRoute, unclaimStaticTokenRoute } from './claims.js';
import { pushDeviceRecordsRoute } from './device-records.js';
import { deleteDeviceRoute, getDeviceMetafieldsRoute, getDeviceRoute, listDevicesRoute, provisionTokenRoute } from './devices.js';
import { deviceConnectRoute, deviceDisconnectRoute, isHardwareConnectedRoute, metaUpdateRoute } from './external.js';
import { oauthTokenRoute } from './oauth-token.js';
import {
  createOAuthClientRoute,
  createOrganizationRoute,
  createTemplateRoute,
  createUserRoute,
  getOrganizationRoute,
  listSubOrganizationsRoute,
  listTemplatesRoute,
  listUsersRoute,
} from './organizations.js';
import {
  createStaticTokensRoute,
  deleteStaticTokenRoute,
  exportStaticTokensRoute,
  generateStaticTokensRoute,
  importStaticTokensRoute,
  listStaticTokensRoute,
  previewStaticTokenImportRoute,
} from './static-tokens.js';
import { pushTokenVoidsRoute } from './token-voids.js';

/** Every endpoint of the service; `cloud/openapi.json` describes exactly these (a test checks). */
export const CLOUD_ROUTES: readonly Route[] = [
  oauthTokenRoute,
  // Organisations, users, OAuth2 clients, templates.
  getOrganizationRoute,
  createOrganizationRoute,
  listSubOrganizationsRoute,
  createUserRoute,
  listUsersRoute,
  createOAuthClientRoute,
  createTemplateRoute,
  listTemplatesRoute,
  // Static tokens.
  listStaticTokensRoute,
  createStaticTokensRoute,
  importStaticTokensRoute,
  previewStaticTokenImportRoute,
  exportStaticTokensRoute,
  deleteStaticTokenRoute,
  claimStaticTokenRoute,
  unclaimStaticTokenRoute,
  disclaimStaticTokenRoute,
  // Devices and provisioning.
  listDevicesRoute,
  getDeviceRoute,
  deleteDeviceRoute,
  getDeviceMetafieldsRoute,
  provisionTokenRoute,
  // Stations.
  generateStaticTokensRoute,
  pushDeviceRecordsRoute,
  pushTokenVoidsRoute,
  // The device side.
  isHardwareConnectedRoute,
  deviceConnectRoute,
  deviceDisconnectRoute,
  metaUpdateRoute,
];
