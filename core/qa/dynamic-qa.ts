import { StationError } from '../../common/errors.js';
import type { CheckResult } from '../../common/self-test-plan.js';
import type { SelfTestResult } from '../../common/self-test-protocol.js';
import { ImprovClient, IMPROV_PROVISION_TIMEOUT_MS } from '../../native/improv/improv-client.js';
import { SerialSession } from '../../native/improv/serial-session.js';
import { makeRedactor } from '../../native/selftest/redact.js';
import type { WebSerialPortLike } from '../../native/serial/web-serial-port.js';

/** A console command's JSON answer must arrive within this long. */
export const CONSOLE_ANSWER_TIMEOUT_MS = 2_000;
/** After `config erase` the board restarts: ROM, bootloader, app, console (a real ESP32: ~1 s). */
export const REBOOT_TIMEOUT_MS = 8_000;
/** While the board reboots, ask for `status` again this often. */
const STATUS_RETRY_MS = 300;

/** Asking the cloud whether the board came online: first after this long, then twice as long each time … */
const CLOUD_POLL_FIRST_MS = 50;
/** … up to this. */
const CLOUD_POLL_MAX_MS = 250;
/** Default wait for the board to come online in the cloud once it has its token. */
export const DYNAMIC_ONLINE_TIMEOUT_MS = 15_000;

/**
 * The cloud side of dynamic QA: a fresh provisioning token for a test device (Blynk's
 * `provision/token`, what the customer's phone app asks for), whether the board came online with
 * it, and the test device's removal afterwards (its token stops working).
 */
export interface DynamicQaCloud {
  issueToken(): Promise<{ token: string; deviceId: number }>;
  isHardwareConnected(token: string): Promise<boolean | null>;
  removeDevice(deviceId: number): Promise<void>;
  onlineTimeoutMs?: number;
}

export interface DynamicQaOptions {
  port: WebSerialPortLike;
  /** The QA network: provisioned for the test, erased before the board ships. */
  wifi: { ssid: string; pass: string };
  provisionTimeoutMs?: number;
  /** With a cloud: the board also gets a provisioning token and must come online with it. */
  cloud?: DynamicQaCloud;
  log?: (line: string) => void;
}

interface BoardStatus {
  state: string;
  configured: boolean;
  wifi: string | null;
  /** The board holds cloud credentials (a token); absent when the firmware does not say. */
  token?: boolean;
}

function parseStatus(line: string): BoardStatus | null {
  const start = line.indexOf('{"');
  if (start < 0) return null;
  try {
    const v = JSON.parse(line.slice(start)) as Record<string, unknown>;
    if (typeof v.state !== 'string' || typeof v.configured !== 'boolean') return null;
    return { state: v.state, configured: v.configured, wifi: typeof v.wifi === 'string' ? v.wifi : null, ...(typeof v.token === 'boolean' ? { token: v.token } : {}) };
  } catch {
    return null;
  }
}

/**
 * QA of a dynamic-token product (same firmware for every unit, no token at the factory; the
 * customer's phone app sets it up later). Over USB:
 *   1. Improv: the board is `ready` (unconfigured), says who it is, joins the QA network;
 *   2. `status`: it reports that network, configured;
 *   3. `config erase` (Edgent's factory reset), the board restarts;
 *   4. `status` + Improv: it is back unconfigured (`WAIT_CONFIG`, Improv `ready`).
 * The station never ships a board with the QA network in it: once provisioning was attempted, the
 * erase runs whatever failed in between, and a board whose erase is not confirmed fails.
 * Returned in the self-test result shape, so it is stored like any test run (kind `dynamic`).
 */
/**
 * Edgent's console `connect <auth>` (current Edgent-Arduino: `connect <auth> [host]`): the board
 * stores the token and connects. Improv carries no cloud token (its RPCs are Wi-Fi only), so the
 * token goes over the console, as a phone app's BLE/SoftAP provisioning hands it over in the field.
 * Then the cloud must see the board online with it.
 */
async function bringOnline(session: SerialSession, cloud: DynamicQaCloud, token: string): Promise<string> {
  session.drain();
  await session.sendLine(`connect ${token}`);
  const ack = await session.nextLine((l) => l.includes('"connect":'), CONSOLE_ANSWER_TIMEOUT_MS);
  if (!ack || !ack.includes('"connect":"saved"')) throw new Error('the board did not accept the provisioning token over its console (`connect`)');
  const timeoutMs = cloud.onlineTimeoutMs ?? DYNAMIC_ONLINE_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let wait = CLOUD_POLL_FIRST_MS;
  for (;;) {
    const online = await cloud.isHardwareConnected(token);
    if (online === null) throw new Error('the cloud no longer knows the provisioning token');
    if (online) return 'online';
    if (Date.now() >= deadline) throw new Error(`the board did not come online in the cloud within ${Math.round(timeoutMs / 100) / 10} s`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(wait, Math.max(1, deadline - Date.now()))));
    wait = Math.min(wait * 2, CLOUD_POLL_MAX_MS);
  }
}

