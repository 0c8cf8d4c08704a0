import { describe, expect, it } from 'vitest';
import type { BoardInfo } from '../../common/board.js';
import type { SlotState } from '../../common/slot-state.js';
import {
  FAILURE_SENTENCES,
  describeProgress,
  describeSlot,
  formatRate,
  formatTimeLeft,
  primaryAction,
  shortQr,
} from '../../renderer/src/describe-slot.js';

const usb: BoardInfo = { port: '/dev/ttyUSB0', transport: 'usb', chip: 'ESP32', mac: '24:6f:28:a1:b2:c3' };
const virtual: BoardInfo = { port: 'sim:2', transport: 'virtual' };
const token = { id: 7, qrToken: 'sqr_gCCsLSydh3d0ArmZj50l9zr79JXVooBR' };

const states: Record<SlotState['kind'], SlotState> = {
  empty: { kind: 'empty' },
  probing: { kind: 'probing', board: usb },
  detected: { kind: 'detected', board: usb },
  flashing: {
    kind: 'flashing',
    board: usb,
    token,
    progress: { phase: 'writing', bytesDone: 250_000, bytesTotal: 1_000_000, rateBps: 91_000 },
  },
  testing: { kind: 'testing', board: usb, token },
  qa: { kind: 'qa', board: usb },
  labelling: { kind: 'labelling', board: usb, token },
  'awaiting-scan': { kind: 'awaiting-scan', board: usb, token, label: { sheetId: 'S1', position: 4 } },
  done: { kind: 'done', board: usb, token, label: { sheetId: 'S1', position: 4 } },
  failed: {
    kind: 'failed',
    board: usb,
    token,
    error: { code: 'SELFTEST_FAILED', message: 'The board failed its self-test; set it aside.', operatorFault: false },
  },
};

describe('describeSlot', () => {
  it('gives every state its own word, colour tone and icon shape', () => {
    const views = Object.values(states).map((state) => describeSlot(state));
    expect(views.map((v) => [v.kind, v.word, v.tone, v.icon])).toEqual([
      ['empty', 'Empty', 'idle', 'socket'],
      ['probing', 'Checking', 'busy', 'search'],
      ['detected', 'Ready', 'ready', 'plug'],
      ['flashing', 'Flashing', 'busy', 'arrow-down'],
      ['testing', 'Testing', 'busy', 'gauge'],
      ['qa', 'QA', 'busy', 'wifi'],
      ['labelling', 'Labelling', 'busy', 'tag'],
      ['awaiting-scan', 'Scan label', 'ready', 'barcode'],
      ['done', 'Done', 'ok', 'check'],
      ['failed', 'Failed', 'bad', 'cross'],
    ]);
    // The busy states share a colour, so their shapes and words must differ.
    expect(new Set(views.map((v) => v.icon)).size).toBe(views.length);
    expect(new Set(views.map((v) => v.word)).size).toBe(views.length);
  });

  it('shows progress with percentage, rate and time left only while flashing', () => {
    const flashing = describeSlot(states.flashing);
    expect(flashing.progress).toEqual({ percent: 25, phase: 'Writing', rate: '91.0 kB/s', timeLeft: '9 s left' });
    for (const kind of ['empty', 'detected', 'testing', 'done', 'failed'] as const) {
      expect(describeSlot(states[kind]).progress).toBeNull();
    }
  });

  it('shows the board facts and the short QR code, never more of the token', () => {
    const done = describeSlot(states.done);
    expect(done.board).toEqual({ port: '/dev/ttyUSB0', chip: 'ESP32', mac: '24:6f:28:a1:b2:c3' });
    expect(done.qrShort).toBe('XVooBR');
    expect(done.labelNumber).toBe(5);
    expect(JSON.stringify(done)).not.toContain(token.qrToken);
  });

  it('carries the failure sentence and a short title', () => {
    const failed = describeSlot(states.failed);
    expect(failed.failure).toEqual({
      code: 'SELFTEST_FAILED',
      message: 'The board failed its self-test; set it aside.',
      next: FAILURE_SENTENCES.SELFTEST_FAILED,
    });
    expect(failed.hint).toBe('Self-test failed');
    expect(describeSlot({ kind: 'failed', error: { code: 'CABLE_PULLED', message: 'x.', operatorFault: true } }).board).toBeNull();
  });

  it('offers the right buttons per state, with the main one first', () => {
    const labels = (state: SlotState, simulator = false) => describeSlot(state, { simulator }).actions.map((a) => a.label);
    expect(labels(states.empty)).toEqual([]);
    expect(labels(states.empty, true)).toEqual(['Plug virtual board']);
    expect(labels(states.detected)).toEqual(['Provision']);
    expect(labels(states.testing)).toEqual([]);
    expect(labels(states.done)).toEqual(['Next board']);
    // A failed slot with its board re-checks it; one without a board just empties.
    expect(labels(states.failed)).toEqual(['Check again']);
    expect(labels({ kind: 'failed', error: { code: 'CABLE_PULLED', message: 'x.', operatorFault: true } })).toEqual(['Clear']);
    // A done virtual board stays done until it is taken out: Unplug is its main action.
    expect(labels({ kind: 'done', board: virtual, token, label: { sheetId: 'S1', position: 0 } }, true)).toEqual(['Unplug']);
    expect(primaryAction(describeSlot({ kind: 'done', board: virtual, token, label: { sheetId: 'S1', position: 0 } }, { simulator: true }))?.command).toBe('unplugVirtualBoard');
    // Unplug appears only for virtual boards in simulator mode.
    expect(labels({ kind: 'detected', board: virtual }, true)).toEqual(['Provision', 'Unplug']);
    expect(labels({ kind: 'testing', board: virtual, token }, true)).toEqual(['Unplug']);
    expect(labels(states.detected, true)).toEqual(['Provision']);
    expect(primaryAction(describeSlot(states.detected))?.command).toBe('runSlot');
    expect(primaryAction(describeSlot(states.done))?.command).toBe('clearSlot');
    expect(primaryAction(describeSlot(states.failed))?.command).toBe('clearSlot');
    expect(primaryAction(describeSlot(states.empty, { simulator: true }))?.command).toBe('plugVirtualBoard');
    expect(primaryAction(describeSlot(states.testing))).toBeNull();
  });
});

