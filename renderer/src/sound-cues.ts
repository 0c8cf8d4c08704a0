import type { SlotView } from '../../common/slot-state.js';

/** What the line worker hears: `pass` when a board passes, `fail` when a slot fails or a label is wrong. */
export type Cue = 'pass' | 'fail';

/** Which cue a slot's change deserves, if any. */
export function cueFor(before: SlotView['state'] | undefined, after: SlotView['state']): Cue | null {
  if (!before || before.kind === after.kind) {
    if (before?.kind === 'awaiting-scan' && after.kind === 'awaiting-scan' && after.mismatch && after.mismatch !== before.mismatch) return 'fail';
    return null;
  }
  if (after.kind === 'failed') return 'fail';
  if (after.kind === 'awaiting-scan' || (after.kind === 'done' && (before.kind === 'labelling' || before.kind === 'qa'))) return 'pass';
  return null;
}
