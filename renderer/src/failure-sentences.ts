import type { ErrorCode } from '../../common/errors.js';

/**
 * One sentence per failure code, for the person at the line: what happened, then what to do next.
 * A failed slot card shows it above the engine's own message (which names the specifics, e.g. which
 * check failed). Button names in these sentences are the card's own: "Check again" re-checks the
 * board in the slot, "Clear" empties a slot without one. Never mentions tokens by value.
 */
export const FAILURE_SENTENCES: Record<ErrorCode, string> = {
  NO_TOKENS_AVAILABLE: 'No tokens are left to give this board: call a supervisor to pull a batch, then press Check again.',
  BOARD_NOT_RESPONDING: 'The board did not answer: reseat its USB cable (hold BOOT if it has one), then press Check again.',
  BOARD_UNSUPPORTED: 'This board is not the chip this product needs: take it out and put it aside for a supervisor.',
  BOARD_CHANGED: 'A different board is now in this slot: press Check again to start over with the board that is in it.',
  CABLE_PULLED: 'The cable came out while the board was being written: plug it back in firmly, then press Check again.',
  FLASH_WRITE_FAILED: 'Writing to the board failed: reseat the cable and press Check again; if it fails twice, set the board aside.',
  FLASH_VERIFY_MISMATCH: 'The board kept different bytes than were written: press Check again once; if it fails again, set the board aside.',
  SELFTEST_FAILED: 'The board failed its self-test: set it aside in the reject tray for a supervisor, then take the next board.',
  SELFTEST_TIMEOUT: 'The board did not finish its self-test in time: reseat the cable and press Check again; if it repeats, set it aside.',
  QA_FAILED: 'The board failed QA (the reason is below): set it aside in the reject tray for a supervisor, then take the next board.',
  LABEL_FAILED: 'The label could not be made: check the printer or label sheet, then press Check again or call a supervisor.',
  CLOUD_UNREACHABLE: 'The cloud could not be reached: check the network cable, wait a minute, then press Check again.',
  CLOUD_REJECTED: 'The cloud refused the request: call a supervisor; the board can be set aside until then.',
  INVALID_INPUT: 'The station refused what it was given: press Check again; if it repeats, call a supervisor.',
  NOT_FOUND: 'The station could not find what this slot needed: press Check again; if it repeats, call a supervisor.',
  BUSY: 'The slot was still busy with another step: wait a moment, then press Check again.',
  UNAUTHORIZED: 'This needs a supervisor: ask one to unlock it with the PIN.',
  ILLEGAL_TRANSITION: 'A step happened out of order: press Check again to start this board over; tell a supervisor if it repeats.',
  INTERRUPTED: 'The station stopped while this board was working: plug it back in and press Check again to resume it.',
  INTERNAL: 'Something went wrong inside the station: press Check again; if it repeats, call a supervisor.',
};

/** The sentence for a code; codes from a newer engine fall back to a safe generic instruction. */
export function failureSentence(code: string): string {
  return (FAILURE_SENTENCES as Record<string, string | undefined>)[code] ?? 'This board failed: press Check again; if it repeats, call a supervisor.';
}
