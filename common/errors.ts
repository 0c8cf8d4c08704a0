/**
 * Errors are data: a closed set of codes, a one-sentence operator message that says what to do next,
 * whether the operator can fix it (`operatorFault`) or it is a bug/hardware fault, and plain JSON
 * so it crosses IPC/WebSocket unchanged. Messages never contain an AuthToken.
 */
export const ERROR_CODES = [
  'NO_TOKENS_AVAILABLE',
  'BOARD_NOT_RESPONDING',
  'BOARD_UNSUPPORTED',
  'BOARD_CHANGED',
  'CABLE_PULLED',
  'FLASH_WRITE_FAILED',
  'FLASH_VERIFY_MISMATCH',
  'SELFTEST_FAILED',
  'SELFTEST_TIMEOUT',
  /** A dynamic-token board failed dynamic QA (online with a test token, factory reset). */
  'QA_FAILED',
  'LABEL_FAILED',
  'CLOUD_UNREACHABLE',
  'CLOUD_REJECTED',
  'INVALID_INPUT',
  'NOT_FOUND',
  'BUSY',
  'UNAUTHORIZED',
  'ILLEGAL_TRANSITION',
  'INTERRUPTED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface StationErrorData {
  code: ErrorCode;
  /** One sentence for the person at the station: what happened and what to do next. */
  message: string;
  /** True when the operator can fix it (replug, scan again); false for faults and bugs. */
  operatorFault: boolean;
  /** Extra machine-readable facts (never secrets). */
  details?: Record<string, string | number | boolean | null>;
}

export class StationError extends Error implements StationErrorData {
  readonly code: ErrorCode;
  readonly operatorFault: boolean;
  readonly details?: Record<string, string | number | boolean | null>;

  constructor(data: StationErrorData, options?: { cause?: unknown }) {
    super(data.message, options);
    this.name = 'StationError';
    this.code = data.code;
    this.operatorFault = data.operatorFault;
    if (data.details) this.details = data.details;
  }

  toJSON(): StationErrorData {
    return {
      code: this.code,
      message: this.message,
      operatorFault: this.operatorFault,
      ...(this.details ? { details: this.details } : {}),
    };
  }

  static fromJSON(data: StationErrorData): StationError {
    return new StationError(data);
  }
}

export function stationError(
  code: ErrorCode,
  message: string,
  operatorFault = false,
  details?: StationErrorData['details'],
): StationError {
  return new StationError({ code, message, operatorFault, ...(details ? { details } : {}) });
}

/** Any thrown value as error data; unknown errors become INTERNAL without leaking their text. */
export function toErrorData(err: unknown): StationErrorData {
  if (err instanceof StationError) return err.toJSON();
  if (isStationErrorData(err)) return err;
  return {
    code: 'INTERNAL',
    message: 'Internal error — the station logged it; try again or call a supervisor.',
    operatorFault: false,
  };
}

export function isStationErrorData(value: unknown): value is StationErrorData {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.code === 'string' &&
    (ERROR_CODES as readonly string[]).includes(v.code) &&
    typeof v.message === 'string' &&
    typeof v.operatorFault === 'boolean'
  );
}
