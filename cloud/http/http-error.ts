/**
 * The cloud's error replies. Every endpoint except the OAuth2 token endpoint answers errors as
 * `{ "error": { "code", "message" } }`; the token endpoint answers RFC 6749 section 5.2
 * `{ "error", "error_description" }`, as Blynk's does, so OAuth2 client libraries understand it.
 * Messages are fixed sentences written here: they never echo request values, so never a token.
 */
export const CLOUD_ERROR_STATUS = {
  INVALID_INPUT: 400,
  INVALID_JSON: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  INVALID_CSV: 422,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
} as const;

export type CloudErrorCode = keyof typeof CLOUD_ERROR_STATUS;

/** One problem in one row of an uploaded CSV (row 1 is the first data row after the header). */
export interface CsvRowError {
  row: number;
  column?: string;
  message: string;
}

export interface CloudErrorBody {
  error: { code: CloudErrorCode; message: string; rowErrors?: CsvRowError[] };
}

export class CloudHttpError extends Error {
  readonly status: number;

  constructor(
    readonly code: CloudErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly rowErrors?: CsvRowError[],
  ) {
    super(message);
    this.name = 'CloudHttpError';
    this.status = CLOUD_ERROR_STATUS[code];
  }

  body(): CloudErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.rowErrors ? { rowErrors: this.rowErrors } : {}) } };
  }
}

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type';

export class OAuthHttpError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: OAuthErrorCode,
    description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
    this.name = 'OAuthHttpError';
  }

  body(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.message };
  }
}
