import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCloudServer, type CloudServer } from '../../../cloud/server.js';
import { FlashlineCloudClient } from '../../../core/cloud/cloud-client.js';
import { dynamicQa, type DynamicQaCloud } from '../../../core/qa/dynamic-qa.js';
import { dynamicQaCloud } from '../../../core/qa/dynamic-qa-cloud.js';
import { QA_NETWORK, type AppBehaviour } from '../../../native/sim/app-behaviour.js';
import { createInProcessPort } from '../../../native/sim/in-process-port.js';
import { VirtualBoard } from '../../../native/sim/virtual-board.js';
import { VIRTUAL_BOARD_TEMPLATE_ID } from '../../../app/qa-wiring.js';

const CREDENTIALS = { clientId: 'qa-dynamic', clientSecret: 'qa-dynamic-secret-0123456789abcdef0123' };
const wifi = { ssid: QA_NETWORK.ssid, pass: QA_NETWORK.pass ?? '' };

/**
 * Dynamic QA with its cloud step, against the real cloud/ service: the station asks for a
 * provisioning token, hands it to the board over Edgent's console, sees the board online, erases
 * it, and deletes the test device, whose token then no longer works.
 */
describe('dynamic QA with the cloud', () => {
  let cloud: CloudServer;
  let client: FlashlineCloudClient;
  const boards: VirtualBoard[] = [];
  /** Tokens the cloud issued during a run (captured to check they are dead and never stored). */
  let issued: string[];

  beforeAll(async () => {
    cloud = await startCloudServer({ dbPath: ':memory:', seed: CREDENTIALS, log: () => undefined });
    client = new FlashlineCloudClient({ baseUrl: cloud.url, ...CREDENTIALS });
  });
  afterAll(async () => cloud.close());
  afterEach(() => {
    for (const b of boards.splice(0)) b.dispose();
  });

  function board(behaviour: Partial<AppBehaviour> = {}): VirtualBoard {
    // A dynamic product's board: the shared firmware, no token in NVS, no way out but the Wi-Fi QA gives it.
    const b = new VirtualBoard({ seed: 11 + boards.length, cloudUrl: cloud.url, app: { templateId: VIRTUAL_BOARD_TEMPLATE_ID }, appBehaviour: { uplink: false, ...behaviour } });
    boards.push(b);
    return b;
  }

  function recordingCloud(onlineTimeoutMs = 3_000): DynamicQaCloud {
    issued = [];
    const inner = dynamicQaCloud(client, cloud.seed.orgId, onlineTimeoutMs);
    return {
      ...inner,
      issueToken: async () => {
        const t = await inner.issueToken();
        issued.push(t.token);
        return t;
      },
    };
  }

  it('provisions, brings the board online with a fresh token, erases it, and removes the test device', async () => {
    const b = board();
    const result = await dynamicQa({ port: createInProcessPort(b), wifi, cloud: recordingCloud() });
    expect(result.reason).toBeUndefined();
    expect(result.results?.map((r) => [r.check, r.ok])).toEqual([
      ['improv_state', true],
      ['improv_info', true],
      ['wifi_provision', true],
      ['provisioned', true],
      ['cloud_token', true],
      ['cloud_online', true],
      ['config_erase', true],
      ['unconfigured', true],
      ['cloud_removed', true],
    ]);
    expect(issued).toHaveLength(1);
    const token = issued[0]!;
    // Nothing of the test is left: not in the board, not in the cloud.
    expect(b.storedWifi).toBeNull();
    expect(b.cloudOnline).toBe(false);
    expect(await client.isHardwareConnected(token)).toBeNull();
    expect(JSON.stringify(result)).not.toContain(token);
  });

  it('a board that never comes online fails, and is still erased and its test device removed', async () => {
    const b = board({ cloudConnectMs: 60_000 });
    const result = await dynamicQa({ port: createInProcessPort(b), wifi, cloud: recordingCloud(600) });
    expect(result.ok).toBe(false);
    expect(result.reason).toBe('Dynamic QA step "cloud_online" failed: the board did not come online in the cloud within 0.6 s.');
    expect(result.results?.map((r) => r.check).slice(-3)).toEqual(['config_erase', 'unconfigured', 'cloud_removed']);
    expect(result.results?.every((r) => r.check === 'cloud_online' || r.ok)).toBe(true);
    expect(b.storedWifi).toBeNull();
    expect(await client.isHardwareConnected(issued[0]!)).toBeNull();
  });

  it('a factory reset that keeps the token fails the board; the token is dead in the cloud anyway', async () => {
    const b = board({ failure: 'erase-ignored' });
    const result = await dynamicQa({ port: createInProcessPort(b), wifi, cloud: recordingCloud() });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/"unconfigured" failed: after the factory reset the board is still configured/);
    expect(await client.isHardwareConnected(issued[0]!)).toBeNull();
  });
});

describe('dynamicQaCloud: the QA user', () => {
  it('is looked up once for slots that start QA together (no duplicate creation, no 409), and again after a failure', async () => {
    let lookups = 0;
    let fail = true;
    const client = {
      ensureUser: async () => {
        lookups += 1;
        await new Promise((r) => setTimeout(r, 5));
        if (fail) {
          fail = false;
          throw new Error('cloud down');
        }
        return 42;
      },
      provisionToken: async ({ ownerId }: { orgId: number; ownerId: number }) => ({ token: `tok-${ownerId}`, deviceId: ownerId }),
      isHardwareConnected: async () => null,
      deleteDevice: async () => undefined,
    };
    const qaCloud = dynamicQaCloud(client, 7);
    await expect(qaCloud.issueToken()).rejects.toThrow('cloud down');
    const issued = await Promise.all([qaCloud.issueToken(), qaCloud.issueToken(), qaCloud.issueToken()]);
    expect(issued.map((t) => t.deviceId)).toEqual([42, 42, 42]);
    expect(lookups).toBe(2);
  });
});
