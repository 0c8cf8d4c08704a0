import { createHmac } from 'node:crypto';
import { SELFTEST_COMMAND, SELFTEST_NONCE_HEX_CHARS } from '../../common/self-test-protocol.js';
import type { SelfTestCheckLine, SelfTestSummaryLine } from '../../common/self-test-protocol.js';
import { checkImage, type AppDescription } from './app-image.js';
import type { ChipIdentity, ChipProfile } from './chip-profiles.js';
import { formatMac } from './chip-profiles.js';
import type { FlashMemory } from './flash-memory.js';
import { findNvsString } from './nvs-reader.js';
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
 * `selftest <nonce>` (common/self-test-protocol.ts) and Edgent's `devinfo`.
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

  constructor(private readonly ctx: AppBootContext) {}

  get state(): AppState {
    return this.stateNow;
  }

  /** Run the flash boot path: ROM stage, bootloader stage, app start. */
  boot(): void {
    this.token = undefined;
    this.line = '';
    this.clockMs = 27;
    const { flash, profile } = this.ctx;
    // ROM stage: load and check the second-stage bootloader.
    const bootloader = checkImage(flash.read(profile.bootloaderOffset, 0x7000), profile.imageChipId);
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
    const app = checkImage(flash.read(appPart.offset, appSize), profile.imageChipId);
    if (!app.ok) {
      this.log('E', 'esp_image', `${app.reason} (app at 0x${appPart.offset.toString(16)})`);
      this.log('E', 'boot', 'No bootable app partitions in the partition table');
      this.halt('bootloader', `app image: ${app.reason}`);
      return;
    }
    this.log('I', 'boot', `Loaded app from partition at offset 0x${appPart.offset.toString(16)}`);

    // App stage.
    const desc: AppDescription | undefined = app.app;
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
    this.edgent('Console ready');
  }

  /** Bytes from the host at the console baud. */
  input(bytes: Uint8Array): void {
    if (this.stateNow.kind !== 'running') return;
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
      default:
        this.println(`Command not found: ${name}`);
    }
  }

  private selfTest(nonce: string): void {
    const checks: SelfTestCheckLine[] = [];
    if (!NONCE_PATTERN.test(nonce)) {
      checks.push({ check: 'nonce', ok: false, reason: `nonce must be ${SELFTEST_NONCE_HEX_CHARS} lowercase hex characters` });
    } else if (this.token === undefined) {
      checks.push({ check: 'token', ok: false, reason: `no AuthToken in NVS (namespace "${TOKEN_NAMESPACE}", key "${TOKEN_KEY}")` });
    } else if (!AUTH_TOKEN_PATTERN.test(this.token)) {
      checks.push({ check: 'token', ok: false, reason: 'the AuthToken in NVS is not 32 characters of [-_a-zA-Z0-9]' });
    } else {
      const proof = createHmac('sha256', Buffer.from(this.token, 'utf8')).update(Buffer.from(nonce, 'ascii')).digest('hex');
      checks.push({ check: 'token', ok: true, proof });
    }
    const state = this.stateNow;
    checks.push({ check: 'fw', ok: true, value: state.kind === 'running' ? state.firmwareVersion : this.ctx.config.firmwareVersion });
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
