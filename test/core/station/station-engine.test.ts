import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { stationError } from '../../../common/errors.js';
import type { SlotState } from '../../../common/slot-state.js';
import { openStationDatabase, type StationDatabase } from '../../../core/db/open-database.js';
import { TokenQueue } from '../../../core/queue/token-queue.js';
import { StationEngine, type StationEngineDeps } from '../../../core/station/station-engine.js';
import type { FlashJob, FlashOutcome } from '../../../native/flash/esptool-flasher.js';
import type { AttachedBoard, BoardWatcher, BoardWatcherEvents } from '../../../native/usb/board-watcher.js';
import { DEMO_PRODUCT } from '../../../core/product/product.js';
import { ScriptedPort } from '../../support/scripted-port.js';

class FakeWatcher implements BoardWatcher {
  private boards: AttachedBoard[] = [];
  private attachL = new Set<BoardWatcherEvents['attach']>();
  private detachL = new Set<BoardWatcherEvents['detach']>();
  on<E extends keyof BoardWatcherEvents>(event: E, l: BoardWatcherEvents[E]): void {
    (event === 'attach' ? this.attachL : this.detachL).add(l as never);
  }
  off<E extends keyof BoardWatcherEvents>(event: E, l: BoardWatcherEvents[E]): void {
    (event === 'attach' ? this.attachL : this.detachL).delete(l as never);
  }
  attached(): AttachedBoard[] {
    return this.boards;
  }
  plug(location: string): void {
    const board: AttachedBoard = {
      info: { port: `/dev/fake-${location}`, transport: 'virtual' },
      location,
      openPort: () => new ScriptedPort(() => undefined),
    };
    this.boards.push(board);
    for (const l of this.attachL) l(board);
  }
}

const token = (i: number) => ({ authToken: `tok${String(i).padStart(29, '0')}`, qrToken: `sqr_${String(i).padStart(32, '0')}` });

