import { SUPERVISOR_COMMANDS, type CommandArgs, type CommandName, type CommandResult, type StationApi, type StationEvent, type StationSnapshot } from '../../common/api.js';
import { COMMAND_ARG_SCHEMAS } from '../../common/command-schemas.js';
import { stationError } from '../../common/errors.js';
import type { StationDatabase } from '../db/open-database.js';
import type { QaService } from '../qa/qa-service.js';
import type { ProductionControl } from '../settings/production-control.js';
import type { TokenQueue } from '../queue/token-queue.js';
import { deviceRecordsCsv } from '../reports/device-records-csv.js';
import { productionReports } from '../reports/production-reports.js';
import type { SupervisorAuth } from '../supervisor/supervisor-auth.js';
import type { SupervisorTools } from '../supervisor/supervisor-tools.js';
import type { SyncEngine } from '../sync/sync-engine.js';
import type { TokenPuller } from '../sync/token-puller.js';
import type { LabelQueue } from '../station/label-queue.js';
import type { StationEngine } from '../station/station-engine.js';

/** Plugging virtual boards in and out: only present when the station runs on its simulator. */
export interface VirtualBoardControl {
  plug(slotId: string): Promise<{ port: string }>;
  unplug(slotId: string): Promise<void>;
}

export interface StationServiceDeps {
  name: string;
  productName: string;
  orgId: number;
  batchId: () => string | null;
  engine: StationEngine;
  labels: LabelQueue;
  queue: TokenQueue;
  simulator: VirtualBoardControl | null;
  /** Sync and supervisor features (issue 7); absent in stations built without a cloud. */
  sync?: SyncEngine;
  puller?: TokenPuller;
  supervisor?: SupervisorAuth;
  /** CSV pull, batch zip download, cloud disclaim/delete, held records (core/supervisor/). */
  tools?: SupervisorTools;
  db?: StationDatabase;
  /** QA mode (issue 4): board history, re-test, ship. */
  qa?: QaService;
  /** Settings (issue 7/8): product + batch choice, line switches; changes need a supervisor. */
  production?: ProductionControl;
  log?: (line: string) => void;
}

/**
 * The station API (common/api.ts) over the core: what the Electron IPC bridge and the browser-mode
 * WebSocket both expose. Arguments are validated here too, so no transport can skip the check.
 */
export class StationService implements StationApi {
  private readonly listeners = new Set<(event: StationEvent) => void>();

  constructor(private readonly deps: StationServiceDeps) {
    deps.engine.on('slot', (slot) => this.emit({ type: 'slot', slot }));
    deps.engine.on('stock', (stock) => this.emit({ type: 'stock', stock }));
    deps.labels.onSheet((sheet) => this.emit({ type: 'sheet', sheet }));
    // A label or a burn adds an outbox row and changes the stock: the sync status follows.
    deps.engine.on('stock', () => deps.sync?.refresh());
    deps.sync?.onStatus((sync) => this.emit({ type: 'sync', sync }));
  }

  snapshot(): StationSnapshot {
    return {
      station: {
        name: this.deps.name,
        productName: this.deps.productName,
        orgId: this.deps.orgId,
        batchId: this.deps.batchId(),
        simulator: this.deps.simulator !== null,
        ...(this.deps.production ? this.deps.production.stationInfo() : {}),
      },
      slots: this.deps.engine.slotViews(),
      stock: this.deps.engine.stock(),
      sheet: this.deps.labels.currentSheet(),
      ...(this.deps.sync ? { sync: this.deps.sync.status() } : {}),
    };
  }

  async call<N extends CommandName>(name: N, args: CommandArgs<N>): Promise<CommandResult<N>> {
    const parsed = COMMAND_ARG_SCHEMAS[name].safeParse(args);
    if (!parsed.success) {
      throw stationError('INVALID_INPUT', `Bad arguments for ${name}: ${parsed.error.issues[0]?.message ?? 'invalid'}.`);
    }
    if (SUPERVISOR_COMMANDS.includes(name)) this.requireSupervisor().require((args as { session?: string }).session);
    const result = await this.dispatch(name, parsed.data);
    return result as CommandResult<N>;
  }

