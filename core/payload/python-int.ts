/**
 * Python's `int(text, 0)`, which ESP-IDF's tools use for sizes and offsets (`nvs_partition_gen.py`
 * SIZE, `gen_esp32part.py` offsets/sizes/types): surrounding whitespace, one optional sign, then
 * `0x`/`0o`/`0b` (either case) with digits of that base, or a decimal number without leading zeros
 * (all-zero "000" is fine); single underscores may sit between digits and after the base prefix.
 * Returns undefined where Python raises ValueError. (Python also takes non-ASCII Unicode digits;
 * we do not.)
 */
import { pyStrStrip } from './nvs-value-codecs.js';

const BASE0_INT = /^[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|[1-9](?:_?[0-9])*|0(?:_?0)*)$/;

export function pyIntBase0(text: string): bigint | undefined {
  const body = pyStrStrip(text);
  if (!BASE0_INT.test(body)) return undefined;
  const negative = body.startsWith('-');
  const digits = body.replace(/^[+-]/, '').replace(/_/g, '');
  const prefix = digits.slice(0, 2).toLowerCase();
  let value: bigint;
  if (prefix === '0o') value = BigInt(`0o${digits.slice(2)}`);
  else if (prefix === '0x' || prefix === '0b') value = BigInt(`${prefix}${digits.slice(2)}`);
  else value = BigInt(digits);
  return negative ? -value : value;
}

/** `int(text, 0)` as a JS number, undefined when Python would refuse it or it is not a safe integer. */
export function pyIntBase0Number(text: string): number | undefined {
  const value = pyIntBase0(text);
  if (value === undefined || value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
  return Number(value);
}
