import type { SyncStatus } from '../../common/api.js';
import { StationError, toErrorData, type StationErrorData } from '../../common/errors.js';
import type { DeviceRecord, PushResult, TokenVoid } from '../cloud/cloud-client.js';
import type { TokenQueue, TokenVoidPayload } from '../queue/token-queue.js';
import { backoffDelayMs } from './backoff.js';
import { systemClock, type SyncClock } from './sync-clock.js';

/** Records per push (the cloud takes up to 1000; smaller pushes keep each retry cheap). */
export const SYNC_BATCH_SIZE = 100;
/** A healthy station syncs this often (ms); new records also wait at most this long. */
export const SYNC_INTERVAL_MS = 30_000;
/** Pushes per run before the loop yields (the rest go in the next run, scheduled at once). */
export const SYNC_BATCHES_PER_RUN_MAX = 20;

/** What the sync engine needs of a cloud: both pushes are idempotent on the server. */
export interface SyncCloud {
  pushDeviceRecords(records: readonly DeviceRecord[]): Promise<PushResult>;
  pushTokenVoids(voids: readonly TokenVoid[]): Promise<PushResult>;
}

export interface SyncEngineDeps {
  queue: TokenQueue;
  cloud: SyncCloud;
  stationId: string;
  /** Tops the token queue up when it runs low (ensureStock); resolves with tokens imported. */
  topUp?: () => Promise<number>;
  /** True when fewer tokens are left than the low-water mark. */
  lowStock?: () => boolean;
  clock?: SyncClock;
  random?: () => number;
  batchSize?: number;
  intervalMs?: number;
  log?: (line: string) => void;
}

type OutboxRow = ReturnType<TokenQueue['pendingOutbox']>[number];

/**
 * Pushes the outbox to the cloud, at least once: a row is marked sent only after the cloud
 * acknowledged it (a duplicate counts as acknowledged: the server is idempotent by record id), so a
 * reply lost on the way back means the row goes again. Failures are data (status.lastError) and
 * never reach the station engine: the line keeps flashing from its local queue. After a failure the
 * next run waits with exponential backoff and jitter; a healthy station syncs every SYNC_INTERVAL_MS.
 * Runs never overlap: "sync now" during a run waits for it and runs once more.
 */
export class SyncEngine {
  private readonly clock: SyncClock;
  private readonly random: () => number;
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private readonly listeners = new Set<(status: SyncStatus) => void>();
  private running = false;
  private cancelTimer: (() => void) | null = null;
  private inFlight: Promise<void> | null = null;
  private phase: SyncStatus['state'] = 'stopped';
  private failures = 0;
  private lastSuccessAt: number | null = null;
  private lastAttemptAt: number | null = null;
  private lastError: StationErrorData | null = null;
  private nextAttemptAt: number | null = null;
  private lastEmitted = '';

  constructor(private readonly deps: SyncEngineDeps) {
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? Math.random;
    this.batchSize = deps.batchSize ?? SYNC_BATCH_SIZE;
    this.intervalMs = deps.intervalMs ?? SYNC_INTERVAL_MS;
  }

  /** Starts the periodic loop; the first run is immediate. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.phase = 'idle';
    this.schedule(0);
  }

  /** Stops the loop and waits for a run in flight (its results are kept). */
  async stop(): Promise<void> {
    this.running = false;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.nextAttemptAt = null;
    await this.inFlight;
    this.phase = 'stopped';
    this.emit();
  }

  /** One run now (after the one in flight, if any). Never throws: the outcome is in the status. */
  async syncNow(): Promise<SyncStatus> {
    if (this.inFlight) await this.inFlight;
    await this.runOnce();
    return this.status();
  }

  /** Call after the outbox or the stock changed, so listeners see the new counts. */
  refresh(): void {
    this.emit();
  }

  onStatus(listener: (status: SyncStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): SyncStatus {
    const counts = this.deps.queue.outboxCounts();
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      state: this.phase,
      waiting: counts.waiting,
      held: counts.held,
      lastSuccessAt: iso(this.lastSuccessAt),
      lastAttemptAt: iso(this.lastAttemptAt),
      lastError: this.lastError,
      nextAttemptAt: iso(this.nextAttemptAt),
      consecutiveFailures: this.failures,
      lowStock: this.deps.lowStock?.() ?? false,
    };
  }

