import type { SlotState } from '../../common/slot-state.js';
import { openStationDatabase, type StationDatabase } from '../../core/db/open-database.js';
import { DEMO_PRODUCT } from '../../core/product/product.js';
import { TokenQueue } from '../../core/queue/token-queue.js';
import { StationEngine, type StationEngineDeps } from '../../core/station/station-engine.js';
import type { FlashOutcome } from '../../native/flash/esptool-flasher.js';
import { FakeWatcher } from './fake-watcher.js';

export const FIXTURE_MAC = 'aa:bb:cc:dd:ee:01';

/** Test token `i`: a 32-character AuthToken and its QR token. */
export const fixtureToken = (i: number) => ({ authToken: `tok${String(i).padStart(29, '0')}`, qrToken: `sqr_${String(i).padStart(32, '0')}` });

/** What a fake flasher answers: the chip, its MAC, and the regions as given. */
export function flashOutcome(regions: FlashOutcome['regions']): FlashOutcome {
  return { chip: 'ESP32-D0WD-V3', chipFamily: 'ESP32', mac: FIXTURE_MAC, regions, durationMs: 1, baudRate: 921_600, retries: [] };
}

/**
 * An engine on an in-memory queue holding tokens 1..`tokens`, a fake watcher and fakes for every
 * board operation: each test file overrides what it is about (`overrides`) and keeps the rest.
 * Labels placed are recorded in `placed` (token ids, in placement order); every slot's state kinds
 * in `states`.
 */
export class EngineFixture {
  readonly db: StationDatabase;
  readonly queue: TokenQueue;
  readonly watcher = new FakeWatcher();
  readonly placed: number[] = [];
  readonly states: Record<string, SlotState['kind'][]> = {};
  deps: StationEngineDeps;

  constructor(tokens = 3) {
    this.db = openStationDatabase(':memory:');
    this.queue = new TokenQueue(this.db);
    this.queue.importBatch({ batchId: 'b', cloudBatchId: 'b', templateId: '1', orgId: 1, tokens: Array.from({ length: tokens }, (_, i) => fixtureToken(i + 1)) });
    this.deps = {
      stationId: 'ST1',
      product: { ...DEMO_PRODUCT, templateId: '1', orgId: 1, scanBack: false },
      queue: this.queue,
      watcher: this.watcher,
      labels: {
        place: async (t) => {
          this.placed.push(t.id);
          return { sheetId: 'sheet', position: this.placed.length - 1, qrPayload: `${t.qrToken}+1` };
        },
      },
      buildPayload: (t) => [{ name: 'nvs', address: 0x9000, data: new TextEncoder().encode(t.authToken.padEnd(4096, '\xff')) }],
      flash: async (job) => flashOutcome(job.regions.map((r) => ({ name: r.name, address: r.address, size: r.data.length, md5: 'x', skipped: false }))),
      selfTest: async () => ({ ok: true, checks: [{ check: 'token', ok: true }], durationMs: 3 }),
      probe: async () => ({ identity: { chipFamily: 'ESP32', description: 'ESP32-D0WD-V3', mac: FIXTURE_MAC, flashSizeBytes: 4 << 20 }, nvs: new Uint8Array(16).fill(0xff) }),
      readToken: () => undefined,
      slotCount: 2,
    };
  }

  /** Replaces some of the fakes (merged into the current deps). */
  with(overrides: Partial<StationEngineDeps>): this {
    this.deps = { ...this.deps, ...overrides };
    return this;
  }

  /** A new engine over the current deps, recording every slot's states. */
  engine(): StationEngine {
    const e = new StationEngine(this.deps);
    e.on('slot', (s) => (this.states[s.id] ??= []).push(s.state.kind));
    return e;
  }

  close(): void {
    this.db.close();
  }
}
