import { describe, expect, it } from 'vitest';
import type { SlotState } from '../../common/slot-state.js';
import { cueFor } from '../../renderer/src/sound-cues.js';

const board = { port: '/dev/ttyUSB0', transport: 'usb' as const };
const token = { id: 1, qrToken: 'sqr_abcdefghijklmnopqrstuvwxyz012345' };
const label = { sheetId: 'S1', position: 0 };
const labelling: SlotState = { kind: 'labelling', board, token };
const waiting: SlotState = { kind: 'awaiting-scan', board, token, label };

describe('sound cues', () => {
  it('chirps when a board passes and buzzes when a slot fails', () => {
    expect(cueFor(labelling, waiting)).toBe('pass');
    expect(cueFor(labelling, { kind: 'done', board, token, label })).toBe('pass');
    expect(cueFor({ kind: 'testing', board, token }, { kind: 'failed', board, error: { code: 'SELFTEST_FAILED', message: 'x', operatorFault: false } })).toBe('fail');
  });

  it('buzzes on a wrong scan, once per wrong scan', () => {
    const wrong: SlotState = { ...waiting, mismatch: { scannedShort: null, at: '2026-11-22T10:00:00Z' } };
    expect(cueFor(waiting, wrong)).toBe('fail');
    expect(cueFor(wrong, wrong)).toBeNull();
  });

  it('stays quiet for everything else, and on first sight of a slot', () => {
    expect(cueFor(undefined, waiting)).toBeNull();
    expect(cueFor({ kind: 'empty' }, { kind: 'probing', board })).toBeNull();
    expect(cueFor(waiting, { kind: 'done', board, token, label })).toBeNull(); // the scan itself is the feedback
  });
});
