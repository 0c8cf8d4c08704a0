import type { IncomingMessage } from 'node:http';
import { CloudHttpError } from './http-error.js';

/**
 * Reads a request body up to `limitBytes`. A declared Content-Length over the limit is refused
 * before a byte is read; a chunked body is cut off as soon as it passes the limit.
 */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) throw tooLarge(limitBytes);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limitBytes) throw tooLarge(limitBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(limitBytes: number): CloudHttpError {
  return new CloudHttpError('PAYLOAD_TOO_LARGE', `The request body is larger than the limit of ${limitBytes} bytes.`);
}

export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Reads and parses a JSON body; the value still has to pass the endpoint's schema. */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  if (mediaType(req) !== 'application/json') {
    throw new CloudHttpError('UNSUPPORTED_MEDIA_TYPE', 'Send the request body as JSON with Content-Type: application/json.');
  }
  const raw = await readBody(req, limitBytes);
  if (raw.length === 0) throw new CloudHttpError('INVALID_JSON', 'The request body is empty; send a JSON object.');
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new CloudHttpError('INVALID_JSON', 'The request body is not valid JSON.');
  }
}
