import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { CommandArgs, CommandName, CommandResult, StationApi, StationEvent } from '../common/api.js';
import { startCloudServer, type CloudServer } from '../cloud/server.js';
import { FlashlineCloudClient } from '../core/cloud/cloud-client.js';
import { defaultDataDir, ensureDir } from '../core/app/data-dir.js';
import { loadOrCreateCredentials, type EmbeddedCloudCredentials } from '../core/app/station-secrets.js';
import { StationService } from '../core/app/station-service.js';
import { openStationDatabase, type StationDatabase } from '../core/db/open-database.js';
import { DEMO_PRODUCT, type ProductConfig } from '../core/product/product.js';
import type { ProductionControl } from '../core/settings/production-control.js';
import { TokenQueue } from '../core/queue/token-queue.js';
import { CupsPrinter } from '../core/printing/cups-printer.js';
import { FolderPrinter } from '../core/printing/folder-printer.js';
import { SpooledPrinter } from '../core/printing/spooled-printer.js';
import { stationKeyBeside, type StationKeySource } from '../core/secrets/station-key.js';
import { SupervisorAuth } from '../core/supervisor/supervisor-auth.js';
import { SupervisorTools } from '../core/supervisor/supervisor-tools.js';
import { SyncEngine } from '../core/sync/sync-engine.js';
import { TokenPuller } from '../core/sync/token-puller.js';
import { QaService } from '../core/qa/qa-service.js';
import { cloudCheckForLine } from '../core/qa/cloud-check.js';
import { dynamicLineWiring, dynamicProductRefusal, dynamicQaWiring, virtualBoardCloud } from './qa-wiring.js';
import { TestRunStore } from '../core/qa/test-run-store.js';
import { LabelQueue } from '../core/station/label-queue.js';
import { StationEngine } from '../core/station/station-engine.js';
import { flashBoard } from '../native/flash/esptool-flasher.js';
import { probeBoard } from '../native/flash/probe-board.js';
import { findNvsString } from '../native/nvs/nvs-reader.js';
import { runSelfTest } from '../native/selftest/self-test-runner.js';
import { VirtualRack, type VirtualRackTransport } from '../native/sim/virtual-rack.js';
import { RemoteRack, boardHostCloud } from '../native/sim/board-host-client.js';
import { BoardTable } from '../native/usb/board-table.js';
import type { BoardWatcher } from '../native/usb/board-watcher.js';
import { UsbWatcher, type UsbHotplug } from '../native/usb/usb-watcher.js';
import { SerialPort } from 'serialport';
import { openProductLine } from './product-line.js';

export interface EmbeddedStationOptions {
  dataDir?: string;
  /** Fixture positions shown (1–8). */
  slots?: number;
  /** Virtual boards plugged in at start. */
  virtualBoards?: number;
  /** `virtual` (default): simulated boards; `usb`: real boards on USB serial bridges. */
  hardware?: 'virtual' | 'usb';
  /** `pty`: boards on pseudo-terminals, flashed through the real serialport path (Linux, macOS). */
  boardTransport?: VirtualRackTransport;
  /** Make virtual boards' serial links take real UART time. */
  throttleBoards?: boolean;
  /**
   * Control socket of a board host (native/sim/board-host.ts): the boards live in that process, on
   * pseudo-terminals, and outlive this station (benches, crash harness). Replaces the virtual rack.
   */
  boardHost?: string;
  /** Provision each fresh board as soon as it is plugged and checked. */
  autoRun?: boolean;
  /** Product manifest in resources/products/ (default: the demo thermostat). */
  productId?: string;
  /** `full`: write bootloader, partition table and app too (skipping what already matches). */
  plan?: 'token-only' | 'full';
  /** CUPS printer for label sheets; without one, sheets are saved as PDFs in the data folder. */
  printer?: string;
  /** Tokens to pull when the queue runs low. */
  batchSize?: number;
  /** Set the supervisor PIN (replacing the one made at first start). */
  supervisorPin?: string;
  /** Where the station's cloud client connects (default: the embedded cloud); e.g. a proxy in tests. */
  cloudUrl?: string;
  /** Sync loop period when healthy (ms); default SYNC_INTERVAL_MS. */
  syncIntervalMs?: number;
  /** The station key from elsewhere (Electron: safeStorage, handed over by the main process); default the 0600 file. */
  keySource?: StationKeySource;
  /** The embedded cloud's client credentials from elsewhere (Electron: safeStorage); default the 0600 file. */
  cloudCredentials?: EmbeddedCloudCredentials;
  log?: (line: string) => void;
}

export interface EmbeddedStation extends StationApi {
  readonly dataDir: string;
  readonly service: StationService;
  readonly queue: TokenQueue;
  readonly rack: VirtualRack;
  readonly labels: LabelQueue;
  /** The product the line builds now (a live view: it follows a switch in Settings). */
  readonly product: ProductConfig;
  readonly production: ProductionControl;
  readonly db: StationDatabase;
  readonly cloud: CloudServer;
  readonly sync: SyncEngine;
  /** The supervisor PIN made at this first start, to be shown once; null on later starts. */
  readonly initialSupervisorPin: string | null;
  close(): Promise<void>;
}

