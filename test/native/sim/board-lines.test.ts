import { describe, expect, it } from 'vitest';
import { BoardLines, pinLevels } from '../../../native/sim/board-lines.js';

describe('auto-reset circuit', () => {
  it('pulls EN low only for RTS without DTR and GPIO0 low only for DTR without RTS', () => {
    expect(pinLevels({ dtr: false, rts: false })).toEqual({ en: true, io0: true });
    expect(pinLevels({ dtr: true, rts: true })).toEqual({ en: true, io0: true });
    expect(pinLevels({ dtr: false, rts: true })).toEqual({ en: false, io0: true });
    expect(pinLevels({ dtr: true, rts: false })).toEqual({ en: true, io0: false });
  });

  it("turns esptool's classic reset into a reset released with GPIO0 low", () => {
    const lines = new BoardLines();
    expect(lines.set({ dtr: false, rts: true })).toEqual({ kind: 'reset-asserted' });
    expect(lines.set({ dtr: true, rts: false })).toEqual({ kind: 'reset-released', download: true });
    expect(lines.set({ dtr: false, rts: false })).toBeUndefined();
  });

  it('boots from flash when EN is released with GPIO0 high, and ignores open-style DTR+RTS', () => {
    const lines = new BoardLines();
    expect(lines.set({ dtr: true, rts: true })).toBeUndefined();
    expect(lines.set({ dtr: false })).toEqual({ kind: 'reset-asserted' });
    expect(lines.set({ rts: false })).toEqual({ kind: 'reset-released', download: false });
  });
});
