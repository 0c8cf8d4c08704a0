import { describe, expect, it } from 'vitest';
import type { StationSnapshot } from '../../common/api.js';
import { applyStationEvent, slotNumberForKey } from '../../renderer/src/station-model.js';

const snapshot: StationSnapshot = {
  station: { name: 'S', productName: 'P', orgId: 1, batchId: 'b', simulator: false },
  slots: [
    { id: 'slot-1', index: 1, state: { kind: 'empty' } },
    { id: 'slot-2', index: 2, state: { kind: 'empty' } },
  ],
  stock: { available: 5, reserved: 0, inProgress: 0, labelled: 0, failed: 0 },
  sheet: null,
};

describe('applyStationEvent', () => {
  it('drops partial events until the first snapshot, then patches it', () => {
    const stock = { available: 4, reserved: 1, inProgress: 0, labelled: 0, failed: 0 };
    expect(applyStationEvent(null, { type: 'stock', stock })).toBeNull();
    const base = applyStationEvent(null, { type: 'snapshot', snapshot });
    expect(applyStationEvent(base, { type: 'stock', stock })?.stock).toEqual(stock);
    const sheet = { id: 'S1', labels: [], capacity: 30, printed: 0, printer: 'folder' };
    expect(applyStationEvent(base, { type: 'sheet', sheet })?.sheet).toEqual(sheet);
  });

  it('replaces a slot by id and keeps the slots in index order', () => {
    const board = { port: '/dev/ttyUSB1', transport: 'usb' as const };
    const next = applyStationEvent(snapshot, { type: 'slot', slot: { id: 'slot-1', index: 1, state: { kind: 'detected', board } } });
    expect(next?.slots.map((s) => [s.id, s.state.kind])).toEqual([
      ['slot-1', 'detected'],
      ['slot-2', 'empty'],
    ]);
    const added = applyStationEvent(next, { type: 'slot', slot: { id: 'slot-0', index: 0, state: { kind: 'empty' } } });
    expect(added?.slots.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(snapshot.slots[0]!.state.kind).toBe('empty');
  });
});

describe('slotNumberForKey', () => {
  it('maps 1–8 and nothing else', () => {
    expect(['1', '5', '8'].map(slotNumberForKey)).toEqual([1, 5, 8]);
    expect(['0', '9', 'a', 'Enter', '12', ''].map(slotNumberForKey)).toEqual([null, null, null, null, null, null]);
  });
});
