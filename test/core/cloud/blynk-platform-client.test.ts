import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { BlynkPlatformClient } from '../../../core/cloud/blynk-platform-client.js';
import { FlashlineCloudClient, type CloudClient, type DeviceRecord, type PulledToken } from '../../../core/cloud/cloud-client.js';
import { openStationDatabase } from '../../../core/db/open-database.js';
import { TokenQueue } from '../../../core/queue/token-queue.js';
import { SyncEngine } from '../../../core/sync/sync-engine.js';
import { boardFor, setupWorld, startTestCloud, STORE_KINDS, type TestCloud, type World } from '../../cloud/cloud-test-kit.js';

const META_FIELDS = { MAC: 'mac', Chip: 'chip', Firmware: 'firmwareVersion', 'Factory Station': 'stationId', 'Tested At': 'completedAt' } as const;

function record(token: PulledToken, result: 'passed' | 'failed', n: number): DeviceRecord {
  return {
    recordId: `ST9:${n}`,
    qrToken: token.token,
    mac: `24:0a:c4:00:00:${String(n).padStart(2, '0')}`,
    chip: 'ESP32',
    stationId: 'ST9',
    result,
    payloadSha256: 'ab'.repeat(32),
    firmwareVersion: '1.4.2',
    labelRef: { sheetId: 'S1', position: n },
    completedAt: Date.UTC(2026, 10, 22, 12, 0, n),
  };
}

/**
 * The issue asks for one cloud interface with two implementations over real HTTP, both tested
 * against cloud/: the Flashline cloud's station endpoints and the Blynk platform's public API.
 */
