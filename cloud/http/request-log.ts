/**
 * The cloud's log: one JSON object per line. Fields are chosen so no secret is ever logged (route
 * patterns instead of raw URLs, organisation ids instead of client ids, error codes instead of
 * request values); as a second line of defence every line passes `redactSecrets`.
 */
export type LogSink = (line: string) => void;

export type LogFields = Record<string, string | number | boolean | null | undefined>;

// AuthTokens (32), bearer/refresh tokens and generated client secrets (40) and QR tokens (sqr_ + 32)
// are all runs of at least 32 chars of [-_a-zA-Z0-9]; nothing the log needs is that long.
const SECRET_LIKE_RUN = /[-_a-zA-Z0-9]{32,}/g;

export const REDACTED = '[redacted]';

export function redactSecrets(text: string): string {
  return text.replace(SECRET_LIKE_RUN, REDACTED);
}

export const stderrSink: LogSink = (line) => {
  process.stderr.write(`${line}\n`);
};

export class CloudLogger {
  constructor(
    private readonly sink: LogSink,
    private readonly now: () => number,
  ) {}

  log(event: string, fields: LogFields): void {
    const entry: LogFields = { at: new Date(this.now()).toISOString(), event, ...fields };
    this.sink(redactSecrets(JSON.stringify(entry)));
  }
}
