import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stationError } from '../../../common/errors.js';
import { startCloudServer, type CloudServer } from '../../../cloud/server.js';
import { FlashlineCloudClient } from '../../../core/cloud/cloud-client.js';
import { openStationDatabase, type StationDatabase } from '../../../core/db/open-database.js';
import { DEMO_PRODUCT, type ProductConfig } from '../../../core/product/product.js';
import { TokenQueue } from '../../../core/queue/token-queue.js';
import { StationEngine } from '../../../core/station/station-engine.js';
import { SyncEngine } from '../../../core/sync/sync-engine.js';
import { TokenPuller } from '../../../core/sync/token-puller.js';
import type { FlashOutcome } from '../../../native/flash/esptool-flasher.js';
import { FAULTS, startFaultProxy, type Fault, type FaultProxy } from '../../support/fault-proxy.js';
import { FakeWatcher } from '../../support/fake-watcher.js';

/** The client's deadline per request; the proxy's `slow` fault outlasts it. */
const CLIENT_TIMEOUT_MS = 300;
const SLOW_FAULT_MS = 1_000;


/**
 * The proof, over real HTTP against the real cloud/ service: the network is cut at every
 * step of pull and push (cloud down, slow past the deadline, 500, request lost, reply cut mid-way
 * after the cloud acted), the station keeps provisioning meanwhile, and afterwards every record is
 * in the cloud exactly once and no token is in two places.
 */