describe('StationEngine', () => {
  let db: StationDatabase;
  let queue: TokenQueue;
  let watcher: FakeWatcher;
  let states: Record<string, SlotState['kind'][]>;
  let deps: StationEngineDeps;
  let placed: number[];

  beforeEach(() => {
    db = openStationDatabase(':memory:');
    queue = new TokenQueue(db);
    queue.importBatch({ batchId: 'b', cloudBatchId: 'b', templateId: '1', orgId: 1, tokens: [token(1), token(2), token(3)] });
    watcher = new FakeWatcher();
    states = {};
    placed = [];
    deps = {
      stationId: 'ST1',
      product: { ...DEMO_PRODUCT, templateId: '1', orgId: 1 },
      queue,
      watcher,
      labels: {
        place: async (t) => {
          placed.push(t.id);
          return { sheetId: 'sheet', position: placed.length - 1 };
        },
      },
      buildPayload: (auth) => new TextEncoder().encode(auth.padEnd(4096, '\xff')),
      flash: async (job: FlashJob): Promise<FlashOutcome> => {
        job.onProgress?.({ phase: 'writing', bytesDone: 4096, bytesTotal: 4096, rateBps: 1000 });
        return { chip: 'ESP32', mac: 'aa:bb:cc:dd:ee:01', regions: [{ name: 'nvs', address: 0x9000, size: 4096, md5: 'x' }], durationMs: 5 };
      },
      selfTest: async () => ({ ok: true, checks: [{ check: 'token', ok: true }], durationMs: 3 }),
      slotCount: 2,
    };
  });

  afterEach(() => db.close());

  function engine(): StationEngine {
    const e = new StationEngine(deps);
    e.on('slot', (s) => (states[s.id] ??= []).push(s.state.kind));
    return e;
  }

  it('takes a board through every state and leaves the token labelled with its device record queued', async () => {
    const e = engine();
    watcher.plug('slot-1');
    await e.runSlot('slot-1');
    expect(states['slot-1']).toEqual(['detected', 'flashing', 'flashing', 'testing', 'labelling', 'done']);
    const t = queue.get(1);
    expect(t).toMatchObject({ state: 'labelled', boardMac: 'aa:bb:cc:dd:ee:01', labelSheetId: 'sheet', labelPosition: 0 });
    const outbox = queue.pendingOutbox();
    expect(outbox).toHaveLength(1);
    expect(JSON.stringify(outbox)).not.toContain(token(1).authToken);
    expect(outbox[0]?.payload).toMatchObject({ qrToken: token(1).qrToken, result: 'passed', chip: 'ESP32' });
  });

  it('burns the token and fails only that slot when flashing fails; the other slot carries on', async () => {
    let calls = 0;
    deps.flash = async (job) => {
      calls += 1;
      if (calls === 1) throw stationError('FLASH_WRITE_FAILED', 'Writing to the board failed — check the cable and replug the board.', true);
      return { chip: 'ESP32', mac: 'aa:bb:cc:dd:ee:02', regions: [{ name: 'nvs', address: job.regions[0]!.address, size: 1, md5: '' }], durationMs: 1 };
    };
    const e = engine();
    watcher.plug('slot-1');
    watcher.plug('slot-2');
    await Promise.all([e.runSlot('slot-1'), e.runSlot('slot-2')]);
    const views = Object.fromEntries(e.slotViews().map((v) => [v.id, v.state]));
    expect(views['slot-1']).toMatchObject({ kind: 'failed', error: { code: 'FLASH_WRITE_FAILED' } });
    expect(views['slot-2']?.kind).toBe('done');
    expect(queue.get(1).state).toBe('failed');
    expect(queue.get(2).state).toBe('labelled');
    expect(placed).toEqual([2]);
  });

  it('never labels a board that fails its self-test, and burns its token', async () => {
    deps.selfTest = async () => ({ ok: false, checks: [], reason: 'The board holds a different token than the one written — do not pack it; call a supervisor.', durationMs: 1 });
    const e = engine();
    watcher.plug('slot-1');
    await e.runSlot('slot-1');
    expect(e.slotViews()[0]?.state).toMatchObject({ kind: 'failed', error: { code: 'SELFTEST_FAILED' } });
    expect(queue.get(1)).toMatchObject({ state: 'failed', failureCode: 'SELFTEST_FAILED' });
    expect(placed).toEqual([]);
    expect(queue.pendingOutbox()).toEqual([]);
  });

  it('commits the reservation before the first byte goes to the board', async () => {
    deps.flash = vi.fn(async () => {
      expect(queue.get(1).state).toBe('reserved');
      throw stationError('BOARD_NOT_RESPONDING', 'The board did not answer its bootloader — check the cable and replug the board.', true);
    });
    const e = engine();
    watcher.plug('slot-1');
    await e.runSlot('slot-1');
    expect(deps.flash).toHaveBeenCalledTimes(1);
    // the next board gets a new token; the burned one is never handed out again
    e.clearSlot('slot-1');
    deps.flash = async () => ({ chip: 'ESP32', mac: 'aa:bb:cc:dd:ee:03', regions: [], durationMs: 1 });
    await e.runSlot('slot-1');
    expect(queue.get(1).state).toBe('failed');
    expect(queue.get(2).state).toBe('labelled');
  });

  it('refuses to run an empty slot or a busy one, with operator-facing errors', async () => {
    const e = engine();
    expect(() => e.runSlot('slot-1')).toThrow(/no board waiting/);
    watcher.plug('slot-1');
    const run = e.runSlot('slot-1');
    expect(() => e.runSlot('slot-1')).toThrow(/already working/);
    await run;
    expect(() => e.runSlot('slot-9')).toThrow(/no slot/);
  });

  it('fails the slot without burning anything when the queue is empty', async () => {
    const e = engine();
    watcher.plug('slot-1');
    for (let i = 0; i < 3; i++) {
      await e.runSlot('slot-1');
      e.clearSlot('slot-1');
    }
    await e.runSlot('slot-1');
    expect(e.slotViews()[0]?.state).toMatchObject({ kind: 'failed', error: { code: 'NO_TOKENS_AVAILABLE' } });
    expect(queue.stock()).toMatchObject({ available: 0, labelled: 3, failed: 0 });
  });
});
