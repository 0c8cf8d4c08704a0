import { readlinkSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { BoardInfo } from '../../common/board.js';
import { SerialportAdapter } from '../serial/serialport-adapter.js';
import type { BoardTable, BoardTableEntry } from './board-table.js';
import { BoardWatcherBase, type AttachedBoard } from './board-watcher.js';

/** What serialport's `SerialPort.list()` reports (the fields we use). */
export interface ListedPort {
  path: string;
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
  locationId?: string;
  pnpId?: string;
}

/** The `usb` package's hotplug events (usb 2.x: `usb.on('attach' | 'detach', device)`). */
export interface UsbHotplug {
  on(event: 'attach' | 'detach', listener: (device: unknown) => void): unknown;
  removeListener(event: 'attach' | 'detach', listener: (device: unknown) => void): unknown;
}

export interface UsbWatcherDeps {
  table: BoardTable;
  listPorts: () => Promise<ListedPort[]>;
  /** Hotplug events; without them (no libusb) the watcher polls. */
  hotplug?: UsbHotplug | null;
  /** Physical USB port path of a tty ("1-1.2"), stable across re-plugs; production: sysfs on Linux. */
  locate?: (port: ListedPort) => string;
  log?: (line: string) => void;
}

/** The tty node appears a little after the USB device: rescan after each of these delays. */
const RESCAN_DELAYS_MS = [300, 1_000, 2_500] as const;
/** Without hotplug events (no libusb permission), poll the port list this often. */
const POLL_INTERVAL_MS = 1_000;
/**
 * A native-USB board (USB-Serial-JTAG, TinyUSB CDC) drops off the bus and comes back when it is
 * reset, possibly under a new tty name. A board gone for less than this from a port whose bridge
 * re-enumerates is the same board, followed, not a new one.
 */
export const REENUMERATION_GRACE_MS = 3_000;

/** Linux: /sys/class/tty/ttyUSB0/device -> …/1-1.2/1-1.2:1.0 -> "1-1.2" (bus-port.port…). */
export function sysfsLocation(port: ListedPort): string {
  try {
    const link = resolve('/sys/class/tty', basename(port.path), readlinkSync(`/sys/class/tty/${basename(port.path)}/device`));
    const segments = link.split('/');
    for (let i = segments.length - 1; i >= 0; i--) {
      const segment = segments[i] ?? '';
      if (/^\d+-[\d.]+$/.test(segment)) return segment;
    }
  } catch {
    // not Linux, or not a USB tty
  }
  return port.locationId ?? port.pnpId ?? port.path;
}

interface Known {
  board: AttachedBoard;
  entry: BoardTableEntry;
  /** Set while the port is gone but may come back (re-enumeration). */
  goneTimer: ReturnType<typeof setTimeout> | null;
}

/**
 * Boards on USB: hotplug events from the `usb` package joined with serialport's port list. Only
 * ports whose VID:PID is in the board table count. Each board is keyed by its physical port path
 * (its fixture position), so the station maps it to the same slot every time.
 */
export class UsbWatcher extends BoardWatcherBase {
  private readonly known = new Map<string, Known>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private poller: ReturnType<typeof setInterval> | null = null;
  private scanning: Promise<void> = Promise.resolve();
  private readonly onHotplug = (): void => this.scheduleRescans();

  constructor(private readonly deps: UsbWatcherDeps) {
    super();
  }

  async start(): Promise<void> {
    if (this.deps.hotplug) {
      this.deps.hotplug.on('attach', this.onHotplug);
      this.deps.hotplug.on('detach', this.onHotplug);
    } else {
      this.poller = setInterval(() => void this.rescan(), POLL_INTERVAL_MS);
    }
    await this.rescan();
  }

  stop(): void {
    this.deps.hotplug?.removeListener('attach', this.onHotplug);
    this.deps.hotplug?.removeListener('detach', this.onHotplug);
    if (this.poller) clearInterval(this.poller);
    for (const t of this.timers) clearTimeout(t);
    for (const k of this.known.values()) if (k.goneTimer) clearTimeout(k.goneTimer);
  }


  attached(): AttachedBoard[] {
    return [...this.known.values()].filter((k) => !k.goneTimer).map((k) => k.board);
  }

  /** Diff the port list against what we know; serialised so two scans never interleave. */
  rescan(): Promise<void> {
    this.scanning = this.scanning.then(() => this.scanOnce()).catch((err: unknown) => this.deps.log?.(`usb: port scan failed: ${String(err)}`));
    return this.scanning;
  }

  private scheduleRescans(): void {
    for (const delay of RESCAN_DELAYS_MS) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.rescan();
      }, delay);
      this.timers.add(timer);
    }
  }

  private async scanOnce(): Promise<void> {
    const locate = this.deps.locate ?? sysfsLocation;
    const present = new Map<string, { port: ListedPort; entry: BoardTableEntry }>();
    for (const port of await this.deps.listPorts()) {
      const entry = this.deps.table.lookup(port.vendorId, port.productId);
      if (entry) present.set(locate(port), { port, entry });
    }
    for (const [location, { port, entry }] of present) {
      const known = this.known.get(location);
      if (known && known.board.info.port === port.path && !known.goneTimer) continue;
      if (known?.goneTimer) {
        clearTimeout(known.goneTimer);
        this.deps.log?.(`usb: board at ${location} re-enumerated as ${port.path}`);
      }
      const board = this.boardFor(location, port, entry);
      this.known.set(location, { board, entry, goneTimer: null });
      this.emitAttach(board);
    }
    for (const [location, known] of this.known) {
      if (present.has(location) || known.goneTimer) continue;
      if (known.entry.reenumeratesOnReset) {
        known.goneTimer = setTimeout(() => this.forget(location), REENUMERATION_GRACE_MS);
      } else {
        this.forget(location);
      }
    }
  }

  private forget(location: string): void {
    this.known.delete(location);
    this.emitDetach(location);
  }

  private boardFor(location: string, port: ListedPort, entry: BoardTableEntry): AttachedBoard {
    const usbVendorId = parseInt(entry.vendorId, 16);
    const usbProductId = parseInt(entry.productId, 16);
    const info: BoardInfo = { port: port.path, transport: 'usb', usbVendorId, usbProductId };
    return { info, location, openPort: () => new SerialportAdapter({ path: port.path, usbVendorId, usbProductId }) };
  }
}
