import { StationError } from '../../common/errors.js';

/** Longest reply body the station reads (a batch of 1000 tokens is ~110 KB). */
const REPLY_BYTES_MAX = 8 * 1024 * 1024;
/** Longest server-supplied text kept in error details. */
const DETAIL_CHARS_MAX = 200;
// Same rule as the cloud's log: runs this long of token characters may be secrets.
const SECRET_LIKE_RUN = /[-_a-zA-Z0-9]{32,}/g;

export interface CloudRequest {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface CloudResponse {
  status: number;
  /** Parsed JSON, or undefined when the body is empty or not JSON. */
  body: unknown;
  retryAfterS: number | null;
}

/**
 * One HTTP exchange with a hard deadline: the AbortController covers connecting, the headers and
 * reading the whole body, so a server that accepts and then goes silent costs at most `timeoutMs`.
 * Network failures and the deadline become CLOUD_UNREACHABLE; any HTTP status is returned.
 */
export async function sendCloudRequest(
  fetchImpl: typeof fetch,
  request: CloudRequest,
  timeoutMs: number,
  operation: string,
): Promise<CloudResponse> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetchImpl(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
      signal: controller.signal,
      redirect: 'error',
    });
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > REPLY_BYTES_MAX) {
      await res.body?.cancel();
      throw rejected(operation, res.status, 'reply-too-large');
    }
    const text = await readBounded(res, operation);
    const retryAfter = Number(res.headers.get('retry-after'));
    return {
      status: res.status,
      body: parseJson(text),
      retryAfterS: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null,
    };
  } catch (err) {
    if (err instanceof StationError) throw err;
    if (controller.signal.aborted) {
      throw new StationError(
        {
          code: 'CLOUD_UNREACHABLE',
          message: `The cloud did not answer within ${Math.round(timeoutMs / 100) / 10} s while ${operation}; check the network, the station will retry.`,
          operatorFault: true,
          details: { operation, timeoutMs },
        },
        { cause: err },
      );
    }
    throw new StationError(
      {
        code: 'CLOUD_UNREACHABLE',
        message: `The station cannot reach the cloud while ${operation}; check the network connection, the station will retry.`,
        operatorFault: true,
        details: { operation },
      },
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The body as text, refused as soon as it passes REPLY_BYTES_MAX: a chunked reply declares no
 * length, so the declared-length check alone would let a hostile server fill memory until the deadline.
 */
async function readBounded(res: Response, operation: string): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > REPLY_BYTES_MAX) {
      await reader.cancel();
      throw rejected(operation, res.status, 'reply-too-large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Server-supplied text, cut short and with anything token-like removed. */
export function safeDetail(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  return value.replace(SECRET_LIKE_RUN, '[redacted]').slice(0, DETAIL_CHARS_MAX);
}

/** The code and message of an error reply, in our shape or RFC 6749's. */
function serverError(body: unknown): { code: string | null; message: string | null } {
  if (typeof body !== 'object' || body === null) return { code: null, message: null };
  const error = (body as Record<string, unknown>).error;
  if (typeof error === 'object' && error !== null) {
    const e = error as Record<string, unknown>;
    return { code: safeDetail(e.code), message: safeDetail(e.message) };
  }
  return { code: safeDetail(error), message: safeDetail((body as Record<string, unknown>).error_description) };
}

export function rejected(operation: string, status: number, reason: string, serverBody?: unknown): StationError {
  const { code, message } = serverError(serverBody);
  return new StationError({
    code: 'CLOUD_REJECTED',
    message:
      reason === 'invalid-reply'
        ? `The cloud sent a reply the station does not understand while ${operation}; call a supervisor.`
        : `The cloud refused the request while ${operation} (HTTP ${status}); call a supervisor.`,
    operatorFault: false,
    details: { operation, status, reason, serverCode: code, serverMessage: message },
  });
}

/**
 * The StationError for a non-2xx reply: 5xx and 429 are the cloud's temporary trouble
 * (CLOUD_UNREACHABLE, worth retrying later); every other 4xx is a refusal (CLOUD_REJECTED).
 */
export function failureFor(operation: string, res: CloudResponse): StationError {
  if (res.status >= 500 || res.status === 429) {
    const { code } = serverError(res.body);
    return new StationError({
      code: 'CLOUD_UNREACHABLE',
      message:
        res.status === 429
          ? `The cloud asked the station to slow down while ${operation}; the station will retry.`
          : `The cloud is having trouble (HTTP ${res.status}) while ${operation}; the station will retry.`,
      operatorFault: false,
      details: { operation, status: res.status, serverCode: code, retryAfterS: res.retryAfterS },
    });
  }
  return rejected(operation, res.status, 'http-status', res.body);
}