  subscribe(listener: (event: StationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async dispatch(name: CommandName, args: unknown): Promise<unknown> {
    const slotId = (args as { slotId?: string }).slotId ?? '';
    switch (name) {
      case 'getSnapshot':
        return this.snapshot();
      case 'runSlot': {
        // The run goes on after the reply; its progress and outcome arrive as slot events.
        const run = this.deps.engine.runSlot(slotId);
        run.catch((err: unknown) => this.deps.log?.(`run of ${slotId} ended with ${String(err)}`));
        return { accepted: true };
      }
      case 'clearSlot':
        this.deps.engine.clearSlot(slotId);
        return { cleared: true };
      case 'printSheet':
        return this.deps.labels.printSheet({ reprint: (args as { reprint?: boolean }).reprint ?? false });
      case 'scanLabel': {
        const { payload, slotId: target } = args as { payload: string; slotId?: string };
        return this.deps.engine.scanLabel(payload, target);
      }
      case 'plugVirtualBoard':
        return this.requireSimulator().plug(slotId);
      case 'unplugVirtualBoard':
        await this.requireSimulator().unplug(slotId);
        return { unplugged: true };
      case 'getSyncStatus':
        return this.requireSync().status();
      case 'syncNow':
        return this.requireSync().syncNow();
      case 'supervisorLogin':
        return this.requireSupervisor().login((args as { pin: string }).pin);
      case 'supervisorLogout':
        this.requireSupervisor().logout((args as { session: string }).session);
        return { loggedOut: true };
      case 'pullBatch': {
        if (!this.deps.puller) throw stationError('INVALID_INPUT', 'This station has no cloud to pull tokens from.', true);
        const result = await this.deps.puller.pull((args as { count: number }).count);
        this.emit({ type: 'stock', stock: this.deps.engine.stock() });
        this.deps.sync?.refresh();
        return result;
      }
      case 'voidToken': {
        const { qrToken, reason } = args as { qrToken: string; reason: string };
        const token = this.deps.queue.findByQrToken(qrToken.split('+')[0] ?? qrToken);
        if (!token) throw stationError('NOT_FOUND', "That QR token is not in this station's queue.", true);
        if (token.state === 'voided') throw stationError('INVALID_INPUT', 'That token is already voided.', true);
        if (token.state === 'failed' || token.state === 'shipped') {
          throw stationError('ILLEGAL_TRANSITION', `That token is ${token.state === 'failed' ? 'burned' : 'shipped'}; it cannot be voided.`, true);
        }
        if (this.deps.engine.slotViews().some((slot) => 'token' in slot.state && slot.state.token?.id === token.id && !['done', 'failed'].includes(slot.state.kind))) {
          throw stationError('BUSY', 'That token is in a board being provisioned right now; wait until its slot finishes.', true);
        }
        this.deps.queue.void(token.id, reason);
        this.deps.log?.(`token #${token.id} voided by a supervisor`);
        this.emit({ type: 'stock', stock: this.deps.engine.stock() });
        this.deps.sync?.refresh();
        return { qrToken: token.qrToken, state: 'voided' };
      }
      case 'exportDeviceRecordsCsv': {
        const { csv, rows } = deviceRecordsCsv(this.requireDb());
        return { fileName: `device-records-${new Date().toISOString().slice(0, 10)}.csv`, csv, rows };
      }
      case 'getReports': {
        const hours = (args as { hours?: number }).hours;
        return productionReports(this.requireDb(), hours ? { hours } : {});
      }
      case 'previewCsvPull':
        return this.requireTools().previewCsvPull(args as CommandArgs<'previewCsvPull'>);
      case 'pullBatchCsv': {
        const result = await this.requireTools().pullBatchCsv(args as CommandArgs<'pullBatchCsv'>);
        this.emit({ type: 'stock', stock: this.deps.engine.stock() });
        this.deps.sync?.refresh();
        return result;
      }
      case 'exportBatchZip':
        return this.requireTools().exportBatchZip(args as CommandArgs<'exportBatchZip'>);
      case 'disclaimToken':
        return this.requireTools().disclaimToken(args as CommandArgs<'disclaimToken'>);
      case 'deleteCloudToken': {
        const result = await this.requireTools().deleteCloudToken(args as CommandArgs<'deleteCloudToken'>);
        this.emit({ type: 'stock', stock: this.deps.engine.stock() });
        this.deps.sync?.refresh();
        return result;
      }
      case 'listHeldRecords':
        return this.requireTools().listHeldRecords();
      case 'releaseHeldRecord': {
        const released = this.requireTools().releaseHeldRecord((args as { id: number }).id);
        // Send it now; the reply carries the outcome (held again when the cloud still refuses).
        return { released, sync: await this.requireSync().syncNow() };
      }
      case 'qaLookup':
        return this.requireQa().lookup((args as { code: string }).code);
      case 'qaRetest': {
        const result = await this.requireQa().retest(slotId);
        this.emit({ type: 'stock', stock: this.deps.engine.stock() });
        return result;
      }
      case 'qaDynamic':
        return this.requireQa().dynamic(slotId);
      case 'getSettings':
        return this.requireProduction().view();
      case 'chooseProduction': {
        const { productId, batchId, session } = args as { productId: string; batchId: string | null; session?: string };
        // With a session it is a supervisor's change; without, only the one-time first choice.
        if (session !== undefined) this.requireSupervisor().require(session);
        const view = this.requireProduction().choose({ productId, batchId }, session !== undefined);
        this.emit({ type: 'snapshot', snapshot: this.snapshot() });
        return view;
      }
      case 'updateSettings': {
        const { session: _session, ...change } = args as CommandArgs<'updateSettings'>;
        const view = this.requireProduction().update(change, 'supervisor');
        // Header (product, batch), stock (the product's tokens) and sounds follow at once.
        this.emit({ type: 'snapshot', snapshot: this.snapshot() });
        return view;
      }
      case 'shipToken': {
        const history = this.requireQa().ship((args as { code: string }).code);
        this.emit({ type: 'stock', stock: this.deps.engine.stock() });
        return history;
      }
    }
  }

  private requireProduction(): ProductionControl {
    if (!this.deps.production) throw stationError('INVALID_INPUT', 'Settings are not set up on this station.', true);
    return this.deps.production;
  }

  private requireTools(): SupervisorTools {
    if (!this.deps.tools) throw stationError('INVALID_INPUT', 'This station has no cloud for batch and token tools.', true);
    return this.deps.tools;
  }

  private requireQa(): QaService {
    if (!this.deps.qa) throw stationError('INVALID_INPUT', 'QA mode is not set up on this station.', true);
    return this.deps.qa;
  }

  private requireSync(): SyncEngine {
    if (!this.deps.sync) throw stationError('INVALID_INPUT', 'This station runs without a cloud sync.', true);
    return this.deps.sync;
  }

  private requireSupervisor(): SupervisorAuth {
    if (!this.deps.supervisor) throw stationError('UNAUTHORIZED', 'Supervisor actions are not set up on this station.', true);
    return this.deps.supervisor;
  }

  private requireDb(): StationDatabase {
    if (!this.deps.db) throw stationError('INVALID_INPUT', 'Reports are not available on this station.', true);
    return this.deps.db;
  }

  private requireSimulator(): VirtualBoardControl {
    if (!this.deps.simulator) throw stationError('INVALID_INPUT', 'Virtual boards exist only in simulator mode.', true);
    return this.deps.simulator;
  }

  private emit(event: StationEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.deps.log?.(`event listener failed: ${String(err)}`);
      }
    }
  }
}
