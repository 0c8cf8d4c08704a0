import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { AppBehaviour, StoredWifi } from './app-behaviour.js';
import { APP_CONSOLE_BAUD, BoardApp, type AppIdentityConfig, type AppState } from './board-app.js';
import { BoardLines, type LineEdge, type ModemLines, type PinLevels } from './board-lines.js';
import { BytePipe } from './byte-pipe.js';
import { chipProfile, parseMac, type ChipFamily, type ChipIdentity, type ChipProfile, type ResetCause } from './chip-profiles.js';
import { installFactoryFirmware } from './factory-image.js';
import { DEFAULT_FLASH_SIZE_BYTES, FlashMemory } from './flash-memory.js';
import { RegisterFile } from './register-file.js';
import { LoaderAborted, LoaderSession, type CorruptionPoint, type LoaderKind, type StubPolicy } from './rom-protocol.js';
import { SlipDecoder, slipEncode } from './slip.js';
import { loadStubImage, type StubImage } from './stub-image.js';
import { SyncWatch } from './sync-watch.js';
import { UsbJtagLines } from './usb-jtag-lines.js';

/**
 * A whole dev board in-process: ESP32, ESP32-S3, ESP32-C3 or ESP8266, on a USB-UART bridge with the
 * auto-reset circuit or (S3, C3) on the chip's own USB-Serial/JTAG port; the UART (at its real baud
 * rate when throttled), the ROM loader and flasher stub, NOR flash, and the application a normal
 * boot starts. It is the test peer for everything that flashes: the real esptool-js talks to it
 * through `createInProcessPort` or, over a pseudo-terminal, through the real `serialport` package
 * (`hostBoardOnPty`), and so can esptool.py (`flashline sim`, docs/simulator.md).
 */
export const ROM_BAUD = 115_200;
/** A receiver still decodes 8N1 frames when the two clocks differ by less than about 3 %. */
const BAUD_TOLERANCE = 0.03;
/**
 * USB full-speed bulk transfers top out near 1 MB/s; the USB-Serial/JTAG port ignores the baud
 * rate the host sets, so a throttled board on it moves bytes at this rate whatever the baud.
 */
const USB_FULL_SPEED_BYTES_PER_SECOND = 1_000_000;
/** A USB device that drops off the bus is back, re-enumerated, after about this long. */
export const USB_REENUMERATE_MS = 300;

/** USB ids the host sees: a CP2102 bridge by default, Espressif's USB-Serial/JTAG on S3/C3 boards. */
export const USB_IDS = {
  cp2102: { vendorId: 0x10c4, productId: 0xea60 },
  usbSerialJtag: { vendorId: 0x303a, productId: 0x1001 },
} as const;

/** How the host reaches the chip. */
export type BoardConnection = 'uart-bridge' | 'usb-serial-jtag';

export type BoardMode = 'off' | 'download' | 'app';

/**
 * Faults a test (or the demo) can switch on at any time with `setFaults`; counters start when set.
 */
export interface BoardFaults {
  /** Every Nth byte the host sends is lost before the chip sees it (noise, FIFO overrun). */
  dropEveryNthByte?: number;
  /**
   * Corrupt one FLASH_DATA / FLASH_DEFL_DATA block, chosen by sequence number (and opcode, if
   * given): on the `wire` (the 8-bit checksum catches it and the host retries) or in `flash` (after
   * the checksum, so only an MD5 read-back notices). `times` blocks are hit (default 1). The byte
   * flipped is `byteOffset` into the block's payload (for `flash`: into the bytes the block
   * decompresses to), default its middle.
   */
  corruptBlock?: { seq: number; point?: CorruptionPoint; op?: number; times?: number; byteOffset?: number };
  /** The USB cable is pulled once the host has sent this many more bytes: the board loses power. */
  unplugAfterBytes?: number;
  /** The supply dips once the host has sent this many more bytes: brown-out reset, boot from flash. */
  brownOutAfterBytes?: number;
  /** The board's TX is dead: it hears everything and answers nothing. */
  silent?: boolean;
  /** Noise on the board's TX: before each transmission, with `probability`, 1..`maxBytes` random bytes. */
  garbage?: { probability: number; maxBytes?: number };
}

