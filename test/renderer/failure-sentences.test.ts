import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../common/errors.js';
import { describeSlot } from '../../renderer/src/describe-slot.js';
import { FAILURE_SENTENCES, failureSentence } from '../../renderer/src/failure-sentences.js';

/** What a failed card's buttons are called: the sentences may only name these. */
const BUTTONS = ['Check again', 'Clear', 'Unplug'];
/** Words that say what to do next. */
const NEXT_STEP = /\b(press|plug|reseat|take|set it aside|call|ask|wait|check)\b/i;

describe('failure sentences: every code the engine can produce says what happened and what to do', () => {
  it.each(ERROR_CODES.map((code) => [code]))('%s has one sentence with a next step', (code) => {
    const sentence = (FAILURE_SENTENCES as Record<string, string | undefined>)[code];
    expect(sentence, `no sentence for ${code} in renderer/src/failure-sentences.ts`).toBeTypeOf('string');
    const text = sentence!;
    // One sentence: a capital first, a full stop last, no second full stop before the end.
    expect(text).toMatch(/^[A-Z]/);
    expect(text.endsWith('.')).toBe(true);
    expect(text.slice(0, -1)).not.toMatch(/\.\s/);
    // "What happened: what to do next."
    expect(text).toContain(': ');
    expect(text.split(': ')[1]).toMatch(NEXT_STEP);
    // Short enough to read on a slot card from a metre away.
    expect(text.length).toBeLessThanOrEqual(130);
    for (const quoted of text.match(/press ([A-Z][a-z]+(?: again)?)/g) ?? []) {
      expect(BUTTONS).toContain(quoted.replace('press ', ''));
    }
  });

  it('has no sentence for a code the engine does not know (stale entries)', () => {
    expect(Object.keys(FAILURE_SENTENCES).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('a failed card carries the code sentence next to the engine message, and an unknown code still gets one', () => {
    for (const code of ERROR_CODES) {
      const view = describeSlot({ kind: 'failed', error: { code, message: 'Specifics.', operatorFault: false } });
      expect(view.failure?.next).toBe(FAILURE_SENTENCES[code]);
      expect(view.failure?.message).toBe('Specifics.');
    }
    expect(failureSentence('SOMETHING_NEW')).toMatch(/Check again/);
  });
});
