import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
  decodeStrings,
  encodeImprovPacket,
  encodeRpcResult,
  ImprovCommand,
  ImprovError,
  ImprovParser,
  ImprovState,
  ImprovType,
  parseRpcData,
} from '../improv/improv-packet.js';
import { defaultAppBehaviour, type AppBehaviour, type StoredWifi } from './app-behaviour.js';
import { SELFTEST_COMMAND, SELFTEST_NONCE_HEX_CHARS } from '../../common/self-test-protocol.js';
import type { SelfTestCheckLine, SelfTestSummaryLine } from '../../common/self-test-protocol.js';
import { checkImage, type AppDescription } from './app-image.js';
import type { ChipIdentity, ChipProfile } from './chip-profiles.js';
import { formatMac } from './chip-profiles.js';
import type { FlashMemory } from './flash-memory.js';
import { findNvsString } from '../nvs/nvs-reader.js';
import {
  findBootAppPartition,
  findNvsPartition,
  parsePartitionTable,
  PARTITION_TABLE_MAX_BYTES,
  PARTITION_TABLE_OFFSET,
  type PartitionEntry,
} from './partition-table.js';

/**
 * What the board runs after a normal boot (GPIO0 high at reset): the ROM loads and checks the
 * second-stage bootloader at 0x1000, which reads the partition table at 0x8000 and checks and starts
 * the app, which is a Blynk.Edgent-like firmware: it reads its AuthToken from NVS (namespace `blynk`,
 * string key `auth`, as Arduino `Preferences` stores it) and serves a line console at 115200 baud:
 * `selftest <nonce>` (docs/self-test-protocol.md), Edgent's `devinfo`, `firmware info`, `status`,
 * `wifi scan`, `config erase`, `reboot`, and Improv Wi-Fi serial packets on the same UART.
 * What it reports, and how it misbehaves on purpose, is its `AppBehaviour` (app-behaviour.ts).
 *
 * Any broken stage halts the boot with the message the real stage prints, so a station that wrote a
 * bad image, a bad partition table or an NVS page the firmware cannot read sees the same symptom a
 * real board would give: no self-test answer, a failed token check.
 *
 * The AuthToken never leaves this object except as an HMAC proof; nothing here prints it.
 */
export const APP_CONSOLE_BAUD = 115_200;
/** Where the token lives without a partition table (ESP-IDF's default layout). */
export const FALLBACK_NVS = { offset: 0x9000, size: 0x6000 } as const;
const DEFAULT_APP_OFFSET = 0x10000;
const DEFAULT_APP_SIZE = 0x100000;
const MAX_LINE_CHARS = 512;
const AUTH_TOKEN_PATTERN = /^[-_a-zA-Z0-9]{32}$/;
/** The board gives up on one request to the cloud after this long. */
const SIM_CLOUD_REQUEST_TIMEOUT_MS = 5_000;
const NONCE_PATTERN = new RegExp(`^[0-9a-f]{${SELFTEST_NONCE_HEX_CHARS}}$`);
/** Edgent keeps the token under these names (Edgent-Arduino `BlynkConfigStore.h`). */
export const TOKEN_NAMESPACE = 'blynk';
export const TOKEN_KEY = 'auth';

export interface AppIdentityConfig {
  /** Version reported when the app image carries no `esp_app_desc_t`. */
  firmwareVersion: string;
  deviceName: string;
  boardName: string;
  templateId: string;
  firmwareType: string;
}

export type AppState =
  | { kind: 'running'; firmwareVersion: string; tokenPresent: boolean; nvs: { offset: number; size: number } }
  | { kind: 'halted'; stage: 'rom' | 'bootloader'; reason: string };

interface AppBootContext {
  /**
   * The cloud's base URL (`http://127.0.0.1:…`): the app connects there with its token like a
   * device does (`POST /external/api/device/connect`, the service's stand-in for Blynk's device
   * protocol) and says goodbye when it stops. Absent: the board has no cloud.
   */
  cloudUrl?: string;
  profile: ChipProfile;
  identity: ChipIdentity;
  flash: FlashMemory;
  config: AppIdentityConfig;
  /** Console output (the board adds it to its TX queue). */
  print(text: string): void;
  /** Software reset requested by the app (`reboot`). */
  restart(): void;
}

