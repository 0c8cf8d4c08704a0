/**
 * Serial logs are stored per board and shown to QA; the AuthToken must never be in them. A board
 * that leaks its token (a debug print, a reason string that quotes it) would put it there, so every
 * line the station keeps goes through `redactToken` first:
 *   - every occurrence of the expected token (also in another letter case) becomes `‹redacted›`;
 *   - so does every other standalone run of exactly 32 token-alphabet characters ([-_a-zA-Z0-9],
 *     Blynk's AuthToken shape), which catches another board's token. Runs of lowercase hex only are
 *     kept: they are nonces and MD5s the protocol prints on purpose (a random AuthToken is all
 *     lowercase hex with probability 4^-32).
 */
export const REDACTED = '‹redacted›';
const TOKEN_SHAPED_RUN = /(?<![-_A-Za-z0-9])[-_A-Za-z0-9]{32}(?![-_A-Za-z0-9])/g;
const LOWER_HEX = /^[0-9a-f]{32}$/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

export function makeRedactor(expectedToken: string | undefined): (text: string) => string {
  const exact = expectedToken && expectedToken.length > 0 ? new RegExp(escapeRegExp(expectedToken), 'gi') : null;
  return (text: string): string => {
    const withoutToken = exact ? text.replace(exact, REDACTED) : text;
    return withoutToken.replace(TOKEN_SHAPED_RUN, (run) => (LOWER_HEX.test(run) ? run : REDACTED));
  };
}

export function redactToken(text: string, expectedToken: string | undefined): string {
  return makeRedactor(expectedToken)(text);
}
