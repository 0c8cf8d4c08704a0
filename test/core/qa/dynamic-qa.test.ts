import { afterEach, describe, expect, it } from 'vitest';
import { dynamicQa } from '../../../core/qa/dynamic-qa.js';
import { QA_NETWORK, type AppBehaviour } from '../../../native/sim/app-behaviour.js';
import { createInProcessPort } from '../../../native/sim/in-process-port.js';
import { VirtualBoard } from '../../../native/sim/virtual-board.js';

const boards: VirtualBoard[] = [];
afterEach(() => {
  for (const b of boards.splice(0)) b.dispose();
});

function board(behaviour: Partial<AppBehaviour> = {}): VirtualBoard {
  const b = new VirtualBoard({ seed: 3, appBehaviour: behaviour });
  boards.push(b);
  return b;
}

const wifi = { ssid: QA_NETWORK.ssid, pass: QA_NETWORK.pass ?? '' };

describe('dynamicQa: Improv provisioning, then Edgent factory reset', () => {
  it('provisions the QA network, confirms it, erases it, and confirms the board is unconfigured', async () => {
    const b = board();
    const result = await dynamicQa({ port: createInProcessPort(b), wifi });
    expect(result.reason).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.results?.map((r) => [r.check, r.ok])).toEqual([
      ['improv_state', true],
      ['improv_info', true],
      ['wifi_provision', true],
      ['provisioned', true],
      ['config_erase', true],
      ['unconfigured', true],
    ]);
    expect(result.results?.find((r) => r.check === 'provisioned')?.value).toBe('CONNECTING_CLOUD');
    expect(b.storedWifi).toBeNull();
  });

  it('fails a board whose factory reset does not erase the QA network', async () => {
    const b = board({ failure: 'erase-ignored' });
    const result = await dynamicQa({ port: createInProcessPort(b), wifi });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/"unconfigured" failed: after the factory reset the board is still configured/);
    expect(b.storedWifi?.ssid).toBe(QA_NETWORK.ssid);
  });

  it('a board that cannot join the QA network fails, and is still left unconfigured', async () => {
    const b = board({ networks: [{ ssid: 'Elsewhere', rssi: -70 }] });
    const result = await dynamicQa({ port: createInProcessPort(b), wifi });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/could not join the Wi-Fi network/);
    expect(result.results?.map((r) => r.check)).toContain('config_erase');
    expect(b.storedWifi).toBeNull();
  });

  it('refuses a board that is already configured (it came back from a customer?)', async () => {
    const b = board();
    const first = await dynamicQa({ port: createInProcessPort(b), wifi });
    expect(first.ok).toBe(true);
    b.setAppBehaviour({ failure: 'erase-ignored' });
    await dynamicQa({ port: createInProcessPort(b), wifi });
    const result = await dynamicQa({ port: createInProcessPort(b), wifi });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/already "provisioned"/);
  });

  it('a board with no Improv firmware fails with a reason, not a hang', async () => {
    const b = board({ failure: 'silent' });
    b.setFaults({ silent: true });
    const result = await dynamicQa({ port: createInProcessPort(b), wifi });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/does its firmware speak Improv/);
  });
});
