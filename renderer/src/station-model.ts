import type { StationEvent, StationSnapshot } from '../../common/api.js';
import type { SlotView } from '../../common/slot-state.js';

/**
 * Folds pushed events into the last snapshot. Until the first snapshot arrives there is nothing to
 * patch, so partial events are dropped: the `getSnapshot` answer that follows covers them, because
 * the station sends events and answers down one ordered channel.
 */
export function applyStationEvent(current: StationSnapshot | null, event: StationEvent): StationSnapshot | null {
  switch (event.type) {
    case 'snapshot':
      return event.snapshot;
    case 'slot':
      return current ? { ...current, slots: upsertSlot(current.slots, event.slot) } : null;
    case 'stock':
      return current ? { ...current, stock: event.stock } : null;
    case 'sheet':
      return current ? { ...current, sheet: event.sheet } : null;
    case 'sync':
      return current ? { ...current, sync: event.sync } : null;
  }
}

export function upsertSlot(slots: readonly SlotView[], slot: SlotView): SlotView[] {
  const next = slots.filter((existing) => existing.id !== slot.id);
  next.push(slot);
  return next.sort((a, b) => a.index - b.index);
}

/** Keys 1–8 pick a slot by its 1-based number. */
export const MAX_SLOTS = 8;

export function slotNumberForKey(key: string): number | null {
  if (key.length !== 1 || key < '1' || key > '9') return null;
  const n = Number(key);
  return n >= 1 && n <= MAX_SLOTS ? n : null;
}
