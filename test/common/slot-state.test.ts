import { describe, expect, it } from 'vitest';
import { IllegalSlotTransition, SLOT_TRANSITIONS, transitionSlot, type SlotKind, type SlotState } from '../../common/slot-state.js';

const board = { port: '/dev/ttyUSB0', transport: 'usb' as const };
const token = { id: 1, qrToken: `sqr_${'1'.repeat(32)}` };
const label = { sheetId: 'S1', position: 0 };
const progress = { phase: 'writing' as const, bytesDone: 1, bytesTotal: 2, rateBps: 1 };

/** One example state per kind (the dynamic-token shapes: flashing and done without token or label). */
const sample: Record<SlotKind, SlotState> = {
  empty: { kind: 'empty' },
  probing: { kind: 'probing', board },
  detected: { kind: 'detected', board },
  flashing: { kind: 'flashing', board, progress },
  testing: { kind: 'testing', board, token },
  qa: { kind: 'qa', board },
  labelling: { kind: 'labelling', board, token },
  'awaiting-scan': { kind: 'awaiting-scan', board, token, label },
  done: { kind: 'done', board },
  failed: { kind: 'failed', board, error: { code: 'CABLE_PULLED', message: 'The cable was pulled.', operatorFault: true } },
};

const KINDS = Object.keys(sample) as SlotKind[];

describe('slot state machine', () => {
  it('the table of legal moves, written out in full', () => {
    expect(SLOT_TRANSITIONS).toEqual({
      empty: ['probing', 'detected'],
      probing: ['detected', 'done', 'failed', 'empty'],
      detected: ['flashing', 'testing', 'probing', 'failed', 'empty'],
      flashing: ['flashing', 'testing', 'qa', 'failed'],
      testing: ['labelling', 'failed'],
      qa: ['done', 'failed'],
      labelling: ['awaiting-scan', 'done', 'failed'],
      'awaiting-scan': ['awaiting-scan', 'done', 'failed'],
      done: ['empty', 'detected', 'probing'],
      failed: ['empty', 'detected', 'probing'],
    });
  });

  it('allows exactly the moves in the table and refuses every other pair', () => {
    let allowed = 0;
    for (const from of KINDS) {
      for (const to of KINDS) {
        const legal = SLOT_TRANSITIONS[from].includes(to);
        if (legal) {
          allowed += 1;
          expect(transitionSlot(sample[from], sample[to])).toBe(sample[to]);
        } else {
          expect(() => transitionSlot(sample[from], sample[to]), `${from} -> ${to}`).toThrow(IllegalSlotTransition);
        }
      }
    }
    expect(allowed).toBe(31);
  });

  it('walks the dynamic-token path: no token, no label, no scan-back', () => {
    const path: SlotState[] = [sample.empty, sample.probing, sample.detected, sample.flashing, sample.flashing, sample.qa, sample.done, sample.probing];
    let state: SlotState = path[0]!;
    for (const next of path.slice(1)) state = transitionSlot(state, next);
    expect(state.kind).toBe('probing');
    // A dynamic board never goes through testing, labelling or awaiting-scan, and qa cannot skip to them.
    expect(() => transitionSlot(sample.qa, sample.labelling)).toThrow('illegal slot transition qa -> labelling');
    expect(() => transitionSlot(sample.qa, sample['awaiting-scan'])).toThrow(IllegalSlotTransition);
    expect(() => transitionSlot(sample.detected, sample.qa)).toThrow(IllegalSlotTransition);
    expect(() => transitionSlot(sample.testing, sample.qa)).toThrow(IllegalSlotTransition);
  });

  it('a QA failure or a pulled cable fails the slot from qa or flashing', () => {
    expect(transitionSlot(sample.qa, sample.failed).kind).toBe('failed');
    expect(transitionSlot(sample.flashing, sample.failed).kind).toBe('failed');
  });
});