describe.each(STORE_KINDS)('BlynkPlatformClient against the real cloud over HTTP (%s)', (store) => {
  let cloud: TestCloud;
  let w: World;
  let templateId: number;
  const held = new Map<string, string>();
  let blynk: BlynkPlatformClient;
  let flashline: FlashlineCloudClient;

  beforeAll(async () => {
    cloud = await startTestCloud({ store });
    w = await setupWorld(cloud);
    const made = await w.maker.post<{ id: number }>('/api/v1/organization/template/create', {
      name: 'Factory-tracked thermostat',
      blynkTemplateId: 'TMPLblynkapi1',
      metadataFields: Object.keys(META_FIELDS).map((name) => ({ name, type: 'text' })),
    });
    expect(made.status).toBe(201);
    templateId = made.body.id;
    const credentials = { baseUrl: cloud.url, clientId: cloud.server.seed.clientId, clientSecret: cloud.server.seed.clientSecret, stationId: 'ST9', now: cloud.clock.now };
    blynk = new BlynkPlatformClient({ ...credentials, metaFields: META_FIELDS, authTokenFor: (qr) => held.get(qr) ?? null });
    flashline = new FlashlineCloudClient(credentials);
  });
  afterAll(async () => {
    await cloud?.close();
  });

  const pull = async (client: CloudClient, count: number, requestId: string) => {
    const batch = await client.pullBatch({ count, templateId, requestId });
    for (const t of batch.tokens) held.set(t.token, t.deviceToken);
    return batch;
  };

  it.each([
    ['blynk', () => blynk],
    ['flashline', () => flashline],
  ] as const)('%s: a pull is idempotent by request id and gives distinct tokens of the template', async (name, client) => {
    const first = await pull(client(), 5, `same-request-${name}`);
    const again = await pull(client(), 5, `same-request-${name}`);
    expect(first.templateId).toBe(templateId);
    expect(again.tokens).toEqual(first.tokens);
    expect(new Set(first.tokens.map((t) => t.deviceToken)).size).toBe(5);
  });

  it("writes a passed board's record into its device's metadata, and a repeat changes nothing", async () => {
    const [a] = (await pull(blynk, 1, 'meta-request-1')).tokens;
    const rec = record(a!, 'passed', 1);
    expect(await blynk.pushDeviceRecords([rec])).toEqual({ accepted: 1, duplicates: 0 });
    expect(await blynk.pushDeviceRecords([rec])).toEqual({ accepted: 1, duplicates: 0 });
    const list = await w.maker.get<{ content: { token: string; deviceId?: number }[] }>(`/api/v1/organization/static-tokens?size=1000`);
    const deviceId = list.body.content.find((t) => t.token === a!.token)?.deviceId;
    expect(deviceId).toBeGreaterThan(0);
    const meta = await w.maker.get<Record<string, string>>(`/api/v1/organization/device/metafield?deviceId=${deviceId}`);
    expect(meta.body).toEqual({
      MAC: rec.mac,
      Chip: 'ESP32',
      Firmware: '1.4.2',
      'Factory Station': 'ST9',
      'Tested At': new Date(rec.completedAt).toISOString(),
    });
    // The device is unclaimed in the maker's organisation and its board can connect with the token.
    expect((await boardFor(cloud, a!.deviceToken).connect()).body.orgId).toBe(w.makerOrgId);
  });

  it('burns and voids delete the static token (the AuthToken stops working); a repeat counts as duplicates', async () => {
    const [b, c] = (await pull(blynk, 2, 'voids-request-1')).tokens;
    const voids = [b!, c!].map((t, i) => ({ qrToken: t.token, reason: i === 0 ? ('burned' as const) : ('voided' as const), stationId: 'ST9', voidedAt: 1 }));
    expect(await blynk.pushTokenVoids(voids)).toEqual({ accepted: 2, duplicates: 0 });
    expect(await blynk.pushTokenVoids(voids)).toEqual({ accepted: 0, duplicates: 2 });
    for (const t of [b!, c!]) expect((await boardFor(cloud, t.deviceToken).connect()).status).toBe(404);
  });

  it('refuses a record whose field the template lacks, or whose token the station no longer holds, without naming the AuthToken', async () => {
    const [d] = (await pull(blynk, 1, 'refuse-request-1')).tokens;
    const wrongFields = new BlynkPlatformClient({
      baseUrl: cloud.url,
      clientId: cloud.server.seed.clientId,
      clientSecret: cloud.server.seed.clientSecret,
      now: cloud.clock.now,
      metaFields: { 'No Such Field': 'mac' },
      authTokenFor: (qr) => held.get(qr) ?? null,
    });
    const err = await wrongFields.pushDeviceRecords([record(d!, 'passed', 4)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StationError);
    expect((err as StationError).code).toBe('CLOUD_REJECTED');
    expect(JSON.stringify(err)).not.toContain(d!.deviceToken);
    const lost = { ...record(d!, 'passed', 5), qrToken: 'sqr_' + 'x'.repeat(32) };
    const err2 = await blynk.pushDeviceRecords([lost]).catch((e: unknown) => e);
    expect((err2 as StationError).code).toBe('CLOUD_REJECTED');
  });

  it('the sync engine pushes the outbox through it: passed records land in metadata, a burned token is deleted', async () => {
    const db = openStationDatabase(':memory:');
    const queue = new TokenQueue(db);
    const batch = await pull(blynk, 3, 'sync-request-1');
    queue.importBatch({ batchId: 'b-sync', cloudBatchId: batch.batchId, templateId: String(templateId), orgId: batch.orgId, tokens: batch.tokens.map((t) => ({ authToken: t.deviceToken, qrToken: t.token })) });
    const client = new BlynkPlatformClient({
      baseUrl: cloud.url,
      clientId: cloud.server.seed.clientId,
      clientSecret: cloud.server.seed.clientSecret,
      now: cloud.clock.now,
      metaFields: META_FIELDS,
      // The station's own sealed queue answers which AuthToken a QR token is.
      authTokenFor: (qr) => {
        const t = queue.findByQrToken(qr);
        return t ? queue.authTokenOf(t.id) : null;
      },
    });
    const done = queue.reserve('slot-1', '/dev/x');
    queue.advance(done.id, 'written', { boardMac: '24:0a:c4:00:00:10' });
    queue.advance(done.id, 'verified');
    const rec = { ...record({ token: done.qrToken, deviceToken: '', createdAt: 0 }, 'passed', 10), recordId: `ST9:${done.id}` };
    queue.advance(done.id, 'labelled', {}, { recordId: rec.recordId, kind: 'device-record', payload: rec });
    const burned = queue.reserve('slot-2', '/dev/y');
    queue.burn(burned.id, 'FLASH_WRITE_FAILED');
    const sync = new SyncEngine({ queue, cloud: client, stationId: 'ST9' });
    const status = await sync.syncNow();
    expect(status).toMatchObject({ waiting: 0, held: 0, lastError: null });
    expect(queue.outboxCounts()).toMatchObject({ waiting: 0, held: 0, sent: 2 });
    expect((await boardFor(cloud, queue.authTokenOf(burned.id)).connect()).status).toBe(404);
    expect((await boardFor(cloud, queue.authTokenOf(done.id)).connect()).status).toBe(200);
    await sync.stop();
    db.close();
  });
});
