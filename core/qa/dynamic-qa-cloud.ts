import type { CloudDeviceClient } from '../cloud/cloud-client.js';
import type { DynamicQaCloud } from './dynamic-qa.js';

/**
 * The cloud user that owns QA's test devices (Blynk's provisioning token needs an owner). Made on
 * first use in the maker's organisation; the test devices are deleted after each run.
 */
export const QA_OWNER = { email: 'qa-station@flashline.invalid', name: 'Flashline QA station' } as const;

/** Dynamic QA's cloud steps over the station's cloud client, in the maker's organisation. */
export function dynamicQaCloud(client: Pick<CloudDeviceClient, 'ensureUser' | 'provisionToken' | 'isHardwareConnected' | 'deleteDevice'>, orgId: number, onlineTimeoutMs?: number): DynamicQaCloud {
  // One lookup (or creation) of the QA user shared by every slot: slots running QA at the same time
  // would otherwise each create it, and all but one get the cloud's 409. A failed lookup is retried
  // by the next run.
  let owner: Promise<number> | null = null;
  return {
    async issueToken() {
      owner ??= client.ensureUser(QA_OWNER).catch((err: unknown) => {
        owner = null;
        throw err;
      });
      return client.provisionToken({ orgId, ownerId: await owner });
    },
    isHardwareConnected: (token) => client.isHardwareConnected(token),
    removeDevice: (deviceId) => client.deleteDevice(deviceId),
    ...(onlineTimeoutMs !== undefined ? { onlineTimeoutMs } : {}),
  };
}