export interface VirtualBoardOptions {
  chip?: ChipFamily;
  /**
   * `uart-bridge` (default): a USB-UART bridge with the two-transistor auto-reset circuit.
   * `usb-serial-jtag` (ESP32-S3, ESP32-C3): the chip's own USB port; no baud rate, its own reset logic.
   */
  connection?: BoardConnection;
  /** USB ids of the bridge (default a CP2102); ignored on USB-Serial/JTAG. */
  bridgeUsbIds?: { vendorId: number; productId: number };
  /**
   * USB-Serial/JTAG only: every chip reset also drops the USB device off the bus for
   * USB_REENUMERATE_MS ('usb-detach', then 'usb-attach'); open ports fail as on a real re-enumeration.
   * Off by default: a reset through the peripheral's own DTR/RTS keeps the port on real boards (that
   * is how esptool resets them); boards whose application takes over USB re-enumerate on every reset.
   */
  reenumerateOnReset?: boolean;
  /**
   * GPIO0 (the strapping pin) held low at power-on, like a BOOT button held or a jumper: the chip
   * starts in its ROM download mode instead of the application.
   */
  strapDownload?: boolean;
  /**
   * A SYNC request from the host puts the chip back into its ROM loader (silently, at the host's
   * baud rate) unless the ROM already listens at that rate: what a client that cannot reset the
   * board (a pseudo-terminal carries no DTR/RTS) needs in order to start from the ROM every time.
   */
  syncResetsToRom?: boolean;
  /** Which MEM_END images the ROM runs as the flasher stub (default `known`: esptool-js's). */
  stubPolicy?: StubPolicy;
  /** `aa:bb:cc:dd:ee:ff`; default: the chip's Espressif OUI + 3 random (or seeded) bytes. */
  mac?: string;
  flashSizeBytes?: number;
  /** Version in the factory app image's `esp_app_desc_t` (what the self-test "fw" check reports). */
  firmwareVersion?: string;
  /** Preload bootloader, partition table and app, as a module pre-flashed at its factory (default true). */
  factoryFirmware?: boolean;
  /** Move bytes no faster than the current baud rate in both directions (default false). */
  throttle?: boolean;
  faults?: BoardFaults;
  /** Seed for generated MAC, noise and garbling, for reproducible runs. */
  seed?: number;
  /** What the application reports in `devinfo`. */
  app?: Partial<Omit<AppIdentityConfig, 'firmwareVersion'>>;
  /** What the application's self-test reports (heap, networks, peripherals) and its failure mode. */
  appBehaviour?: Partial<AppBehaviour>;
  /** The cloud the application connects to with its token (device side); absent: no cloud. */
  cloudUrl?: string;
  /** JEDEC ID bytes of the flash chip (capacity comes from the flash size). Default GigaDevice. */
  jedec?: { manufacturer: number; memoryType: number };
  /** Powered from the start (default true): boots the application, as when just plugged in. */
  powered?: boolean;
  /** Chip revision and package; default per chip (ESP32: an ESP32-D0WD-V3 v3.0, as on ESP32-WROOM-32E). */
  identity?: Partial<Omit<ChipIdentity, 'mac'>>;
}

/** Either reset front end: the bridge's transistor circuit or the USB-Serial/JTAG peripheral. */
interface ResetLines {
  readonly lines: Readonly<ModemLines>;
  readonly pins: PinLevels;
  set(change: Partial<ModemLines>): LineEdge | undefined;
}


interface BoardEvents {
  data: [Uint8Array];
  mode: [BoardMode];
  /** Which loader answers changed (ROM, stub, hung). */
  loader: [LoaderKind | 'hung'];
  unplug: [];
  replug: [];
  /** USB-Serial/JTAG re-enumeration: the device left the bus (ports on it are gone) … */
  'usb-detach': [];
  /** … and is back (a new port must be opened). */
  'usb-attach': [];
  /** A SYNC put the chip back into its ROM loader (`syncResetsToRom`). */
  'sync-reset': [];
  /** The ROM ran an image it does not know as the flasher stub (`stubPolicy: 'any'`). */
  'unknown-stub': [number];
  'internal-error': [unknown];
}

const DEFAULT_BOARD_NAMES: Readonly<Record<ChipFamily, string>> = {
  ESP32: 'ESP32 Dev Module',
  'ESP32-S3': 'ESP32S3 Dev Module',
  'ESP32-C3': 'ESP32C3 Dev Module',
  ESP8266: 'NodeMCU 1.0 (ESP-12E Module)',
};

/** Default byte a corrupted block loses: its middle. */
function middleOf(length: number): number {
  return length >> 1;
}

