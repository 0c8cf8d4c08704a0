import type { ReactElement } from 'react';
import type { SlotView } from '../../../common/slot-state.js';
import type { SlotCommand } from '../describe-slot.js';
import { SlotCard } from './slot-card.js';

export interface SlotGridProps {
  slots: readonly SlotView[];
  simulator: boolean;
  busySlots: ReadonlySet<string>;
  onCommand(slotId: string, command: SlotCommand): void;
  registerCard(slotNumber: number, element: HTMLElement | null): void;
}

export function SlotGrid({ slots, simulator, busySlots, onCommand, registerCard }: SlotGridProps): ReactElement {
  return (
    <section className="slot-grid" data-count={slots.length} aria-label="Slots">
      {slots.map((slot) => (
        <SlotCard
          key={slot.id}
          slot={slot}
          simulator={simulator}
          busy={busySlots.has(slot.id)}
          onCommand={onCommand}
          registerCard={registerCard}
        />
      ))}
    </section>
  );
}