describe('progress formatting', () => {
  it('handles the connecting phase with nothing measured yet', () => {
    expect(describeProgress({ phase: 'connecting', bytesDone: 0, bytesTotal: 0, rateBps: 0 })).toEqual({
      percent: 0,
      phase: 'Connecting',
      rate: null,
      timeLeft: null,
    });
  });

  it('a dynamic-token board: firmware without a token, QA, done with no QR and no label', () => {
    const flashing = describeSlot({ kind: 'flashing', board: usb, progress: { phase: 'writing', bytesDone: 1, bytesTotal: 4, rateBps: 0 } });
    expect(flashing).toMatchObject({ qrShort: null, hint: 'Writing firmware…', progress: { percent: 25 } });
    expect(describeSlot({ kind: 'qa', board: usb })).toMatchObject({ word: 'QA', tone: 'busy', qrShort: null, labelNumber: null, actions: [] });
    const done = describeSlot({ kind: 'done', board: usb });
    expect(done).toMatchObject({ word: 'Done', tone: 'ok', qrShort: null, labelNumber: null });
    expect(done.hint).toMatch(/factory-reset/);
    expect(done.hint).not.toMatch(/label/i);
  });

  it('clamps and floors the percentage', () => {
    expect(describeProgress({ phase: 'verifying', bytesDone: 999, bytesTotal: 1000, rateBps: 1 }).percent).toBe(99);
    expect(describeProgress({ phase: 'writing', bytesDone: 2000, bytesTotal: 1000, rateBps: 1 }).percent).toBe(100);
  });

  it('formats rates and times for a glance', () => {
    expect(formatRate(512)).toBe('512 B/s');
    expect(formatRate(91_160)).toBe('91.2 kB/s');
    expect(formatRate(1_500_000)).toBe('1.5 MB/s');
    expect(formatTimeLeft(0.2)).toBe('1 s left');
    expect(formatTimeLeft(59)).toBe('59 s left');
    expect(formatTimeLeft(125)).toBe('2:05 left');
    expect(shortQr('sqr_ABCDEFGH')).toBe('CDEFGH');
    expect(shortQr('abc')).toBe('abc');
  });
});
