import type { z } from 'zod';
import { CloudHttpError } from './http-error.js';

/** Issues reported in one error message; the rest are summarised by count. */
const ISSUES_SHOWN = 3;

/**
 * Parses `value` with `schema` or throws 400 INVALID_INPUT naming the offending fields. Zod's
 * messages describe the rule that failed ("Too big: expected number to be <=1000"), not the value,
 * so a token sent in the wrong field is never echoed back.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const shown = issues.slice(0, ISSUES_SHOWN).map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : what;
    return `${where}: ${issue.message}`;
  });
  const more = issues.length > ISSUES_SHOWN ? ` (and ${issues.length - ISSUES_SHOWN} more)` : '';
  throw new CloudHttpError('INVALID_INPUT', `Invalid ${what}: ${shown.join('; ')}${more}.`);
}

/** First value of each query parameter, as a plain object for a schema. */
export function queryObject(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of url.searchParams) if (!(key in out)) out[key] = value;
  return out;
}
