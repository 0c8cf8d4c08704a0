import type { CloudDeviceClient } from '../core/cloud/cloud-client.js';
import type { LoadedProduct } from '../core/product/manifest.js';
import { dynamicQa } from '../core/qa/dynamic-qa.js';
import { dynamicQaCloud } from '../core/qa/dynamic-qa-cloud.js';
import type { QaServiceDeps } from '../core/qa/qa-service.js';
import { resetToApp } from '../native/flash/reset-to-app.js';
import type { VirtualBoardOptions } from '../native/sim/virtual-board.js';

/**
 * The `BLYNK_TEMPLATE_ID` the virtual boards' firmware declares: the embedded cloud's seeded
 * template (cloud/store/cloud-store.ts), so a dynamic board completes its provisioning there.
 */
export const VIRTUAL_BOARD_TEMPLATE_ID = 'TMPLflashline1';

/** Virtual boards connect to this cloud like devices (token from NVS, or given by dynamic QA). */
export function virtualBoardCloud(cloudUrl: string): VirtualBoardOptions {
  return { cloudUrl, app: { templateId: VIRTUAL_BOARD_TEMPLATE_ID } };
}

/** QaService's dynamic-QA dependencies: the run, the reset into the app, the cloud step in the maker's organisation. */
export function dynamicQaWiring(
  client: Pick<CloudDeviceClient, 'ensureUser' | 'provisionToken' | 'isHardwareConnected' | 'deleteDevice'>,
  orgId: number,
): Pick<QaServiceDeps, 'dynamicQa' | 'resetToApp' | 'dynamicCloud'> {
  return { dynamicQa, resetToApp: (port) => resetToApp(port), dynamicCloud: dynamicQaCloud(client, orgId) };
}

/**
 * A dynamic-token product gets no token at the factory, so the provisioning run (reserve, flash a
 * token, label) is refused for it; its boards go through QA's dynamic run instead. The line flow
 * for such products (shared firmware only, QA, factory reset, no label) is not in the engine yet.
 */
export function dynamicProductRefusal(product: LoadedProduct): string | null {
  if (product.manifest.flashline.tokenKind !== 'dynamic') return null;
  return `${product.name} is a dynamic-token product: its boards get no token at the factory — test them with Dynamic QA on the QA screen.`;
}
