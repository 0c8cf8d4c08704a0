import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCloudServer, type CloudServer } from '../../../cloud/server.js';
import { FlashlineCloudClient, type PulledToken } from '../../../core/cloud/cloud-client.js';
import { buildEdgentNvsImage } from '../../../core/payload/edgent-payload.js';
import { CLOUD_SKIPPED_VALUE, runCloudCheck, withExtraCheck, type CloudCheckConfig } from '../../../core/qa/cloud-check.js';
import { VirtualBoard } from '../../../native/sim/virtual-board.js';
import type { AppBehaviour } from '../../../native/sim/app-behaviour.js';

const CREDENTIALS = { clientId: 'qa-cloud-check', clientSecret: 'qa-cloud-check-secret-0123456789abcdef' };
const QUICK: CloudCheckConfig = { required: true, timeoutMs: 800 };

/**
 * The cloud check against the real cloud/ service over HTTP, with virtual boards whose application
 * really connects (`POST /external/api/device/connect`) with the token in their NVS.
 */
describe('cloud check of a static-token board', () => {
  let cloud: CloudServer;
  let client: FlashlineCloudClient;
  let tokens: PulledToken[];
  const boards: VirtualBoard[] = [];
  /** Every URL the station's client asked for, and every error message it produced. */
  const urls: string[] = [];

  beforeAll(async () => {
    cloud = await startCloudServer({ dbPath: ':memory:', seed: CREDENTIALS, log: () => undefined });
    const recordingFetch: typeof fetch = (input, init) => {
      urls.push(String(input));
      return fetch(input, init);
    };
    client = new FlashlineCloudClient({ baseUrl: cloud.url, ...CREDENTIALS, stationId: 'ST-QA', fetchImpl: recordingFetch });
    tokens = (await client.pullBatch({ count: 8, templateId: cloud.seed.templateId, requestId: 'req-cloud-check-1' })).tokens;
  });

  afterAll(async () => {
    await cloud.close();
  });

  afterEach(() => {
    for (const b of boards.splice(0)) b.dispose();
  });

  /** A board whose NVS holds `token`, powered on: its app boots and (with an uplink) connects. */
  function boardWith(token: PulledToken, behaviour: Partial<AppBehaviour> = {}): VirtualBoard {
    const b = new VirtualBoard({ powered: false, cloudUrl: cloud.url, appBehaviour: behaviour, seed: boards.length + 1 });
    boards.push(b);
    b.flash.program(0x9000, buildEdgentNvsImage({ auth: token.deviceToken }, 0x6000));
    b.powerOn();
    return b;
  }

  const job = (t: PulledToken) => ({ authToken: t.deviceToken, qrToken: t.token, orgId: cloud.seed.orgId });

  it('passes a board that comes online with its token, unclaimed in the maker organisation', async () => {
    const t = tokens[0]!;
    const board = boardWith(t);
    const result = await runCloudCheck(job(t), { client, config: QUICK });
    expect(result).toMatchObject({ check: 'cloud', ok: true, value: `online, unclaimed in org ${cloud.seed.orgId}` });
    expect(board.cloudOnline).toBe(true);
    // The board's device now sits unclaimed in the maker's organisation, as Blynk puts it.
    expect(await client.staticTokenState(t.token)).toMatchObject({ status: 'UNCLAIMED', orgId: cloud.seed.orgId });
    // The token went into the isHardwareConnected request only, never into the lookup by label.
    const withToken = urls.filter((u) => u.includes(t.deviceToken));
    expect(withToken.length).toBeGreaterThan(0);
    expect(withToken.every((u) => u.includes('/external/api/isHardwareConnected?token='))).toBe(true);
    expect(JSON.stringify(result)).not.toContain(t.deviceToken);
  });

  it('the board drops off the cloud when it is reset into its bootloader or unplugged', async () => {
    const t = tokens[1]!;
    const board = boardWith(t);
    expect((await runCloudCheck(job(t), { client, config: QUICK })).ok).toBe(true);
    board.unplug();
    const deadline = Date.now() + 2_000;
    while ((await client.isHardwareConnected(t.deviceToken)) !== false && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await client.isHardwareConnected(t.deviceToken)).toBe(false);
  });

  it('fails a board that never comes online, with a one-sentence reason', async () => {
    const t = tokens[2]!;
    boardWith(t, { uplink: false });
    const started = Date.now();
    const result = await runCloudCheck(job(t), { client, config: QUICK, pollIntervalMs: 50 });
    expect(result.ok).toBe(false);
    expect(result.reason).toBe('The board did not come online in the cloud within 0.8 s — check its network link, then test it again.');
    expect(Date.now() - started).toBeGreaterThanOrEqual(QUICK.timeoutMs);
    expect(await client.isHardwareConnected(t.deviceToken)).toBe(false);
  });

  it('fails a board whose token a customer already claimed', async () => {
    const t = tokens[3]!;
    boardWith(t);
    expect((await runCloudCheck(job(t), { client, config: QUICK })).ok).toBe(true);
    const userId = await client.ensureUser({ email: 'customer@example.com', name: 'A Customer' });
    await client.claim({ token: t.token, userId });
    const result = await runCloudCheck(job(t), { client, config: QUICK });
    expect(result).toMatchObject({ ok: false, reason: "The board's token is already claimed by a customer — do not ship it." });
  });

  it('fails a board whose token the cloud no longer knows (deleted or voided)', async () => {
    const t = tokens[4]!;
    await client.deleteStaticToken(t.token);
    boardWith(t);
    const result = await runCloudCheck(job(t), { client, config: QUICK });
    expect(result).toMatchObject({ ok: false, reason: "The cloud does not know this board's token (deleted or voided) — do not ship it." });
  });

  describe('when the cloud cannot be reached', () => {
    let down: FlashlineCloudClient;
    beforeAll(async () => {
      // A cloud that was there and is gone: its port refuses connections.
      const gone = await startCloudServer({ dbPath: ':memory:', seed: CREDENTIALS, log: () => undefined });
      const url = gone.url;
      await gone.close();
      down = new FlashlineCloudClient({ baseUrl: url, ...CREDENTIALS, timeoutMs: 300 });
    });

    it('records "skipped: cloud unreachable" when the product does not require the check', async () => {
      const result = await runCloudCheck(job(tokens[5]!), { client: down, config: { required: false, timeoutMs: 800 } });
      expect(result).toMatchObject({ check: 'cloud', ok: true, value: CLOUD_SKIPPED_VALUE });
    });

    it('fails the board with a reason when the product requires the check', async () => {
      const t = tokens[5]!;
      const result = await runCloudCheck(job(t), { client: down, config: QUICK });
      expect(result.ok).toBe(false);
      expect(result.reason).toBe('The cloud cannot be reached to confirm the board is online, and this product requires it — test again when the station is back online.');
      expect(JSON.stringify(result)).not.toContain(t.deviceToken);
    });
  });

  it('an error reply from the cloud never carries the AuthToken into the station error', async () => {
    const t = tokens[6]!;
    const failing = new FlashlineCloudClient({
      baseUrl: cloud.url,
      ...CREDENTIALS,
      fetchImpl: async () => new Response(JSON.stringify({ error: { code: 'X', message: `bad ${t.deviceToken}` } }), { status: 500 }),
    });
    const err = await failing.isHardwareConnected(t.deviceToken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(JSON.stringify(err)).not.toContain(t.deviceToken);
    expect(String((err as Error).message)).not.toContain(t.deviceToken);
  });
});

describe('withExtraCheck', () => {
  it('a failed extra check fails the run with its reason; a passing one keeps it passing', () => {
    const run = { ok: true, checks: [{ check: 'token', ok: true }], durationMs: 10 };
    const passed = withExtraCheck(run, { check: 'cloud', ok: true, value: 'v', durationMs: 5 });
    expect(passed).toMatchObject({ ok: true, durationMs: 15 });
    expect(passed.results?.map((r) => r.check)).toEqual(['token', 'cloud']);
    const failed = withExtraCheck(run, { check: 'cloud', ok: false, reason: 'Nope.', durationMs: 5 });
    expect(failed).toMatchObject({ ok: false, reason: 'Nope.' });
  });
});