const STATION_ID_KEY = 'station_id';

/**
 * The embedded default: local SQLite in the user-data folder, the local cloud service in-process on
 * 127.0.0.1, the demo product with a batch pulled from that cloud, and virtual boards plugged in.
 * The composition root shared by the CLI and the Electron main process.
 */
export async function startEmbeddedStation(options: EmbeddedStationOptions = {}): Promise<EmbeddedStation> {
  const log = options.log ?? (() => undefined);
  const dataDir = ensureDir(options.dataDir ?? defaultDataDir());
  const credentials = options.cloudCredentials ?? loadOrCreateCredentials(join(dataDir, 'cloud-credentials.json'));
  const cloud = await startCloudServer({ dbPath: join(dataDir, 'cloud.db'), seed: credentials, log: (line) => log(`cloud: ${line}`) });
  const dbPath = join(dataDir, 'station.db');
  // AuthTokens are sealed at rest with the station key (a 0600 file beside the database).
  const db = openStationDatabase(dbPath, { keySource: options.keySource ?? stationKeyBeside(dbPath) });
  const closers: (() => Promise<void> | void)[] = [() => cloud.close(), () => void db.close()];
  try {
    const stationId = stationIdOf(db);
    const queue = new TokenQueue(db);
    // The product comes from its manifest (firmware parts, partition table, payload schema): the
    // one chosen in Settings (settings table), else `productId` (default: the demo). `product` is a
    // live view: a supervisor's switch (app/product-line.ts) reaches everything that holds it.
    const slotCount = options.slots ?? 2;
    const productLine = openProductLine({
      db,
      queue,
      dataDir,
      defaultProductId: options.productId ?? DEMO_PRODUCT.id,
      plan: options.plan ?? 'token-only',
      templateId: String(cloud.seed.templateId),
      orgId: cloud.seed.orgId,
      autoRunDefault: options.autoRun ?? false,
      slotCount,
      log,
    });
    const { line, production } = productLine;
    const product = line.product;
    const client = new FlashlineCloudClient({ baseUrl: options.cloudUrl ?? cloud.url, clientId: credentials.clientId, clientSecret: credentials.clientSecret });
    const puller = new TokenPuller({ db, queue, client, product, stationId, batchSize: options.batchSize ?? 100, log });
    // The first stock comes before the line starts; when the cloud is out of reach the station
    // starts anyway with what it has, and the sync loop keeps trying.
    // A dynamic-token product on the line uses no static tokens: nothing is pulled for it (read at
    // each pull: a supervisor may switch products).
    const tokensNeeded = (): boolean => product.tokenKind !== 'dynamic';
    if (tokensNeeded()) await puller.topUp().catch((err: unknown) => log(`initial token pull failed: ${String(err)}`));
    const sync = new SyncEngine({
      queue,
      cloud: client,
      stationId,
      topUp: () => (tokensNeeded() ? puller.topUp() : Promise.resolve(0)),
      lowStock: () => tokensNeeded() && puller.lowStock(),
      ...(options.syncIntervalMs ? { intervalMs: options.syncIntervalMs } : {}),
      log,
    });
    closers.unshift(() => sync.stop());
    const supervisor = new SupervisorAuth(db);
    const initialSupervisorPin = supervisor.ensurePin(options.supervisorPin);

    // Virtual boards reach the embedded cloud like devices do (connect with their token: cloud check, dynamic QA).
    const rack = new VirtualRack({ transport: options.boardTransport ?? 'pty', throttle: options.throttleBoards ?? false, board: virtualBoardCloud(cloud.url), log });
    closers.unshift(() => rack.close());
    const remote = options.hardware !== 'usb' && options.boardHost ? await RemoteRack.connect(options.boardHost, log, boardHostCloud(virtualBoardCloud(cloud.url))) : null;
    if (remote) closers.unshift(() => remote.close());
    const watcher: BoardWatcher = options.hardware === 'usb' ? await startUsbWatcher(log) : (remote ?? rack);
    if (watcher instanceof UsbWatcher) closers.unshift(() => watcher.stop());
    const assignments = loadSlotAssignments(db);
    // Printing goes to a CUPS printer when one is named (spooled: a failed job keeps its sheet),
    // otherwise sheets are saved as PDFs into the data folder ("save as PDF").
    const printer = options.printer
      ? new SpooledPrinter(new CupsPrinter(options.printer), join(dataDir, 'print-spool'))
      : new FolderPrinter(join(dataDir, 'printed'));
    const labels = new LabelQueue(db, product, stationId, join(dataDir, 'labels'), printer, { autoPrintFullSheet: true, log });
    // Every self-test run is kept per board (QA reads them back; only a board that passed ships).
    const testRuns = new TestRunStore(db);
    // Dynamic QA (QA screen) and the dynamic line share one cloud step: one QA user lookup.
    const qaWiring = dynamicQaWiring(client, cloud.seed.orgId);
    const engine = new StationEngine({
      stationId,
      product,
      queue,
      watcher,
      slotAssignments: assignments,
      get autoRun() {
        return production.autoRun;
      },
      get lowStockThreshold() {
        return production.lowStockThreshold;
      },
      onSlotAssigned: (location, slotId) => saveSlotAssignment(db, location, slotId),
      labels,
      buildPayload: (token) => line.buildPayload(token),
      get firmwareRegions() {
        return line.firmwareRegions;
      },
      // Edgent keeps its token in NVS namespace `blynk`, string key `auth`.
      readToken: (nvs) => findNvsString(nvs, 'blynk', 'auth'),
      probe: probeBoard,
      flash: flashBoard,
      selfTest: runSelfTest,
      get testPlan() {
        return line.testPlan;
      },
      recordTestRun: (run) => testRuns.record({ ...run, kind: 'provision' }),
      // Manifest `flashline.cloudCheck` of the product on the line now (core/qa/cloud-check.ts).
      cloudCheck: cloudCheckForLine(() => line.current.loaded.manifest.flashline.cloudCheck, client),
      provisionRefusal: () => dynamicProductRefusal(line.current.loaded),
      // Dynamic-token products: firmware, dynamic QA, factory reset; no token, no label.
      dynamicLine: dynamicLineWiring({ cloud: qaWiring.dynamicCloud, plan: () => line.testPlan, testRuns, log }),
      slotCount,
      log,
    });
    closers.unshift(() => engine.dispose());
    productLine.bind({ slots: () => engine.slotViews(), printer: printer.name });
    const service = new StationService({
      name: `Station ${stationId}`,
      get productName() {
        return product.name;
      },
      orgId: product.orgId,
      batchId: () => production.headerBatchId(),
      production,
      engine,
      labels,
      queue,
      simulator: options.hardware === 'usb' || remote ? null : rack,
      sync,
      puller,
      supervisor,
      db,
      // Supervisor's CSV pull, batch download, cloud disclaim/delete, held records (issue 7).
      tools: new SupervisorTools({
        db,
        queue,
        puller,
        csvClient: client,
        lifecycle: client,
        templateId: () => Number(product.templateId),
        inUse: (tokenId) => engine.slotViews().some((slot) => 'token' in slot.state && slot.state.token?.id === tokenId && !['done', 'failed'].includes(slot.state.kind)),
        log,
      }),
      qa: new QaService({
        db,
        queue,
        testRuns,
        engine,
        selfTest: runSelfTest,
        get plan() {
          return line.testPlan;
        },
        // Dynamic-token products (testPlan.dynamic): Improv + provisioning token + `config erase`.
        ...qaWiring,
        log,
      }),
      log,
    });
    sync.start();
    if (options.hardware !== 'usb' && !remote) {
      for (let i = 1; i <= Math.min(options.virtualBoards ?? 2, slotCount); i++) await rack.plug(`slot-${i}`);
    }

    return {
      dataDir,
      service,
      queue,
      rack,
      labels,
      product,
      production,
      db,
      cloud,
      sync,
      initialSupervisorPin,
      call: <N extends CommandName>(name: N, args: CommandArgs<N>): Promise<CommandResult<N>> => service.call(name, args),
      subscribe: (listener: (event: StationEvent) => void) => service.subscribe(listener),
      close: async () => {
        for (const close of closers) await close();
      },
    };
  } catch (err) {
    for (const close of closers) await Promise.resolve(close()).catch(() => undefined);
    throw err;
  }
}

