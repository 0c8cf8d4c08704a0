/**
 * One direction of a UART: bytes go in at any speed and come out in order, either as soon as the
 * event loop turns (unthrottled) or no faster than the line rate. 8N1 framing puts 10 bits on the
 * wire per byte, so a baud rate B carries B / 10 bytes per second.
 */
export const BITS_PER_BYTE_8N1 = 10;
/** Smallest timer step Node honours; bytes due within it go out together. */
const MIN_TICK_MS = 1;
/** Unused line time never turns into a burst later: at most this much credit is kept. */
const MAX_CREDIT_MS = 2;

export class BytePipe {
  private queue: Uint8Array[] = [];
  private queued = 0;
  private bytesPerSecond = Number.POSITIVE_INFINITY;
  private credit = 0;
  private lastTick = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private drainWaiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly deliver: (bytes: Uint8Array) => void) {}

  /** `undefined` or 0 = unthrottled. */
  setBaud(baud: number | undefined): void {
    this.bytesPerSecond = baud && baud > 0 ? baud / BITS_PER_BYTE_8N1 : Number.POSITIVE_INFINITY;
  }

  get pendingBytes(): number {
    return this.queued;
  }

  push(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return;
    if (this.queued === 0) {
      this.lastTick = performance.now();
      this.credit = 0;
    }
    this.queue.push(bytes);
    this.queued += bytes.length;
    this.schedule();
  }

  /** Drop everything not yet delivered (a reset empties the UART FIFOs). */
  clear(): void {
    this.queue = [];
    this.queued = 0;
    this.cancelTimers();
    this.notifyDrained();
  }

  /** Runs `fn` once every byte queued so far has been delivered. */
  afterDrain(fn: () => void): void {
    if (this.queued === 0) fn();
    else this.drainWaiters.push(fn);
  }

  close(): void {
    this.closed = true;
    this.clear();
  }

  private schedule(): void {
    if (this.timer || this.immediate || this.queued === 0) return;
    if (!Number.isFinite(this.bytesPerSecond)) {
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.flushAll();
      });
      return;
    }
    const needMs = Math.max(MIN_TICK_MS, ((1 - this.credit) / this.bytesPerSecond) * 1000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick();
    }, needMs);
  }

  private flushAll(): void {
    while (this.queue.length > 0) {
      const chunks = this.queue;
      this.queue = [];
      this.queued = 0;
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      this.deliver(all);
    }
    this.notifyDrained();
  }

  private tick(): void {
    if (!Number.isFinite(this.bytesPerSecond)) return this.flushAll();
    const now = performance.now();
    const maxCredit = (this.bytesPerSecond * MAX_CREDIT_MS) / 1000 + 1;
    this.credit = Math.min(this.credit + ((now - this.lastTick) * this.bytesPerSecond) / 1000, maxCredit + this.queued);
    this.lastTick = now;
    let budget = Math.floor(this.credit);
    const parts: Uint8Array[] = [];
    while (budget > 0 && this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.length <= budget) {
        parts.push(head);
        this.queue.shift();
        budget -= head.length;
        this.credit -= head.length;
        this.queued -= head.length;
      } else {
        parts.push(head.subarray(0, budget));
        this.queue[0] = head.subarray(budget);
        this.credit -= budget;
        this.queued -= budget;
        budget = 0;
      }
    }
    this.credit = Math.min(this.credit, maxCredit);
    if (parts.length > 0) this.deliver(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    if (this.queued === 0) this.notifyDrained();
    else this.schedule();
  }

  private notifyDrained(): void {
    if (this.queued !== 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const fn of waiters) fn();
  }

  private cancelTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}
