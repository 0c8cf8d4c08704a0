import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { APP_CONSOLE_BAUD, BoardApp, type AppIdentityConfig, type AppState } from './board-app.js';
import { BoardLines, type ModemLines } from './board-lines.js';
import { BytePipe } from './byte-pipe.js';
import { chipProfile, parseMac, type ChipFamily, type ChipIdentity, type ChipProfile, type ResetCause } from './chip-profiles.js';
import { installFactoryFirmware } from './factory-image.js';
import { DEFAULT_FLASH_SIZE_BYTES, FlashMemory } from './flash-memory.js';
import { RegisterFile } from './register-file.js';
import { LoaderAborted, LoaderSession, type CorruptionPoint, type LoaderKind } from './rom-protocol.js';
import { SlipDecoder, slipEncode } from './slip.js';
import { loadStubImage, type StubImage } from './stub-image.js';

/**
 * A whole ESP32 dev board on a USB-serial bridge, in-process: the auto-reset circuit, the UART (at
 * its real baud rate when throttled), the ROM loader and flasher stub, 4 MB of NOR flash, and the
 * application a normal boot starts. It is the test peer for everything that flashes: the real
 * esptool-js talks to it through `createInProcessPort` or, over a pseudo-terminal, through the real
 * `serialport` package (`hostBoardOnPty`).
 */
export const ROM_BAUD = 115_200;
/** A receiver still decodes 8N1 frames when the two clocks differ by less than about 3 %. */
const BAUD_TOLERANCE = 0.03;
/** Espressif's OUI, used for generated MACs. */
const ESPRESSIF_OUI = [0x24, 0x0a, 0xc4] as const;

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
   * the checksum, so only an MD5 read-back notices). `times` blocks are hit (default 1).
   */
  corruptBlock?: { seq: number; point?: CorruptionPoint; op?: number; times?: number };
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
  /** `aa:bb:cc:dd:ee:ff`; default: Espressif OUI + 3 random (or seeded) bytes. */
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
  /** JEDEC ID bytes of the flash chip (capacity comes from the flash size). Default GigaDevice. */
  jedec?: { manufacturer: number; memoryType: number };
  /** Powered from the start (default true): boots the application, as when just plugged in. */
  powered?: boolean;
  /** Chip revision and package; default an ESP32-D0WD-V3 (v3.0), as on ESP32-WROOM-32E. */
  identity?: Partial<Omit<ChipIdentity, 'mac'>>;
}