  private schedule(delayMs: number): void {
    this.cancelTimer?.();
    if (!this.running) {
      this.cancelTimer = null;
      this.nextAttemptAt = null;
      return;
    }
    this.nextAttemptAt = this.clock.now() + delayMs;
    this.cancelTimer = this.clock.setTimer(() => {
      this.cancelTimer = null;
      void this.runOnce();
    }, delayMs);
  }

  private runOnce(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const run = this.run().finally(() => {
      this.inFlight = null;
    });
    this.inFlight = run;
    return run;
  }

  private async run(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.lastAttemptAt = this.clock.now();
    this.nextAttemptAt = null;
    this.phase = 'syncing';
    this.emit();
    let more = false;
    try {
      more = await this.pushOutbox();
      if (!more && this.deps.topUp) {
        const imported = await this.deps.topUp();
        if (imported > 0) this.deps.log?.(`sync: topped up the queue with ${imported} tokens`);
      }
      this.failures = 0;
      this.lastError = null;
      this.lastSuccessAt = this.clock.now();
      this.phase = this.running ? 'idle' : 'stopped';
      this.schedule(more ? 0 : this.intervalMs);
    } catch (err) {
      this.failures++;
      this.lastError = toErrorData(err);
      if (!(err instanceof StationError)) this.deps.log?.(`sync: unexpected error: ${String(err)}`);
      const delay = backoffDelayMs(this.failures, this.random);
      this.deps.log?.(`sync: ${this.lastError.code}; retry ${this.failures} in ${Math.round(delay / 1000)} s`);
      this.phase = this.running ? 'backing-off' : 'stopped';
      this.schedule(delay);
    }
    this.emit();
  }

  /** Pushes pending rows in batches. Returns true when rows are left over for an immediate next run. */
  private async pushOutbox(): Promise<boolean> {
    for (let n = 0; n < SYNC_BATCHES_PER_RUN_MAX; n++) {
      const rows = this.deps.queue.pendingOutbox(this.batchSize);
      if (rows.length === 0) return false;
      await this.pushRows(rows);
      this.emit();
    }
    return this.deps.queue.pendingOutbox(1).length > 0;
  }

  /**
   * One batch. CLOUD_UNREACHABLE (network, timeout, 5xx) propagates: the whole run backs off. A
   * refusal (CLOUD_REJECTED) of a batch is narrowed down row by row, so one bad record is held
   * for a supervisor and does not block every record behind it.
   */
  private async pushRows(rows: OutboxRow[]): Promise<void> {
    const byKind = new Map<string, OutboxRow[]>();
    for (const row of rows) byKind.set(row.kind, [...(byKind.get(row.kind) ?? []), row]);
    for (const [kind, group] of byKind) {
      try {
        await this.pushGroup(kind, group);
        this.deps.queue.markOutboxSent(group.map((r) => r.id));
      } catch (err) {
        const error = toErrorData(err);
        if (error.code !== 'CLOUD_REJECTED') {
          this.deps.queue.recordOutboxFailure(group.map((r) => r.id), error.message);
          throw err;
        }
        if (group.length === 1) {
          const row = group[0] as OutboxRow;
          this.deps.queue.holdOutbox(row.id, error.message);
          this.deps.log?.(`sync: the cloud refused outbox record ${row.recordId}; held for a supervisor`);
          continue;
        }
        for (const row of group) await this.pushRows([row]);
      }
    }
  }

  private async pushGroup(kind: string, rows: OutboxRow[]): Promise<void> {
    switch (kind) {
      case 'device-record':
        await this.deps.cloud.pushDeviceRecords(rows.map((r) => r.payload as DeviceRecord));
        return;
      case 'token-void':
        await this.deps.cloud.pushTokenVoids(
          rows.map((r) => {
            const v = r.payload as TokenVoidPayload;
            return { qrToken: v.qrToken, reason: v.reason, voidedAt: v.voidedAt, stationId: this.deps.stationId };
          }),
        );
        return;
      default:
        throw new StationError({ code: 'CLOUD_REJECTED', message: `The station does not know how to send outbox records of kind "${kind}".`, operatorFault: false });
    }
  }

  private emit(): void {
    const status = this.status();
    // Only changes go out (the header re-renders on each event).
    const key = JSON.stringify(status);
    if (key === this.lastEmitted) return;
    this.lastEmitted = key;
    for (const listener of this.listeners) {
      try {
        listener(status);
      } catch (err) {
        this.deps.log?.(`sync: status listener failed: ${String(err)}`);
      }
    }
  }
}