describe('offline sync against the real cloud through a fault-injecting proxy', () => {
  let cloud: CloudServer;
  let proxy: FaultProxy;
  let db: StationDatabase;
  let queue: TokenQueue;
  let puller: TokenPuller;
  let sync: SyncEngine;
  let engine: StationEngine;
  let watcher: FakeWatcher;
  let product: ProductConfig;
  let failNextFlash = false;
  let macCounter = 0;
  let currentMac = '';

  beforeAll(async () => {
    cloud = await startCloudServer({ dbPath: ':memory:', seed: { clientId: 'station-test', clientSecret: 'station-test-secret-0123456789abcdef' }, log: () => undefined });
    proxy = await startFaultProxy(cloud.url, { slowMs: SLOW_FAULT_MS });
    db = openStationDatabase(':memory:');
    queue = new TokenQueue(db);
    const client = new FlashlineCloudClient({
      baseUrl: proxy.url,
      clientId: 'station-test',
      clientSecret: 'station-test-secret-0123456789abcdef',
      timeoutMs: CLIENT_TIMEOUT_MS,
    });
    product = { ...DEMO_PRODUCT, templateId: String(cloud.seed.templateId), orgId: cloud.seed.orgId, scanBack: false };
    puller = new TokenPuller({ db, queue, client, product, stationId: 'ST-TEST1', batchSize: 10, lowWater: 0 });
    sync = new SyncEngine({ queue, cloud: client, stationId: 'ST-TEST1', batchSize: 3, topUp: () => puller.topUp() });
    watcher = new FakeWatcher();
    engine = new StationEngine({
      stationId: 'ST-TEST1',
      product,
      queue,
      watcher,
      labels: { place: async (t) => ({ sheetId: 'S1', position: t.id, qrPayload: `${t.qrToken}+${product.orgId}` }) },
      buildPayload: (t) => [{ name: 'nvs', address: 0x9000, data: new TextEncoder().encode(t.authToken) }],
      probe: async () => ({ identity: { chipFamily: 'ESP32', description: 'ESP32-D0WD-V3', mac: currentMac, flashSizeBytes: 4 << 20 }, nvs: new Uint8Array(16).fill(0xff) }),
      flash: async (): Promise<FlashOutcome> => {
        if (failNextFlash) {
          failNextFlash = false;
          throw stationError('FLASH_WRITE_FAILED', 'Writing to the board failed.', true);
        }
        return { chip: 'ESP32-D0WD-V3', chipFamily: 'ESP32', mac: currentMac, regions: [{ name: 'nvs', address: 0x9000, size: 32, md5: 'x', skipped: false }], durationMs: 1, baudRate: 921_600, retries: [] };
      },
      selfTest: async () => ({ ok: true, checks: [{ check: 'token', ok: true }, { check: 'fw', ok: true, value: '1.0.0' }], durationMs: 1 }),
      readToken: () => undefined,
      slotCount: 1,
    });
  });

  afterAll(async () => {
    await sync.stop();
    await proxy.close();
    await cloud.close();
    db.close();
  });

  /** One board through the engine: plug, provision, clear, unplug. Returns its final slot state. */
  async function provisionOne(): Promise<string> {
    macCounter++;
    currentMac = `aa:bb:cc:dd:${String(Math.floor(macCounter / 256)).padStart(2, '0')}:${(macCounter % 256).toString(16).padStart(2, '0')}`;
    watcher.plug('slot-1');
    await engine.idle();
    await engine.runSlot('slot-1');
    const kind = engine.slotViews()[0]!.state.kind;
    engine.clearSlot('slot-1');
    watcher.unplug('slot-1');
    await engine.idle();
    return kind;
  }

  const only = (fault: Fault, match: RegExp) => (path: string) => (match.test(path) ? fault : 'pass');

  it('pull: every fault fails the pull as data, the line keeps going, the retry gets the same batch', async () => {
    await puller.pull(12);
    expect(queue.stock().available).toBe(12);
    for (const fault of FAULTS) {
      proxy.setRule(only(fault, /static-tokens\/generate/));
      const seenBefore = proxy.seen[fault];
      await expect(puller.pull(2)).rejects.toMatchObject({ code: 'CLOUD_UNREACHABLE' });
      expect(proxy.seen[fault]).toBeGreaterThan(seenBefore);
      // The station keeps provisioning from its queue while the cloud is unreachable.
      expect(await provisionOne()).toBe('done');
      proxy.setRule(() => 'pass');
      await puller.pull(2);
    }
    // 12 + 5 × 2 tokens pulled, each exactly once: the cut-reply batch was fetched again by its request id.
    const batches = await cloud.store.db.all<{ id: string; token_count: number }>('SELECT id, token_count FROM token_batches WHERE station_id = ?', ['ST-TEST1']);
    expect(batches.map((b) => b.token_count).sort((a, b) => a - b)).toEqual([2, 2, 2, 2, 2, 12]);
    const stationBatches = db.prepare('SELECT id FROM batches').all() as { id: string }[];
    expect(stationBatches.map((b) => b.id).sort()).toEqual(batches.map((b) => b.id).sort());
  });

  it('push: every fault leaves records waiting, the line keeps going, and after the cut every record is in the cloud once', async () => {
    await puller.pull(40);
    failNextFlash = true;
    expect(await provisionOne()).toBe('failed');
    const toVoid = queue.stock().available > 0 ? (db.prepare("SELECT id FROM tokens WHERE state = 'available' ORDER BY id LIMIT 1").get() as { id: number }).id : 0;
    queue.void(toVoid, 'label damaged');
    for (const fault of FAULTS) {
      for (const match of [/device-records/, /token-voids/, /./]) {
        proxy.setRule(only(fault, match));
        // Both kinds of record are waiting on every step: a labelled board and a voided token.
        expect(await provisionOne()).toBe('done');
        const available = db.prepare("SELECT id FROM tokens WHERE state = 'available' ORDER BY id LIMIT 1").get() as { id: number };
        queue.void(available.id, 'label damaged');
        const before = sync.status().waiting;
        const status = await sync.syncNow();
        expect(status.lastError?.code).toBe('CLOUD_UNREACHABLE');
        expect(status.waiting).toBeGreaterThan(0);
        expect(status.waiting).toBeLessThanOrEqual(before);
      }
      proxy.setRule(() => 'pass');
      const healed = await sync.syncNow();
      expect(healed).toMatchObject({ waiting: 0, held: 0, lastError: null });
    }
    for (const fault of FAULTS) expect(proxy.seen[fault]).toBeGreaterThan(0);

    // Every record exactly once, and the cloud's view equals the station's.
    const labelled = db.prepare("SELECT qr_token AS qr, id FROM tokens WHERE state = 'labelled' ORDER BY id").all() as { qr: string; id: number }[];
    const records = await cloud.store.db.all<{ record_id: string; qr_token: string }>('SELECT record_id, qr_token FROM device_records');
    expect(records).toHaveLength(labelled.length);
    expect(new Set(records.map((r) => r.record_id)).size).toBe(records.length);
    expect(records.map((r) => r.qr_token).sort()).toEqual(labelled.map((t) => t.qr).sort());
    const retired = db.prepare("SELECT qr_token AS qr, state FROM tokens WHERE state IN ('failed', 'voided') ORDER BY qr_token").all() as { qr: string; state: string }[];
    const voids = await cloud.store.db.all<{ qr_token: string; void_reason: string }>(
      'SELECT qr_token, void_reason FROM static_tokens WHERE void_reason IS NOT NULL ORDER BY qr_token',
    );
    expect(voids.map((v) => [v.qr_token, v.void_reason])).toEqual(retired.map((t) => [t.qr, t.state === 'failed' ? 'burned' : 'voided']));
    // No token in two places: a token the cloud has a device record for is not voided there, and every
    // station token is a cloud token of this station's batches, once.
    const recorded = new Set(records.map((r) => r.qr_token));
    for (const v of voids) expect(recorded.has(v.qr_token)).toBe(false);
    const stationTokens = (db.prepare('SELECT qr_token AS qr FROM tokens').all() as { qr: string }[]).map((t) => t.qr);
    const cloudTokens = await cloud.store.db.all<{ qr_token: string }>(
      "SELECT s.qr_token FROM static_tokens s JOIN token_batches b ON b.id = s.batch_id WHERE b.station_id = 'ST-TEST1'",
    );
    expect(new Set(stationTokens).size).toBe(stationTokens.length);
    expect(cloudTokens.map((t) => t.qr_token).sort()).toEqual([...stationTokens].sort());
    expect(labelled.length).toBeGreaterThanOrEqual(FAULTS.length * 3);
  }, 60_000);
});
