import type { CloudDeviceClient } from '../core/cloud/cloud-client.js';
import type { LoadedProduct } from '../core/product/manifest.js';
import { dynamicQa, type DynamicQaCloud } from '../core/qa/dynamic-qa.js';
import { dynamicQaCloud } from '../core/qa/dynamic-qa-cloud.js';
import { dynamicLineQa, dynamicLineRefusal } from '../core/qa/dynamic-line-qa.js';
import type { TestRunStore } from '../core/qa/test-run-store.js';
import type { DynamicLineDeps } from '../core/station/dynamic-line-run.js';
import type { SelfTestPlan } from '../common/self-test-plan.js';
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
 * A dynamic-token product gets no token at the factory: the line flashes its shared firmware, runs
 * dynamic QA and ships it factory-reset (core/station/dynamic-line-run.ts). Refused only when its
 * test plan names no QA Wi-Fi network to test with.
 */
export function dynamicProductRefusal(product: LoadedProduct): string | null {
  if (product.manifest.flashline.tokenKind !== 'dynamic') return null;
  return dynamicLineRefusal(product.name, product.testPlan);
}

/**
 * The engine's dynamic-line wiring: the same run as QA's, with the same cloud step (pass QA's
 * `dynamicCloud`: one QA user lookup for the whole station), stored per MAC.
 */
export function dynamicLineWiring(parts: { cloud?: DynamicQaCloud; plan: () => SelfTestPlan | undefined; testRuns: TestRunStore; log?: (line: string) => void }): DynamicLineDeps {
  return dynamicLineQa({ run: dynamicQa, ...parts });
}
