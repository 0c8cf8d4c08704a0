/**
 * The auto-reset circuit of ESP32 dev boards (two NPN transistors between the USB bridge's modem
 * lines and the chip): EN is pulled low only while RTS is asserted and DTR is not; GPIO0 is pulled
 * low only while DTR is asserted and RTS is not. With both lines asserted (what Linux does on open)
 * or both released, neither pin moves, which is why opening the port does not reset the board.
 *
 * The chip samples its strapping pins on EN's rising edge: GPIO0 low then means ROM download mode,
 * high means boot from flash. The same circuit is why esptool's classic reset works:
 * `DTR=0 RTS=1` (EN low, chip in reset) -> 100 ms -> `DTR=1 RTS=0` (EN released while GPIO0 is
 * low) -> 50 ms -> `DTR=0 RTS=0`.
 */
export interface ModemLines {
  dtr: boolean;
  rts: boolean;
  /** A break condition on TX; carried but has no effect on an ESP32 board. */
  brk: boolean;
}

export interface PinLevels {
  /** EN (CHIP_PU): true = high = chip running. */
  en: boolean;
  /** GPIO0 strap: true = high. */
  io0: boolean;
}

export function pinLevels(lines: Pick<ModemLines, 'dtr' | 'rts'>): PinLevels {
  return {
    en: !(lines.rts && !lines.dtr),
    io0: !(lines.dtr && !lines.rts),
  };
}

export type LineEdge =
  | { kind: 'reset-asserted' }
  /** EN rose: the chip starts, in download mode when GPIO0 was low at that instant. */
  | { kind: 'reset-released'; download: boolean };

/** Tracks the lines and reports EN edges, with the GPIO0 level sampled at each rising edge. */
export class BoardLines {
  private state: ModemLines = { dtr: false, rts: false, brk: false };

  get lines(): Readonly<ModemLines> {
    return this.state;
  }

  get pins(): PinLevels {
    return pinLevels(this.state);
  }

  /** Apply a change (fields left out keep their level); returns the EN edge it caused, if any. */
  set(change: Partial<ModemLines>): LineEdge | undefined {
    const before = this.pins;
    this.state = {
      dtr: change.dtr ?? this.state.dtr,
      rts: change.rts ?? this.state.rts,
      brk: change.brk ?? this.state.brk,
    };
    const after = this.pins;
    if (before.en && !after.en) return { kind: 'reset-asserted' };
    if (!before.en && after.en) return { kind: 'reset-released', download: !after.io0 };
    return undefined;
  }
}