/** Real boards: USB hotplug (libusb, when it can be opened) joined with serialport's port list. */
async function startUsbWatcher(log: (line: string) => void): Promise<UsbWatcher> {
  let hotplug: UsbHotplug | null = null;
  try {
    hotplug = (await import('usb')).usb as unknown as UsbHotplug;
  } catch (err) {
    log(`usb hotplug unavailable (${String(err)}): polling the serial port list instead`);
  }
  const watcher = new UsbWatcher({ table: BoardTable.load(), listPorts: () => SerialPort.list(), hotplug, log });
  await watcher.start();
  return watcher;
}

const SLOT_ASSIGNMENT_PREFIX = 'slot_for_port:';

function loadSlotAssignments(db: StationDatabase): Record<string, string> {
  const rows = db.prepare('SELECT key, value FROM settings WHERE key LIKE ?').all(`${SLOT_ASSIGNMENT_PREFIX}%`) as { key: string; value: string }[];
  return Object.fromEntries(rows.map((r) => [r.key.slice(SLOT_ASSIGNMENT_PREFIX.length), r.value]));
}

function saveSlotAssignment(db: StationDatabase, location: string, slotId: string): void {
  db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run(`${SLOT_ASSIGNMENT_PREFIX}${location}`, slotId);
}

function stationIdOf(db: StationDatabase): string {
  const row = db.prepare('SELECT value FROM settings WHERE key = ?').get(STATION_ID_KEY) as { value: string } | undefined;
  if (row) return row.value;
  const id = `ST${randomUUID().slice(0, 4).toUpperCase()}`;
  db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run(STATION_ID_KEY, id);
  return id;
}
