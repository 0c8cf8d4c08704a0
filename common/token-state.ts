/**
 * The life of one AuthToken in the station's queue. States only move forward; the two side exits
 * (`failed` = burned, `voided` = withdrawn by a supervisor) are terminal. A token that may have
 * touched a board (anything from `reserved` on) can never become `available` again: there is no edge
 * back to `available` in the table below, and `transitionToken` throws on any edge not listed.
 */
export const TOKEN_STATES = [
  'available',
  'reserved',
  'written',
  'verified',
  'labelled',
  'shipped',
  'failed',
  'voided',
] as const;

export type TokenState = (typeof TOKEN_STATES)[number];

export const TOKEN_TRANSITIONS: Readonly<Record<TokenState, readonly TokenState[]>> = {
  available: ['reserved', 'voided'],
  // `reserved` is committed before the first byte goes to the board: from here on the token is
  // considered to have touched a board.
  reserved: ['written', 'failed', 'voided'],
  written: ['verified', 'failed', 'voided'],
  verified: ['labelled', 'failed', 'voided'],
  labelled: ['shipped', 'failed', 'voided'],
  shipped: [],
  failed: [],
  voided: [],
};

export class IllegalTokenTransition extends Error {
  constructor(
    readonly from: TokenState,
    readonly to: TokenState,
  ) {
    super(`illegal token transition ${from} -> ${to}`);
    this.name = 'IllegalTokenTransition';
  }
}

export function canTransitionToken(from: TokenState, to: TokenState): boolean {
  return TOKEN_TRANSITIONS[from].includes(to);
}

/** Returns `to` when the move is legal, throws `IllegalTokenTransition` otherwise. */
export function transitionToken(from: TokenState, to: TokenState): TokenState {
  if (!canTransitionToken(from, to)) throw new IllegalTokenTransition(from, to);
  return to;
}

export function isTokenState(value: unknown): value is TokenState {
  return typeof value === 'string' && (TOKEN_STATES as readonly string[]).includes(value);
}