export async function dynamicQa(options: DynamicQaOptions): Promise<SelfTestResult> {
  const started = Date.now();
  // Redacts every token-shaped run; once a provisioning token is issued, that token exactly too.
  let redact = makeRedactor(undefined);
  let issued: { token: string; deviceId: number } | null = null;
  const results: CheckResult[] = [];
  let session: SerialSession;
  try {
    session = await SerialSession.open(options.port);
  } catch {
    return { ok: false, checks: [], results, log: [], reason: 'The board is not connected — plug it back in and test again.', durationMs: 0 };
  }
  const improv = new ImprovClient(session);
  const step = async (check: string, run: () => Promise<string | number | undefined>): Promise<boolean> => {
    const t0 = Date.now();
    try {
      const value = await run();
      results.push({ check, ok: true, durationMs: Date.now() - t0, ...(value !== undefined ? { value } : {}) });
      return true;
    } catch (err) {
      const reason = err instanceof StationError || err instanceof Error ? err.message : String(err);
      results.push({ check, ok: false, reason: redact(reason), durationMs: Date.now() - t0 });
      return false;
    }
  };
  const status = async (timeoutMs: number): Promise<BoardStatus> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      session.drain();
      await session.sendLine('status').catch(() => undefined);
      const line = await session.nextLine((l) => parseStatus(l) !== null, Math.min(STATUS_RETRY_MS, Math.max(1, deadline - Date.now())));
      const parsed = line ? parseStatus(line) : null;
      if (parsed) return parsed;
    }
    throw new Error(`the board did not report its status within ${timeoutMs} ms`);
  };

  let attemptedProvision = false;
  try {
    const ready = await step('improv_state', async () => {
      const state = await improv.getState();
      if (state !== 'ready') throw new Error(`the board is already "${state}", expected an unconfigured board`);
      return state;
    });
    if (ready) {
      await step('improv_info', async () => {
        const info = await improv.deviceInfo();
        return `${info.firmware} ${info.version} (${info.chip})`;
      });
      attemptedProvision = true;
      const joined = await step('wifi_provision', async () => {
        await improv.sendWifi(options.wifi.ssid, options.wifi.pass, options.provisionTimeoutMs ?? IMPROV_PROVISION_TIMEOUT_MS);
        return options.wifi.ssid;
      });
      if (joined) {
        const provisioned = await step('provisioned', async () => {
          const s = await status(CONSOLE_ANSWER_TIMEOUT_MS);
          if (!s.configured || s.wifi !== options.wifi.ssid) throw new Error(`the board reports ${s.state} on ${s.wifi ?? 'no network'}, not on "${options.wifi.ssid}"`);
          return s.state;
        });
        const cloud = options.cloud;
        if (provisioned && cloud) {
          const got = await step('cloud_token', async () => {
            issued = await cloud.issueToken();
            redact = makeRedactor(issued.token);
            return `test device #${issued.deviceId}`;
          });
          if (got && issued) await step('cloud_online', () => bringOnline(session, cloud, (issued as { token: string }).token));
        }
      }
    }
  } finally {
    if (attemptedProvision) {
      // The factory reset runs whatever happened above: no QA network leaves the station in a board.
      await step('config_erase', async () => {
        session.drain();
        await session.sendLine('config erase');
        const ack = await session.nextLine((l) => l.includes('"config":"erased"'), CONSOLE_ANSWER_TIMEOUT_MS);
        if (!ack) throw new Error('the board did not confirm `config erase`');
        return 'erased';
      });
      await step('unconfigured', async () => {
        const s = await status(REBOOT_TIMEOUT_MS);
        if (s.configured || s.state !== 'WAIT_CONFIG') throw new Error(`after the factory reset the board is still configured (${s.state}${s.wifi ? ` on ${s.wifi}` : ''}) — do not ship it`);
        if (s.token === true) throw new Error('after the factory reset the board still holds a cloud token — do not ship it');
        const state = await improv.getState();
        if (state !== 'ready') throw new Error(`after the factory reset Improv reports "${state}", not ready`);
        return s.state;
      });
    }
    const cloud = options.cloud;
    const test = issued as { token: string; deviceId: number } | null;
    if (cloud && test) {
      // The test device goes whatever happened: its token must never work again.
      await step('cloud_removed', async () => {
        await cloud.removeDevice(test.deviceId);
        const known = await cloud.isHardwareConnected(test.token);
        if (known !== null) throw new Error(`the cloud still knows the test device #${test.deviceId} after its removal`);
        return `test device #${test.deviceId} removed`;
      });
    }
    await session.close();
  }
  const failed = results.find((r) => !r.ok);
  const log = session.log.map(redact);
  options.log?.(`dynamic QA: ${failed ? `failed at ${failed.check}` : 'passed'}`);
  const durationMs = Date.now() - started;
  if (failed) return { ok: false, checks: [], results, log, reason: `Dynamic QA step "${failed.check}" failed: ${(failed.reason ?? 'no reason').replace(/\.+$/, '')}.`, durationMs };
  return { ok: true, checks: [], results, log, durationMs };
}