interface BoardEvents {
  data: [Uint8Array];
  mode: [BoardMode];
  unplug: [];
  replug: [];
  'internal-error': [unknown];
}

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

  private readonly lineState = new BoardLines();
  private readonly app: BoardApp;
  private readonly rx: BytePipe;
  private readonly tx: BytePipe;
  private readonly throttle: boolean;
  private readonly random: () => number;
  private readonly slip = new SlipDecoder();
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
    this.random = options.seed !== undefined ? mulberry32(options.seed) : Math.random;
    const mac = options.mac
      ? parseMac(options.mac)
      : Uint8Array.from([
          ...ESPRESSIF_OUI,
          ...(options.seed !== undefined ? [0, 0, 0].map(() => Math.floor(this.random() * 256)) : randomBytes(3)),
        ]);
    this.identity = { ...this.profile.defaultIdentity, ...options.identity, mac };
    this.flash = new FlashMemory(options.flashSizeBytes ?? DEFAULT_FLASH_SIZE_BYTES);
    const firmwareVersion = options.firmwareVersion ?? '1.0.0';
    if (options.factoryFirmware !== false) installFactoryFirmware(this.flash, this.profile, { firmwareVersion });
    this.registers = new RegisterFile({
      profile: this.profile,
      identity: this.identity,
      flash: this.flash,
      jedecManufacturer: options.jedec?.manufacturer ?? 0xc8,
      jedecMemoryType: options.jedec?.memoryType ?? 0x40,
      uartBaud: () => this.uartBaud,
      apbHz: () => (this.loaderKind === 'stub' ? this.profile.stubApbHz : this.profile.romApbHz),
      strap: () => this.profile.strapValue(this.latchedDownload),
      flashAttached: () => this.session?.spiAttached ?? true,
    });
    this.app = new BoardApp({
      profile: this.profile,
      identity: this.identity,
      flash: this.flash,
      config: {
        firmwareVersion,
        deviceName: options.app?.deviceName ?? 'Flashline Device',
        boardName: options.app?.boardName ?? 'ESP32 Dev Module',
        templateId: options.app?.templateId ?? 'TMPL00000000',
        firmwareType: options.app?.firmwareType ?? 'TMPL00000000',
      },
      print: (text) => this.transmit(Buffer.from(text, 'latin1')),
      restart: () => this.reboot('software', this.latchedDownload),
    });
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

  /** Host -> board bytes (what the USB bridge's TX carries). */
  write(bytes: Uint8Array): void {
    if (!this.plugged || bytes.length === 0) return;
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
    if (!this.plugged) return;
    const edge = this.lineState.set(change);
    if (!edge || !this.powered) return;
    if (edge.kind === 'reset-asserted') this.holdInReset();
    else this.startChip('power-on', edge.download);
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
    this.startChip('power-on', options.holdBoot === true || !this.lineState.pins.io0);
  }

  powerOff(): void {
    this.powered = false;
    this.holdInReset();
  }

  powerOn(): void {
    if (!this.plugged || this.powered) return;
    this.powered = true;
    if (this.lineState.pins.en) this.startChip('power-on', !this.lineState.pins.io0);
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

  private startChip(reason: ResetCause, download: boolean): void {
    this.latchedDownload = download;
    this.applyBaud(ROM_BAUD);
    this.transmit(Buffer.from(this.profile.bootBanner(this.identity, reason, download), 'latin1'));
    if (download) {
      this.startLoader();
    } else {
      this.startApp();
    }
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
    this.autobaudPending = true;
    this.frames = [];
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const board = this;
    const session: LoaderSession = new LoaderSession({
      profile: this.profile,
      identity: this.identity,
      flash: this.flash,
      registers: this.registers,
      get stub() {
        return board.stub;
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
        if (this.session === session) this.loaderKind = kind;
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
    this.modeNow = mode;
    this.emit('mode', mode);
  }

  // ------------------------------------------------------------ UART

  private applyBaud(baud: number): void {
    this.uartBaud = baud;
    const rate = this.throttle ? baud : undefined;
    this.rx.setBaud(rate);
    this.tx.setBaud(rate);
  }

  private baudMismatch(): boolean {
    return this.hostBaud !== undefined && Math.abs(this.hostBaud - this.uartBaud) / this.uartBaud > BAUD_TOLERANCE;
  }

  /** At a wrong baud rate the receiver still sees bytes, just not the ones that were sent. */
  private garbleIfMismatched(bytes: Uint8Array): Uint8Array {
    if (!this.baudMismatch()) return bytes;
    return Uint8Array.from(bytes, (b) => (b ^ (0x5a + Math.floor(this.random() * 0x40))) & 0xff);
  }

  private transmit(bytes: Uint8Array): void {
    if (!this.powered || this.faults.silent) return;
    const garbage = this.faults.garbage;
    if (garbage && this.random() < garbage.probability) {
      const count = 1 + Math.floor(this.random() * (garbage.maxBytes ?? 8));
      this.faultHits.garbageBytes += count;
      this.tx.push(Uint8Array.from({ length: count }, () => Math.floor(this.random() * 256)));
    }
    this.tx.push(bytes);
  }

  private receive(raw: Uint8Array): void {
    if (!this.powered) return;
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
    for (const frame of this.slip.pushFrames(bytes)) {
      const waiter = this.frameWaiter;
      if (waiter) {
        this.frameWaiter = null;
        waiter.resolve(frame);
      } else {
        this.frames.push(frame);
      }
    }
  }

  private corruptBlock(op: number, seq: number, point: CorruptionPoint, payload: Uint8Array): Uint8Array {
    const fault = this.faults.corruptBlock;
    if (!fault || this.faultCounters.corruptLeft <= 0 || payload.length === 0) return payload;
    if (fault.seq !== seq || (fault.point ?? 'wire') !== point || (fault.op !== undefined && fault.op !== op)) return payload;
    this.faultCounters.corruptLeft--;
    this.faultHits.corruptedBlocks++;
    const copy = payload.slice();
    const middle = copy.length >> 1;
    copy[middle] = copy[middle]! ^ 0xff;
    return copy;
  }
}
