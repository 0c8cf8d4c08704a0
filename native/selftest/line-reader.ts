/**
 * Reads text lines from a byte stream with hard limits, so a board that floods, prints garbage or
 * goes silent fails cleanly instead of filling memory or hanging: at most `maxLineBytes` per line
 * (longer lines are cut and flagged), at most `byteBudget` in total, and a named gap timeout.
 */
export interface LineReaderLimits {
  maxLineBytes: number;
  byteBudget: number;
}

export type LineEvent =
  | { kind: 'line'; text: string; truncated: boolean }
  | { kind: 'budget-exceeded' }
  | { kind: 'closed' };

export class LineReader {
  private partial: number[] = [];
  private truncated = false;
  private consumed = 0;
  private queue: LineEvent[] = [];
  private waiter: ((event: LineEvent) => void) | null = null;
  private done = false;

  constructor(private readonly limits: LineReaderLimits) {}

  /** Feed bytes as they arrive from the port. */
  push(bytes: Uint8Array): void {
    if (this.done) return;
    for (const byte of bytes) {
      this.consumed += 1;
      if (this.consumed > this.limits.byteBudget) {
        this.finish({ kind: 'budget-exceeded' });
        return;
      }
      if (byte === 0x0a) {
        const text = Buffer.from(this.partial).toString('utf8').replace(/\r$/, '');
        this.emit({ kind: 'line', text, truncated: this.truncated });
        this.partial = [];
        this.truncated = false;
      } else if (this.partial.length < this.limits.maxLineBytes) {
        this.partial.push(byte);
      } else {
        this.truncated = true;
      }
    }
  }

  close(): void {
    this.finish({ kind: 'closed' });
  }

  /** Next event, or null when nothing arrived within `gapMs`. */
  next(gapMs: number): Promise<LineEvent | null> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.done) return Promise.resolve({ kind: 'closed' });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve(null);
      }, gapMs);
      this.waiter = (event) => {
        clearTimeout(timer);
        this.waiter = null;
        resolve(event);
      };
    });
  }

  private emit(event: LineEvent): void {
    if (this.waiter) this.waiter(event);
    else this.queue.push(event);
  }

  private finish(event: LineEvent): void {
    if (this.done) return;
    this.emit(event);
    this.done = true;
  }
}
