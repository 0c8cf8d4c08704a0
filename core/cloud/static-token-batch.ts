import { StationError } from '../../common/errors.js';
import type { PullBatchArgs, PulledBatch } from './cloud-client.js';
import { failureFor, rejected } from './cloud-http.js';
import { generatedBatchReply } from './cloud-replies.js';
import type { AuthorizedRequester } from './authorized-requester.js';

/** The cloud's limit on tokens per batch request. */
export const BATCH_COUNT_MAX = 1000;
/**
 * Batch generation for a station. Blynk announced a "generate static tokens" endpoint without
 * documenting its path; this is the path our `cloud/` service answers, overridable per cloud.
 */
export const GENERATE_STATIC_TOKENS_PATH = '/api/v1/organization/static-tokens/generate';

/**
 * Asks for `count` fresh static tokens, idempotent by `requestId`, and trusts the batch only if
 * it is exactly what was asked for: a short, foreign or self-colliding batch would put the queue's
 * uniqueness guarantees at the mercy of the server.
 */
export async function pullStaticTokenBatch(
  http: AuthorizedRequester,
  args: PullBatchArgs,
  defaultStationId: string | null,
  path: string = GENERATE_STATIC_TOKENS_PATH,
): Promise<PulledBatch> {
  const operation = 'pulling a token batch';
  const stationId = args.stationId ?? defaultStationId;
  if (!stationId) {
    throw new StationError({
      code: 'INVALID_INPUT',
      message: 'The station has no station id for its cloud requests; set one in the station settings.',
      operatorFault: false,
    });
  }
  if (!Number.isInteger(args.count) || args.count < 1 || args.count > BATCH_COUNT_MAX) {
    throw new StationError({
      code: 'INVALID_INPUT',
      message: `Ask for between 1 and ${BATCH_COUNT_MAX} tokens per batch.`,
      operatorFault: true,
      details: { count: args.count },
    });
  }
  // A CSV pull sends the CSV instead of a count: one token per data row (args.count of them).
  const ask = args.csv ? { csv: args.csv.text, remap: args.csv.remap } : { count: args.count };
  const res = await http.request(operation, 'POST', path, { templateId: args.templateId, ...ask, stationId, requestId: args.requestId });
  if (res.status !== 200 && res.status !== 201) throw failureFor(operation, res);
  const parsed = generatedBatchReply.safeParse(res.body);
  if (!parsed.success) throw rejected(operation, res.status, 'invalid-reply');
  const batch = parsed.data;
  const distinct =
    new Set(batch.tokens.map((t) => t.deviceToken)).size === batch.tokens.length && new Set(batch.tokens.map((t) => t.token)).size === batch.tokens.length;
  if (batch.tokens.length !== args.count || batch.templateId !== args.templateId || !distinct) {
    throw rejected(operation, res.status, 'invalid-reply');
  }
  return {
    batchId: batch.batchId,
    templateId: batch.templateId,
    orgId: batch.orgId,
    tokens: batch.tokens.map((t) => ({ deviceToken: t.deviceToken, token: t.token, createdAt: t.createdAt, ...(t.metadata ? { metadata: t.metadata } : {}) })),
  };
}