/** The SYNC request frame as the ROM receives it (checksum field 0, as esptool sends it). */
const SYNC_REQUEST = [0x00, 0x08, 0x24, 0x00, 0, 0, 0, 0, 0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class VirtualBoard extends EventEmitter<BoardEvents> {
  readonly profile: ChipProfile;
  readonly identity: ChipIdentity;
  readonly flash: FlashMemory;
  readonly registers: RegisterFile;
  /** Resolves once the board can serve everything (the stub image it recognises is loaded). */
  readonly ready: Promise<void>;

  readonly connection: BoardConnection;
  private readonly lineState: ResetLines;
  /** What the application was booted with; kept so the cloud's URL can follow a restarted station. */
  private appContext!: ConstructorParameters<typeof BoardApp>[0];
  private readonly app: BoardApp;
  private readonly rx: BytePipe;
  private readonly tx: BytePipe;
  private readonly throttle: boolean;
  private readonly random: () => number;
  private readonly slip = new SlipDecoder();
  private readonly syncWatch: SyncWatch | null;
  private readonly stubPolicy: StubPolicy;
  private readonly strapDownload: boolean;
  private readonly reenumerateOnReset: boolean;
  private readonly bridgeUsbIds: { vendorId: number; productId: number };
  private usbAttached = true;
  private reenumerateTimer: ReturnType<typeof setTimeout> | undefined;
  private stub: StubImage | undefined;
  private faults: BoardFaults = {};
  private faultCounters = { sent: 0, corruptLeft: 0 };
  private readonly faultHits = { corruptedBlocks: 0, droppedBytes: 0, garbageBytes: 0 };

  private powered = false;
  private plugged = true;
  private modeNow: BoardMode = 'off';
  private loaderKind: LoaderKind | 'hung' | null = null;
  private latchedDownload = false;
  private uartBaud = ROM_BAUD;
  private hostBaud: number | undefined;
  private autobaudPending = false;

  private session: LoaderSession | null = null;
  private frames: Uint8Array[] = [];
  private frameWaiter: { resolve: (f: Uint8Array) => void; reject: (e: Error) => void } | null = null;

  constructor(options: VirtualBoardOptions = {}) {
    super();
    this.profile = chipProfile(options.chip ?? 'ESP32');
    this.connection = options.connection ?? 'uart-bridge';
    if (this.connection === 'usb-serial-jtag' && !this.profile.hasUsbSerialJtag) {
      throw new RangeError(`${this.profile.family} has no USB-Serial/JTAG peripheral`);
    }
    this.lineState = this.connection === 'usb-serial-jtag' ? new UsbJtagLines() : new BoardLines();
    this.syncWatch = options.syncResetsToRom ? new SyncWatch() : null;
    this.stubPolicy = options.stubPolicy ?? 'known';
    this.strapDownload = options.strapDownload ?? false;
    this.reenumerateOnReset = options.reenumerateOnReset ?? false;
    this.bridgeUsbIds = options.bridgeUsbIds ?? USB_IDS.cp2102;
    this.random = options.seed !== undefined ? mulberry32(options.seed) : Math.random;
    const mac = options.mac
      ? parseMac(options.mac)
      : Uint8Array.from([
          ...this.profile.macOui,
          ...(options.seed !== undefined ? [0, 0, 0].map(() => Math.floor(this.random() * 256)) : randomBytes(3)),
        ]);
    this.identity = { ...this.profile.defaultIdentity, ...options.identity, mac };
    this.flash = new FlashMemory(options.flashSizeBytes ?? DEFAULT_FLASH_SIZE_BYTES);
    const firmwareVersion = options.firmwareVersion ?? '1.0.0';
    if (options.factoryFirmware !== false) installFactoryFirmware(this.flash, this.profile, { firmwareVersion });
    this.registers = new RegisterFile({
      profile: this.profile,
      identity: this.identity,
      wiring: { usbSerialJtag: this.connection === 'usb-serial-jtag' },
      flash: this.flash,
      jedecManufacturer: options.jedec?.manufacturer ?? 0xc8,
      jedecMemoryType: options.jedec?.memoryType ?? 0x40,
      uartBaud: () => this.uartBaud,
      apbHz: () => (this.loaderKind === 'stub' ? this.profile.stubApbHz : this.profile.romApbHz),
      strap: () => this.profile.strapValue(this.latchedDownload),
      flashAttached: () => this.session?.spiAttached ?? true,
    });
    this.app = new BoardApp((this.appContext = {
      profile: this.profile,
      identity: this.identity,
      flash: this.flash,
      config: {
        firmwareVersion,
        deviceName: options.app?.deviceName ?? 'Flashline Device',
        boardName: options.app?.boardName ?? DEFAULT_BOARD_NAMES[this.profile.family],
        templateId: options.app?.templateId ?? 'TMPL00000000',
        firmwareType: options.app?.firmwareType ?? 'TMPL00000000',
      },
      print: (text) => this.transmit(Buffer.from(text, 'latin1')),
      restart: () => this.reboot('software', this.latchedDownload),
      ...(options.cloudUrl ? { cloudUrl: options.cloudUrl } : {}),
    }));
    if (options.appBehaviour) this.app.setBehaviour(options.appBehaviour);
    this.throttle = options.throttle ?? false;
    this.rx = new BytePipe((bytes) => this.receive(bytes));
    this.tx = new BytePipe((bytes) => this.emit('data', this.garbleIfMismatched(bytes)));
    this.applyBaud(ROM_BAUD);
    if (options.faults) this.setFaults(options.faults);
    this.ready = loadStubImage(this.profile).then((stub) => {
      this.stub = stub;
    });
    // Whoever awaits `ready` sees a failure; nobody awaiting it must not crash the process.
    this.ready.catch(() => undefined);
    if (options.powered !== false) this.powerOn();
  }

  // ------------------------------------------------------------ what the outside sees

  get mode(): BoardMode {
    return this.modeNow;
  }

  /** Which loader answers in download mode: ROM, stub, or none (`hung` after a jump into unknown code). */
  get loader(): LoaderKind | 'hung' | null {
    return this.modeNow === 'download' ? this.loaderKind : null;
  }

  /** Self-test answers and failure mode of the application (takes effect at its next command). */
  setAppBehaviour(change: Partial<AppBehaviour>): void {
    this.app.setBehaviour(change);
  }

  get appBehaviour(): Readonly<AppBehaviour> {
    return this.app.behaviour;
  }

  /** The Wi-Fi network the application keeps in its configuration (null = unconfigured). */
  get storedWifi(): Readonly<StoredWifi> | null {
    return this.app.storedWifi;
  }

  /** Whether the application is online in the cloud with its token now. */
  get cloudOnline(): boolean {
    return this.modeNow === 'app' && this.app.cloudOnline;
  }

  get appState(): AppState | null {
    return this.modeNow === 'app' ? this.app.state : null;
  }

  /** The chip's current UART baud rate. */
  get baud(): number {
    return this.uartBaud;
  }

  /** The host's UART rate as last reported by its port (undefined = unknown). */
  get hostBaudRate(): number | undefined {
    return this.hostBaud;
  }

  get lines(): Readonly<ModemLines> {
    return this.lineState.lines;
  }

  get isPlugged(): boolean {
    return this.plugged;
  }

  /** Whether the host can reach the board now (plugged, and not in the middle of a USB re-enumeration). */
  get isReachable(): boolean {
    return this.plugged && this.usbAttached;
  }

  /** The USB ids the host sees for this board's serial port. */
  get usbIds(): { vendorId: number; productId: number } {
    return this.connection === 'usb-serial-jtag' ? { ...USB_IDS.usbSerialJtag } : { ...this.bridgeUsbIds };
  }

  /** How often the injected faults actually hit (since the board was made). */
  get faultStats(): Readonly<{ corruptedBlocks: number; droppedBytes: number; garbageBytes: number }> {
    return { ...this.faultHits };
  }

  get macAddress(): Uint8Array {
    return this.identity.mac.slice();
  }

  /** Subscribe to board -> host bytes; returns the unsubscribe function. */
  onData(listener: (bytes: Uint8Array) => void): () => void {
    this.on('data', listener);
    return () => this.off('data', listener);
  }

  readFlash(addr: number, len: number): Uint8Array {
    return this.flash.read(addr, len);
  }

  /**
   * Where the application finds its cloud from its next request on (a board host outlives the
   * station whose embedded cloud listens on a new port after every restart).
   */
  setCloudUrl(url: string | undefined): void {
    if (url === undefined) delete this.appContext.cloudUrl;
    else this.appContext.cloudUrl = url;
  }

  /** Host -> board bytes (what the USB bridge's TX carries). */
  write(bytes: Uint8Array): void {
    if (!this.isReachable || bytes.length === 0) return;
    const f = this.faults;
    const needsPerByte = f.dropEveryNthByte || f.unplugAfterBytes !== undefined || f.brownOutAfterBytes !== undefined;
    if (!needsPerByte) {
      this.rx.push(Uint8Array.from(bytes));
      return;
    }
    const kept: number[] = [];
    for (const byte of bytes) {
      this.faultCounters.sent++;
      const n = this.faultCounters.sent;
      if (f.unplugAfterBytes !== undefined && n > f.unplugAfterBytes) {
        this.rx.push(Uint8Array.from(kept));
        this.unplug();
        return;
      }
      if (f.brownOutAfterBytes !== undefined && n > f.brownOutAfterBytes) {
        this.faults = { ...this.faults, brownOutAfterBytes: undefined };
        this.rx.push(Uint8Array.from(kept));
        this.brownOut();
        return;
      }
      if (f.dropEveryNthByte && n % f.dropEveryNthByte === 0) {
        this.faultHits.droppedBytes++;
        continue;
      }
      kept.push(byte);
    }
    this.rx.push(Uint8Array.from(kept));
  }

  /**
   * Drive the modem lines (from an in-process port's setSignals, or a pty host's side channel).
   * Fields left out keep their level. The matching `SignalSink` shape (`{dtr, rts, brk}`) works too.
   */
  setLines(change: { dtr?: boolean; rts?: boolean; brk?: boolean }): void {
    if (!this.isReachable) return;
    const edge = this.lineState.set(change);
    if (!edge || !this.powered) return;
    if (edge.kind === 'reset-asserted') this.holdInReset();
    else this.startChip(this.connection === 'usb-serial-jtag' ? 'usb' : 'pin', edge.download);
  }

  /** The host's UART rate (set by the port on open and on baud changes); undefined = unknown. */
  setHostBaud(baud: number | undefined): void {
    this.hostBaud = baud;
  }

  setFaults(faults: BoardFaults): void {
    this.faults = { ...faults };
    this.faultCounters = { sent: 0, corruptLeft: faults.corruptBlock ? (faults.corruptBlock.times ?? 1) : 0 };
  }

  /** The board's buttons: tap EN (RST), optionally holding BOOT (GPIO0) down meanwhile. */
  pressReset(options: { holdBoot?: boolean } = {}): void {
    if (!this.plugged || !this.powered) return;
    this.holdInReset();
    this.startChip('pin', options.holdBoot === true || this.downloadStrapped());
  }

  powerOff(): void {
    this.powered = false;
    this.holdInReset();
  }

  powerOn(): void {
    if (!this.plugged || this.powered) return;
    this.powered = true;
    if (this.lineState.pins.en) this.startChip('power-on', this.downloadStrapped());
  }

  powerCycle(): void {
    this.powerOff();
    this.powerOn();
  }

  /** Pull the USB cable: no power, no data, ports on it fail. */
  unplug(): void {
    if (!this.plugged) return;
    this.powerOff();
    this.plugged = false;
    this.usbAttached = true;
    clearTimeout(this.reenumerateTimer);
    this.emit('unplug');
  }

  /** Plug it back in: the bridge comes up with DTR/RTS released and the chip boots from flash. */
  replug(): void {
    if (this.plugged) return;
    this.plugged = true;
    this.lineState.set({ dtr: false, rts: false, brk: false });
    this.faults = {};
    this.emit('replug');
    this.powerOn();
  }

  /** Stop timers and the loader; the board is unusable afterwards. */
  dispose(): void {
    this.powerOff();
    this.plugged = false;
    clearTimeout(this.reenumerateTimer);
    this.rx.close();
    this.tx.close();
    this.removeAllListeners();
  }

  // ------------------------------------------------------------ chip life cycle

  private holdInReset(): void {
    this.endSession();
    this.rx.clear();
    this.tx.clear();
    this.slip.reset();
    this.setMode('off');
  }

  /** GPIO0 low at a reset: the circuit or the USB peripheral pulls it, or the board straps it. */
  private downloadStrapped(): boolean {
    return this.strapDownload || !this.lineState.pins.io0;
  }

  private startChip(reason: ResetCause, download: boolean): void {
    this.latchedDownload = download;
    this.reenumerate(reason);
    // The ROM prints its banner at its boot-log rate (ESP8266: 74880 baud), then autobauds.
    this.applyBaud(this.profile.bootLogBaud);
    const banner = Buffer.from(this.profile.bootBanner(this.identity, reason, download), 'latin1');
    this.transmit(this.baudMismatch() ? this.garble(banner) : banner);
    if (download) {
      this.startLoader();
    } else {
      this.startApp();
    }
  }

  /**
   * USB-Serial/JTAG with `reenumerateOnReset`: a chip that restarts takes its USB device off the bus
   * and brings it back. A power-on is the device's first enumeration, not a re-enumeration.
   */
  private reenumerate(reason: ResetCause): void {
    if (!this.reenumerateOnReset || this.connection !== 'usb-serial-jtag' || !this.plugged || reason === 'power-on') return;
    clearTimeout(this.reenumerateTimer);
    if (this.usbAttached) {
      this.usbAttached = false;
      this.emit('usb-detach');
    }
    this.reenumerateTimer = setTimeout(() => {
      if (!this.plugged) return;
      this.usbAttached = true;
      this.emit('usb-attach');
    }, USB_REENUMERATE_MS);
  }

  /**
   * `syncResetsToRom`: restart into the ROM loader without a banner, as if the client had reset the
   * chip into download mode just before its SYNC, with the UART already locked to the host's rate.
   */
  private restartRomForSync(): void {
    this.endSession();
    this.tx.clear();
    this.slip.reset();
    this.latchedDownload = true;
    this.emit('sync-reset');
    this.applyBaud(this.hostBaud ?? ROM_BAUD);
    this.startLoader();
    this.autobaudPending = false;
  }

  /** Software or brown-out reset: queued output survives up to the reset point. */
  private reboot(reason: ResetCause, download: boolean): void {
    this.endSession();
    this.rx.clear();
    this.slip.reset();
    this.startChip(reason, download);
  }

  private brownOut(): void {
    if (this.modeNow === 'app') this.transmit(Buffer.from('\r\nBrownout detector was triggered\r\n\r\n', 'latin1'));
    this.endSession();
    this.rx.clear();
    this.slip.reset();
    this.startChip('brown-out', !this.lineState.pins.io0);
  }

  private startLoader(): void {
    this.setMode('download');
    this.loaderKind = 'rom';
    this.emit('loader', 'rom');
    this.autobaudPending = true;
    this.frames = [];
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const board = this;
    const session: LoaderSession = new LoaderSession({
      profile: this.profile,
      identity: this.identity,
      flash: this.flash,
      registers: this.registers,
      get stubs() {
        return board.stub ? [board.stub] : [];
      },
      stubPolicy: this.stubPolicy,
      onUnknownStub: (entry) => {
        if (this.session === session) this.emit('unknown-stub', entry);
      },
      nextFrame: (): Promise<Uint8Array> => this.nextFrame(session),
      sendFrame: (payload) => {
        if (this.session === session) this.transmit(slipEncode(payload));
      },
      changeBaud: (baud) => this.tx.afterDrain(() => this.session === session && this.applyBaud(baud)),
      runUserCode: () => {
        if (this.session !== session) return;
        this.endSession();
        this.startApp();
      },
      softReset: () => {
        if (this.session === session) this.reboot('software', this.latchedDownload);
      },
      onLoaderChange: (kind) => {
        if (this.session !== session) return;
        this.loaderKind = kind;
        this.emit('loader', kind);
      },
      corruptBlock: (op, seq, point, payload) => this.corruptBlock(op, seq, point, payload),
    });
    this.session = session;
    session.run().catch((err: unknown) => {
      if (this.session === session) {
        this.loaderKind = 'hung';
        this.emit('internal-error', err);
      }
    });
  }

  private startApp(): void {
    this.loaderKind = null;
    this.applyBaud(APP_CONSOLE_BAUD);
    this.setMode('app');
    this.app.boot();
  }

  private endSession(): void {
    this.session = null;
    this.frames = [];
    const waiter = this.frameWaiter;
    this.frameWaiter = null;
    waiter?.reject(new LoaderAborted());
  }

  private nextFrame(session: LoaderSession): Promise<Uint8Array> {
    if (this.session !== session) return Promise.reject(new LoaderAborted());
    const frame = this.frames.shift();
    if (frame) return Promise.resolve(frame);
    return new Promise((resolve, reject) => {
      this.frameWaiter = { resolve, reject };
    });
  }

  private setMode(mode: BoardMode): void {
    if (mode === this.modeNow) return;
    // The application stops: its cloud link (if any) drops, as a real board's socket would.
    if (this.modeNow === 'app') this.app.stop();
    this.modeNow = mode;
    this.emit('mode', mode);
  }

  // ------------------------------------------------------------ UART

  private applyBaud(baud: number): void {
    this.uartBaud = baud;
    // USB-Serial/JTAG is not a UART: whatever baud is set, bytes move at USB speed.
    const lineBaud = this.connection === 'usb-serial-jtag' ? USB_FULL_SPEED_BYTES_PER_SECOND * 10 : baud;
    const rate = this.throttle ? lineBaud : undefined;
    this.rx.setBaud(rate);
    this.tx.setBaud(rate);
  }

  private baudMismatch(): boolean {
    if (this.connection === 'usb-serial-jtag') return false;
    return this.hostBaud !== undefined && Math.abs(this.hostBaud - this.uartBaud) / this.uartBaud > BAUD_TOLERANCE;
  }

  /** At a wrong baud rate the receiver still sees bytes, just not the ones that were sent. */
  private garbleIfMismatched(bytes: Uint8Array): Uint8Array {
    return this.baudMismatch() ? this.garble(bytes) : bytes;
  }

  private garble(bytes: Uint8Array): Uint8Array {
    return Uint8Array.from(bytes, (b) => (b ^ (0x5a + Math.floor(this.random() * 0x40))) & 0xff);
  }

  private transmit(bytes: Uint8Array): void {
    if (!this.powered || !this.usbAttached || this.faults.silent) return;
    const garbage = this.faults.garbage;
    if (garbage && this.random() < garbage.probability) {
      const count = 1 + Math.floor(this.random() * (garbage.maxBytes ?? 8));
      this.faultHits.garbageBytes += count;
      this.tx.push(Uint8Array.from({ length: count }, () => Math.floor(this.random() * 256)));
    }
    this.tx.push(bytes);
  }

  private receive(chunk: Uint8Array): void {
    if (!this.powered) return;
    let raw = chunk;
    if (this.syncWatch) {
      for (;;) {
        const end = this.syncWatch.push(raw);
        if (end < 0) break;
        const romListening = this.modeNow === 'download' && this.loaderKind === 'rom' && !this.baudMismatch();
        if (!romListening) {
          // The SYNC goes to the fresh ROM whole; what came before it in this chunk was for the old state.
          this.restartRomForSync();
          this.deliverFrame(Uint8Array.from(SYNC_REQUEST));
          raw = raw.subarray(end);
        } else {
          this.receiveBytes(raw.subarray(0, end));
          raw = raw.subarray(end);
        }
      }
    }
    this.receiveBytes(raw);
  }

  private deliverFrame(frame: Uint8Array): void {
    const waiter = this.frameWaiter;
    if (waiter) {
      this.frameWaiter = null;
      waiter.resolve(frame);
    } else {
      this.frames.push(frame);
    }
  }

  private receiveBytes(raw: Uint8Array): void {
    if (raw.length === 0) return;
    if (this.modeNow === 'download' && this.autobaudPending && this.loaderKind === 'rom') {
      // The ROM measures the host's bit time on the SYNC preamble and locks its UART to it.
      if (this.hostBaud !== undefined) this.applyBaud(this.hostBaud);
      this.autobaudPending = false;
    }
    const bytes = this.baudMismatch() ? Uint8Array.from(raw, (b) => b ^ 0xff) : raw;
    if (this.modeNow === 'app') {
      this.app.input(bytes);
      return;
    }
    if (this.modeNow !== 'download' || !this.session) return;
    for (const frame of this.slip.pushFrames(bytes)) this.deliverFrame(frame);
  }

  private corruptBlock(op: number, seq: number, point: CorruptionPoint, payload: Uint8Array): Uint8Array {
    const fault = this.faults.corruptBlock;
    if (!fault || this.faultCounters.corruptLeft <= 0 || payload.length === 0) return payload;
    if (fault.seq !== seq || (fault.point ?? 'wire') !== point || (fault.op !== undefined && fault.op !== op)) return payload;
    const at = fault.byteOffset ?? middleOf(payload.length);
    if (at >= payload.length) return payload;
    this.faultCounters.corruptLeft--;
    this.faultHits.corruptedBlocks++;
    const copy = payload.slice();
    copy[at] = copy[at]! ^ 0xff;
    return copy;
  }
}
