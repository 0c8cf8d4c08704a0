import type { CommandArgs, CommandName, CommandResult, StationApi, StationEvent, StationSnapshot } from '../../common/api.js';
import { COMMAND_ARG_SCHEMAS } from '../../common/command-schemas.js';
import { stationError } from '../../common/errors.js';
import type { TokenQueue } from '../queue/token-queue.js';
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
  }

  snapshot(): StationSnapshot {
    return {
      station: {
        name: this.deps.name,
        productName: this.deps.productName,
        orgId: this.deps.orgId,
        batchId: this.deps.batchId(),
        simulator: this.deps.simulator !== null,
      },
      slots: this.deps.engine.slotViews(),
      stock: this.deps.engine.stock(),
      sheet: this.deps.labels.currentSheet(),
    };
  }

  async call<N extends CommandName>(name: N, args: CommandArgs<N>): Promise<CommandResult<N>> {
    const parsed = COMMAND_ARG_SCHEMAS[name].safeParse(args);
    if (!parsed.success) {
      throw stationError('INVALID_INPUT', `Bad arguments for ${name}: ${parsed.error.issues[0]?.message ?? 'invalid'}.`);
    }
    const result = await this.dispatch(name, args);
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
    }
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