export class BoardApp {
  private stateNow: AppState = { kind: 'halted', stage: 'rom', reason: 'not booted' };
  private token: string | undefined;
  private line = '';
  private clockMs = 0;
  private behaviourNow: AppBehaviour = defaultAppBehaviour();
  /** Kept in NVS by the real firmware: survives reboots, cleared only by `config erase`. */
  private wifi: StoredWifi | null = null;
  private wifiConnected = false;
  private improv = new ImprovParser();
  private improvState: number = ImprovState.ready;
  /** Bumped on every boot, so a Wi-Fi join scheduled before a reset does not land after it. */
  private bootCount = 0;
  private appMd5 = '';
  private elfSha256 = '';
  /** A token given over the console (`connect <auth>`, dynamic products): kept like the Wi-Fi, erased by `config erase`. */
  private provisionedToken: string | null = null;
  /** The token the app's current cloud session uses, once the cloud accepted it. */
  private cloudOnlineWith: string | null = null;
  /** Cloud requests go one after another, so a goodbye never overtakes the next hello. */
  private cloudChain: Promise<void> = Promise.resolve();
  private cloudTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly ctx: AppBootContext) {}

  get state(): AppState {
    return this.stateNow;
  }

  get behaviour(): Readonly<AppBehaviour> {
    return this.behaviourNow;
  }

  /** Change what the app reports and how it fails; takes effect at the next command. */
  setBehaviour(change: Partial<AppBehaviour>): void {
    this.behaviourNow = { ...this.behaviourNow, ...change };
  }

  /** The Wi-Fi network stored in the app's configuration (null = unconfigured). */
  get storedWifi(): Readonly<StoredWifi> | null {
    return this.wifi;
  }

  /** Whether the cloud accepted the app's token in this run of the app. */
  get cloudOnline(): boolean {
    return this.cloudOnlineWith !== null;
  }

  /** The app stops running (reset, power off, download mode): its cloud link drops. */
  stop(): void {
    clearTimeout(this.cloudTimer);
    this.cloudTimer = undefined;
    const was = this.cloudOnlineWith;
    this.cloudOnlineWith = null;
    if (was) this.cloudRequest('disconnect', was);
  }

  /** Run the flash boot path: ROM stage, bootloader stage, app start. */
  boot(): void {
    this.stop();
    this.token = undefined;
    this.line = '';
    this.clockMs = 27;
    this.bootCount += 1;
    this.improv = new ImprovParser();
    this.wifiConnected = false;
    this.appMd5 = '';
    this.elfSha256 = '';
    const { flash, profile } = this.ctx;
    // ROM stage: load and check the second-stage bootloader.
    const bootloader = checkImage(flash.read(profile.bootloaderOffset, 0x7000), profile.imageChipId, profile.imageFormat);
    if (!bootloader.ok) {
      this.println(bootloader.reason.startsWith('invalid header') ? bootloader.reason : `flash read err, ${profile.bootloaderOffset.toString(16)}`);
      this.println('ets_main.c 371 ');
      this.stateNow = { kind: 'halted', stage: 'rom', reason: bootloader.reason };
      return;
    }
    this.println('configsip: 0, SPIWP:0xee');
    this.println('clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00');
    this.println('mode:DIO, clock div:2');
    this.println(`entry 0x${bootloader.entry.toString(16).padStart(8, '0')}`);
    this.log('I', 'boot', 'ESP-IDF v5.1.4 2nd stage bootloader');
    this.log('I', 'boot', `chip revision: v${this.ctx.identity.majorRevision}.${this.ctx.identity.minorRevision}`);

    // Bootloader stage: partition table, then the app image.
    const table = parsePartitionTable(flash.read(PARTITION_TABLE_OFFSET, PARTITION_TABLE_MAX_BYTES));
    let entries: PartitionEntry[] | undefined;
    if (table.ok) {
      entries = table.entries;
    } else if (table.reason === 'absent') {
      // A real bootloader stops here; the simulation keeps going with ESP-IDF's default layout so
      // that boards whose flash only ever received an NVS image still run.
      this.log('W', 'boot', 'no partition table at 0x8000, assuming the default layout');
    } else {
      this.log('E', 'flash_parts', table.reason === 'bad-md5' ? 'partition table MD5 mismatch' : 'partition table is malformed');
      this.log('E', 'boot', 'Failed to verify partition table');
      this.halt('bootloader', `partition table: ${table.reason}`);
      return;
    }
    const appPart = entries ? findBootAppPartition(entries) : { offset: DEFAULT_APP_OFFSET, size: DEFAULT_APP_SIZE };
    if (!appPart) {
      this.log('E', 'boot', 'No bootable app partitions in the partition table');
      this.halt('bootloader', 'no app partition');
      return;
    }
    const appSize = Math.min(appPart.size, flash.size - appPart.offset);
    const app = checkImage(flash.read(appPart.offset, appSize), profile.imageChipId, profile.imageFormat);
    if (!app.ok) {
      this.log('E', 'esp_image', `${app.reason} (app at 0x${appPart.offset.toString(16)})`);
      this.log('E', 'boot', 'No bootable app partitions in the partition table');
      this.halt('bootloader', `app image: ${app.reason}`);
      return;
    }
    this.log('I', 'boot', `Loaded app from partition at offset 0x${appPart.offset.toString(16)}`);

    // App stage.
    const desc: AppDescription | undefined = app.app;
    this.appMd5 = createHash('md5').update(flash.read(appPart.offset, app.length)).digest('hex');
    // esp_app_desc_t sits in the first segment (image offset 24 + 8); app_elf_sha256 at +144.
    if (desc) this.elfSha256 = Buffer.from(flash.read(appPart.offset + 32 + 144, 32)).toString('hex');
    const firmwareVersion = desc?.version || this.ctx.config.firmwareVersion;
    this.log('I', 'cpu_start', 'Pro cpu up.');
    this.log('I', 'app_init', 'Application information:');
    this.log('I', 'app_init', `Project name:     ${desc?.projectName ?? 'unknown'}`);
    this.log('I', 'app_init', `App version:      ${firmwareVersion}`);
    const nvsPart = entries ? findNvsPartition(entries) : FALLBACK_NVS;
    let tokenPresent = false;
    if (nvsPart && flash.contains(nvsPart.offset, nvsPart.size)) {
      this.token = findNvsString(flash.read(nvsPart.offset, nvsPart.size), TOKEN_NAMESPACE, TOKEN_KEY);
      tokenPresent = this.token !== undefined;
    }
    this.stateNow = {
      kind: 'running',
      firmwareVersion,
      tokenPresent,
      nvs: nvsPart ? { offset: nvsPart.offset, size: nvsPart.size } : { ...FALLBACK_NVS },
    };
    this.edgent(`Blynk.Edgent ${this.ctx.config.firmwareType} v${firmwareVersion} on ${this.ctx.config.boardName}`);
    this.edgent(tokenPresent ? 'AuthToken: configured' : 'AuthToken: not configured');
    if (this.wifi) {
      const stored = this.wifi;
      this.wifiConnected = this.findNetwork(stored.ssid, stored.pass) !== undefined;
      this.edgent(this.wifiConnected ? `Connected to WiFi: ${stored.ssid}` : `Connecting to WiFi: ${stored.ssid}`);
    } else {
      this.edgent('Waiting for configuration (Improv serial)');
    }
    this.improvState = this.wifiConnected ? ImprovState.provisioned : ImprovState.ready;
    this.edgent('Console ready');
    this.scheduleCloudConnect();
  }

  /** The token the app connects with: its NVS token, else one given over the console. */
  private cloudToken(): string | undefined {
    return this.token ?? this.provisionedToken ?? undefined;
  }

  /** Connect once a token and a network path exist (factory uplink, or the Wi-Fi Improv gave it). */
  private scheduleCloudConnect(): void {
    const token = this.cloudToken();
    if (!this.ctx.cloudUrl || !token || this.stateNow.kind !== 'running') return;
    if (!this.behaviourNow.uplink && !this.wifiConnected) return;
    clearTimeout(this.cloudTimer);
    const boot = this.bootCount;
    this.cloudTimer = setTimeout(() => {
      if (boot !== this.bootCount || this.stateNow.kind !== 'running') return;
      this.cloudRequest('connect', token);
    }, this.behaviourNow.cloudConnectMs);
  }

  /** One device-side request to the cloud, queued behind the previous one; failures are printed, never thrown. */
  private cloudRequest(kind: 'connect' | 'disconnect', token: string): void {
    const base = this.ctx.cloudUrl;
    if (!base) return;
    const boot = this.bootCount;
    const query = `token=${encodeURIComponent(token)}${kind === 'connect' ? `&templateId=${encodeURIComponent(this.ctx.config.templateId)}` : ''}`;
    this.cloudChain = this.cloudChain.then(async () => {
      try {
        const res = await fetch(`${base.replace(/\/+$/, '')}/external/api/device/${kind}?${query}`, {
          method: 'POST',
          signal: AbortSignal.timeout(SIM_CLOUD_REQUEST_TIMEOUT_MS),
        });
        await res.arrayBuffer();
        if (kind !== 'connect' || boot !== this.bootCount || this.stateNow.kind !== 'running') return;
        if (res.ok) {
          this.cloudOnlineWith = token;
          this.edgent('Connected to Blynk.Cloud');
        } else {
          // Edgent prints the refusal, never the token.
          this.edgent(res.status === 404 ? 'Invalid auth token' : `Cloud refused the login (HTTP ${res.status})`);
        }
      } catch {
        if (kind === 'connect' && boot === this.bootCount && this.stateNow.kind === 'running') this.edgent('Cloud unreachable');
      }
    });
  }

  /** Bytes from the host at the console baud. */
  input(bytes: Uint8Array): void {
    if (this.stateNow.kind !== 'running') return;
    for (const chunk of this.improv.push(bytes)) {
      if (chunk.kind === 'packet') this.improvPacket(chunk.packet.type, chunk.packet.data);
      else if (chunk.kind === 'bad-packet') this.improvSend(ImprovType.errorState, [ImprovError.invalidRpc]);
      else this.consoleInput(chunk.bytes);
    }
  }

  private consoleInput(bytes: Uint8Array): void {
    for (const byte of bytes) {
      if (byte === 0x0a || byte === 0x0d) {
        const line = this.line.trim();
        this.line = '';
        if (line) this.command(line);
      } else if (byte >= 0x20 && byte < 0x7f) {
        // Anything longer than the console buffer is dropped, like a bounded line editor would.
        if (this.line.length < MAX_LINE_CHARS) this.line += String.fromCharCode(byte);
      }
    }
  }

  private command(line: string): void {
    const [name, ...args] = line.split(/\s+/);
    switch (name) {
      case SELFTEST_COMMAND:
        this.selfTest(args[0] ?? '');
        return;
      case 'devinfo':
        this.println(JSON.stringify(this.devinfo()));
        return;
      case 'reboot':
        this.println('Rebooting...');
        this.ctx.restart();
        return;
      case 'firmware':
        if (args[0] === 'info') return this.firmwareInfo();
        break;
      case 'status':
        this.println(JSON.stringify(this.status()));
        return;
      case 'connect': {
        // Current Edgent's `connect <auth> [host]`: store the cloud credentials and connect. The
        // answer never repeats the token.
        const auth = args[0] ?? '';
        if (!AUTH_TOKEN_PATTERN.test(auth)) {
          this.println(JSON.stringify({ connect: 'error', reason: 'the AuthToken must be 32 characters of [-_a-zA-Z0-9]' }));
          return;
        }
        this.provisionedToken = auth;
        this.println(JSON.stringify({ connect: 'saved' }));
        if (this.cloudOnlineWith && this.cloudOnlineWith !== this.cloudToken()) this.stop();
        this.scheduleCloudConnect();
        return;
      }
      case 'wifi':
        if (args[0] === 'scan') {
          // Edgent prints one network per line; Flashline's protocol adds a JSON summary line.
          for (const n of this.behaviourNow.networks) this.println(`${n.ssid.padEnd(32)} ${n.rssi} dBm ${n.pass === undefined ? 'open' : 'secured'}`);
          this.println(JSON.stringify({ wifi_scan: 'done', count: this.behaviourNow.networks.length }));
          return;
        }
        break;
      case 'config':
        if (args[0] === 'erase') {
          // Edgent erases its whole configuration (Wi-Fi networks and cloud credentials) and restarts.
          if (this.behaviourNow.failure !== 'erase-ignored') {
            this.wifi = null;
            this.wifiConnected = false;
            this.provisionedToken = null;
          }
          this.println('Erasing configuration...');
          this.println(JSON.stringify({ config: 'erased' }));
          this.ctx.restart();
          return;
        }
        break;
      default:
        break;
    }
    this.println(`Command not found: ${line.slice(0, 40)}`);
  }

  private firmwareInfo(): void {
    const state = this.stateNow;
    const { config } = this.ctx;
    this.println(` Version:              ${state.kind === 'running' ? state.firmwareVersion : config.firmwareVersion} (build Nov 22 2026 12:00:00)`);
    this.println(` Type:                 ${config.firmwareType}`);
    this.println(` Platform:             ${this.ctx.profile.family}`);
    this.println(` App MD5:              ${this.appMd5 || 'unknown'}`);
    this.println(` ELF SHA256:           ${this.elfSha256 || 'unknown'}`);
    this.println(JSON.stringify({ fw_ver: state.kind === 'running' ? state.firmwareVersion : config.firmwareVersion, app_md5: this.appMd5, elf_sha256: this.elfSha256 }));
  }

  private status(): Record<string, string | number | boolean | null> {
    // Edgent's states: WAIT_CONFIG until a network is configured, then CONNECTING_NET,
    // CONNECTING_CLOUD, RUNNING. The simulation has no cloud: a board on Wi-Fi waits for it.
    const online = this.cloudOnlineWith !== null;
    const state = !this.wifi ? (online ? 'RUNNING' : 'WAIT_CONFIG') : !this.wifiConnected ? 'CONNECTING_NET' : online ? 'RUNNING' : 'CONNECTING_CLOUD';
    return {
      state,
      configured: this.wifi !== null,
      wifi: this.wifiConnected && this.wifi ? this.wifi.ssid : null,
      token: this.cloudToken() !== undefined,
      cloud: online,
      heap: this.behaviourNow.heapFree,
    };
  }

  private findNetwork(ssid: string, pass: string): AppBehaviour['networks'][number] | undefined {
    return this.behaviourNow.networks.find((n) => n.ssid === ssid && (n.pass === undefined || n.pass === pass));
  }

  // ------------------------------------------------------------ Improv Wi-Fi serial

  private improvSend(type: number, data: readonly number[]): void {
    this.ctx.print(Buffer.from(encodeImprovPacket(type, Uint8Array.from(data))).toString('latin1'));
  }

  private improvResult(command: number, strings: readonly string[]): void {
    this.ctx.print(Buffer.from(encodeRpcResult(command, strings)).toString('latin1'));
  }

  private improvPacket(type: number, data: Uint8Array): void {
    if (type !== ImprovType.rpc) return;
    const rpc = parseRpcData(data);
    if (!rpc) return this.improvSend(ImprovType.errorState, [ImprovError.invalidRpc]);
    switch (rpc.command) {
      case ImprovCommand.getState:
        return this.improvSend(ImprovType.currentState, [this.improvState]);
      case ImprovCommand.deviceInfo: {
        const state = this.stateNow;
        const version = state.kind === 'running' ? state.firmwareVersion : this.ctx.config.firmwareVersion;
        return this.improvResult(rpc.command, [`Blynk.Edgent ${this.ctx.config.firmwareType}`, version, this.ctx.profile.family, this.ctx.config.deviceName]);
      }
      case ImprovCommand.scanNetworks:
        // One result per network, then an empty result ends the list.
        for (const n of this.behaviourNow.networks) this.improvResult(rpc.command, [n.ssid, String(n.rssi), n.pass === undefined ? 'NO' : 'YES']);
        return this.improvResult(rpc.command, []);
      case ImprovCommand.wifiSettings: {
        const strings = decodeStrings(rpc.payload);
        if (!strings || strings.length < 1 || !strings[0]) return this.improvSend(ImprovType.errorState, [ImprovError.invalidRpc]);
        const [ssid, pass = ''] = strings as [string, string?];
        this.improvState = ImprovState.provisioning;
        this.improvSend(ImprovType.currentState, [ImprovState.provisioning]);
        const boot = this.bootCount;
        setTimeout(() => {
          if (boot !== this.bootCount || this.stateNow.kind !== 'running') return;
          if (!this.findNetwork(ssid, pass)) {
            this.improvState = ImprovState.ready;
            this.improvSend(ImprovType.errorState, [ImprovError.unableToConnect]);
            this.improvSend(ImprovType.currentState, [ImprovState.ready]);
            return;
          }
          this.wifi = { ssid, pass };
          this.wifiConnected = true;
          this.improvState = ImprovState.provisioned;
          this.improvSend(ImprovType.currentState, [ImprovState.provisioned]);
          this.improvResult(rpc.command, []);
          if (!this.cloudOnlineWith) this.scheduleCloudConnect();
        }, this.behaviourNow.wifiJoinMs);
        return;
      }
      default:
        return this.improvSend(ImprovType.errorState, [ImprovError.unknownRpc]);
    }
  }

  private selfTest(nonce: string): void {
    const failure = this.behaviourNow.failure;
    switch (failure) {
      case 'silent':
        return;
      case 'garbage':
        for (let i = 0; i < 3; i++) this.ctx.print(Buffer.from(randomBytes(40).map((b) => (b === 0x0a ? 0x0b : b))).toString('latin1') + '\n');
        return;
      case 'flood':
        // ~96 KB of log lines at once: more than any self-test answer may take.
        for (let i = 0; i < 1200; i++) this.log('I', 'sensor', `sample ${i} ${'x'.repeat(60)}`);
        return;
      case 'reboot-loop':
        this.println('abort() was called at PC 0x400d2f1b on core 1');
        this.println('Rebooting...');
        this.ctx.restart();
        return;
      default:
        break;
    }
    const checks: SelfTestCheckLine[] = [];
    if (!NONCE_PATTERN.test(nonce)) {
      checks.push({ check: 'nonce', ok: false, reason: `nonce must be ${SELFTEST_NONCE_HEX_CHARS} lowercase hex characters` });
    } else if (this.token === undefined) {
      checks.push({ check: 'token', ok: false, reason: `no AuthToken in NVS (namespace "${TOKEN_NAMESPACE}", key "${TOKEN_KEY}")` });
    } else if (!AUTH_TOKEN_PATTERN.test(this.token)) {
      checks.push({ check: 'token', ok: false, reason: 'the AuthToken in NVS is not 32 characters of [-_a-zA-Z0-9]' });
    } else {
      const key = failure === 'wrong-token' ? `${this.token.slice(1)}X` : this.token;
      const proof = createHmac('sha256', Buffer.from(key, 'utf8')).update(Buffer.from(nonce, 'ascii')).digest('hex');
      checks.push({ check: 'token', ok: true, proof });
    }
    const state = this.stateNow;
    checks.push({ check: 'fw', ok: true, value: state.kind === 'running' ? state.firmwareVersion : this.ctx.config.firmwareVersion });
    if (this.appMd5) checks.push({ check: 'app_md5', ok: true, value: this.appMd5 });
    if (this.elfSha256) checks.push({ check: 'elf_sha256', ok: true, value: this.elfSha256 });
    const b = this.behaviourNow;
    checks.push({ check: 'heap', ok: true, value: b.heapFree });
    checks.push({ check: 'wifi', ok: true, value: b.networks.length });
    for (const [name, result] of Object.entries(b.peripherals)) {
      checks.push(result === true ? { check: `periph:${name}`, ok: true } : { check: `periph:${name}`, ok: false, reason: result });
    }
    if (failure === 'leak-token' && this.token) {
      this.edgent(`debug: connecting with auth=${this.token}`);
      checks.push({ check: 'cloud', ok: false, reason: `login refused for ${this.token}` });
    }
    if (failure === 'stall') {
      this.println(JSON.stringify(checks[0]));
      return;
    }
    for (const check of checks) this.println(JSON.stringify(check));
    const summary: SelfTestSummaryLine = { selftest: 'done', ok: checks.every((c) => c.ok), checks: checks.length };
    this.println(JSON.stringify(summary));
  }

  private devinfo(): Record<string, string> {
    const { config } = this.ctx;
    const state = this.stateNow;
    return {
      name: config.deviceName,
      board: config.boardName,
      tmpl_id: config.templateId,
      fw_type: config.firmwareType,
      fw_ver: state.kind === 'running' ? state.firmwareVersion : config.firmwareVersion,
      build: 'Nov 22 2026 12:00:00',
      blynk: '1.3.2',
      mac: formatMac(this.ctx.identity.mac),
    };
  }

  private halt(stage: 'rom' | 'bootloader', reason: string): void {
    this.stateNow = { kind: 'halted', stage, reason };
  }

  private println(text: string): void {
    // Arduino's Serial.println and ESP-IDF's console both end lines in CR LF.
    this.ctx.print(`${text}\r\n`);
  }

  private log(level: 'I' | 'W' | 'E', tag: string, text: string): void {
    this.clockMs += 4;
    this.println(`${level} (${this.clockMs}) ${tag}: ${text}`);
  }

  private edgent(text: string): void {
    this.clockMs += 11;
    this.println(`[${this.clockMs}] ${text}`);
  }
}
