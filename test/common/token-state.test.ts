import { describe, expect, it } from 'vitest';
import { IllegalTokenTransition, TOKEN_STATES, TOKEN_TRANSITIONS, transitionToken } from '../../common/token-state.js';

describe('token state machine', () => {
  it('walks the happy path forward', () => {
    let s = transitionToken('available', 'reserved');
    s = transitionToken(s, 'written');
    s = transitionToken(s, 'verified');
    s = transitionToken(s, 'labelled');
    expect(transitionToken(s, 'shipped')).toBe('shipped');
  });

  it('never lets a token that may have touched a board become available again', () => {
    for (const from of TOKEN_STATES) {
      if (from === 'available') continue;
      expect(() => transitionToken(from, 'available')).toThrow(IllegalTokenTransition);
    }
  });

  it('treats failed, voided and shipped as terminal', () => {
    for (const terminal of ['failed', 'voided', 'shipped'] as const) {
      expect(TOKEN_TRANSITIONS[terminal]).toEqual([]);
      for (const to of TOKEN_STATES) expect(() => transitionToken(terminal, to)).toThrow(IllegalTokenTransition);
    }
  });

  it('refuses to skip steps', () => {
    expect(() => transitionToken('available', 'written')).toThrow(/available -> written/);
    expect(() => transitionToken('reserved', 'labelled')).toThrow(IllegalTokenTransition);
  });
});
