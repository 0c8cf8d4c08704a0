import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CHIP_FAMILIES, formatMac, parseChipFamily, parseMac } from '../../native/sim/chip-profiles.js';
import { hostBoardOnPty, type PtyHost } from '../../native/sim/pty-host.js';
import { VirtualBoard, type BoardFaults, type VirtualBoardOptions } from '../../native/sim/virtual-board.js';
import type { CliCommand, CliIo } from './command.js';

/**
 * `flashline sim`: one virtual board on a pseudo-terminal, waiting in its ROM bootloader, for any
 * serial client (esptool.py, esptool-js over serialport, a terminal). A pty carries no DTR/RTS, so
 * no client can reset the board: it powers up with GPIO0 strapped low (download mode) and a SYNC
 * request always reaches the ROM loader, whatever ran before (the app after a "run user code", the
 * stub of a previous client, a loader left at 921600 baud): the board restarts its ROM at the
 * client's baud rate as esptool's reset would have. docs/simulator.md has the esptool.py session.
 */
const USAGE = `flashline sim [options]
  Runs a virtual board on a pseudo-terminal and prints the terminal's path (first line of output).
  The board waits in its ROM bootloader; every SYNC reaches the ROM, so clients need no reset:
  use esptool with --before no_reset --after no_reset. Stop with Ctrl+C.
  --chip CHIP            ${CHIP_FAMILIES.map((f) => f.toLowerCase().replace('-', '')).join(', ')} (default esp32)
  --flash-size SIZE      256KB … 16MB (default 4MB)
  --mac MAC              aa:bb:cc:dd:ee:ff (default: an Espressif OUI and 3 random bytes)
  --firmware-version V   version of the factory app image (default 1.0.0)
  --throttle             move bytes no faster than the UART's baud rate
  --known-stub-only      run only esptool-js's flasher stub (others hang, as unknown code would)
  --fault SPEC           inject a fault; repeatable:
                           drop-every=N          every Nth byte from the host is lost
                           corrupt-block=SEQ[:wire|:flash][:times=N]
                                                 corrupt flash data block SEQ on the wire
                                                 (checksum catches it) or in flash (MD5 does)
                           unplug-after=BYTES    the cable is pulled after BYTES more host bytes
                           brownout-after=BYTES  brown-out reset after BYTES more host bytes
                           silent                the board's TX is dead
                           garbage=P[:MAX]       noise bytes before a transmission, probability P
  --seed N               seed for generated MAC and noise (reproducible runs)`;

const FLASH_SIZES: Readonly<Record<string, number>> = {
  '256KB': 256 * 1024,
  '512KB': 512 * 1024,
  '1MB': 1 << 20,
  '2MB': 2 << 20,
  '4MB': 4 << 20,
  '8MB': 8 << 20,
  '16MB': 16 << 20,
};

const wholeNumber = z.coerce.number().int().positive();

/** One `--fault` value -> the board's fault hooks. */
const faultSpec = z.string().transform((spec, ctx): BoardFaults => {
  const [name, ...rest] = spec.split('=');
  const value = rest.join('=');
  const issue = (message: string) => {
    ctx.addIssue({ code: 'custom', message: `--fault ${spec}: ${message}` });
    return z.NEVER;
  };
  switch (name) {
    case 'drop-every': {
      const n = wholeNumber.min(2).safeParse(value);
      return n.success ? { dropEveryNthByte: n.data } : issue('expected drop-every=N with N >= 2');
    }
    case 'corrupt-block': {
      const [seqText, ...parts] = value.split(':');
      const seq = z.coerce.number().int().min(0).safeParse(seqText);
      if (!seqText || !seq.success) return issue('expected corrupt-block=SEQ[:wire|:flash][:times=N]');
      let point: 'wire' | 'flash' = 'wire';
      let times = 1;
      for (const part of parts) {
        if (part === 'wire' || part === 'flash') point = part;
        else if (part.startsWith('times=') && wholeNumber.safeParse(part.slice(6)).success) times = Number(part.slice(6));
        else return issue(`unknown part "${part}"`);
      }
      return { corruptBlock: { seq: seq.data, point, times } };
    }
    case 'unplug-after':
    case 'brownout-after': {
      const n = wholeNumber.safeParse(value);
      if (!n.success) return issue(`expected ${name}=BYTES`);
      return name === 'unplug-after' ? { unplugAfterBytes: n.data } : { brownOutAfterBytes: n.data };
    }
    case 'silent':
      return value ? issue('takes no value') : { silent: true };
    case 'garbage': {
      const [p, max] = value.split(':');
      const probability = z.coerce.number().gt(0).max(1).safeParse(p);
      const maxBytes = max === undefined ? undefined : wholeNumber.max(4096).safeParse(max);
      if (!p || !probability.success || (maxBytes && !maxBytes.success)) return issue('expected garbage=P[:MAX] with 0 < P <= 1');
      return { garbage: { probability: probability.data, ...(maxBytes?.success ? { maxBytes: maxBytes.data } : {}) } };
    }
    default:
      return issue('unknown fault (drop-every, corrupt-block, unplug-after, brownout-after, silent, garbage)');
  }
});

const simOptionsSchema = z.object({
  chip: z
    .string()
    .default('esp32')
    .transform((text, ctx) => parseChipFamily(text) ?? (ctx.addIssue({ code: 'custom', message: `--chip ${text}: not one of ${CHIP_FAMILIES.join(', ')}` }), z.NEVER)),
  'flash-size': z
    .string()
    .default('4MB')
    .transform((text, ctx) => FLASH_SIZES[text.toUpperCase()] ?? (ctx.addIssue({ code: 'custom', message: `--flash-size ${text}: one of ${Object.keys(FLASH_SIZES).join(', ')}` }), z.NEVER)),
  mac: z
    .string()
    .optional()
    .refine((text) => text === undefined || /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(text), { message: '--mac: expected aa:bb:cc:dd:ee:ff' }),
  'firmware-version': z.string().min(1).max(31).default('1.0.0'),
  throttle: z.boolean().default(false),
  'known-stub-only': z.boolean().default(false),
  fault: z.array(faultSpec).default([]),
  seed: z.coerce.number().int().min(0).optional(),
});

/** Board options from the command line (validated). */
export function simBoardOptions(args: string[]): VirtualBoardOptions {
  const { values } = parseArgs({
    args,
    options: {
      chip: { type: 'string' },
      'flash-size': { type: 'string' },
      mac: { type: 'string' },
      'firmware-version': { type: 'string' },
      throttle: { type: 'boolean' },
      'known-stub-only': { type: 'boolean' },
      fault: { type: 'string', multiple: true },
      seed: { type: 'string' },
    },
    strict: true,
  });
  const parsed = simOptionsSchema.safeParse(values);
  if (!parsed.success) throw new SimUsageError(parsed.error.issues.map((i) => i.message).join('\n'));
  const o = parsed.data;
  return {
    chip: o.chip,
    flashSizeBytes: o['flash-size'],
    ...(o.mac ? { mac: formatMac(parseMac(o.mac)) } : {}),
    firmwareVersion: o['firmware-version'],
    throttle: o.throttle,
    faults: Object.assign({}, ...o.fault) as BoardFaults,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    // What a client that cannot reset the board needs (see the module comment).
    strapDownload: true,
    syncResetsToRom: true,
    stubPolicy: o['known-stub-only'] ? 'known' : 'any',
  };
}

export class SimUsageError extends Error {}

export interface RunningSim {
  board: VirtualBoard;
  pty: PtyHost;
  close(): Promise<void>;
}

/** Start the board on a pty and report what happens to it on `io`. */
export async function startSim(options: VirtualBoardOptions, io: CliIo): Promise<RunningSim> {
  const board = new VirtualBoard(options);
  const say = (line: string) => io.out(`${new Date().toISOString()} ${line}\n`);
  let pty: PtyHost;
  try {
    pty = await hostBoardOnPty(board);
  } catch (err) {
    board.dispose();
    throw err;
  }
  io.out(`${pty.path}\n`);
  const sizeMb = board.flash.size / (1 << 20);
  const size = sizeMb >= 1 ? `${sizeMb} MB` : `${board.flash.size / 1024} KB`;
  say(`virtual ${board.profile.family} (MAC ${formatMac(board.macAddress)}, ${size} flash) waiting in its ROM bootloader on ${pty.path}`);
  const faults = Object.keys(options.faults ?? {});
  if (faults.length > 0) say(`faults armed: ${faults.join(', ')}`);
  board.on('mode', (mode) => say(`mode: ${mode}`));
  board.on('loader', (kind) => say(`loader: ${kind}`));
  board.on('sync-reset', () => say('SYNC received: restarted the ROM loader (as a reset into download mode would)'));
  board.on('unknown-stub', (entry) => say(`ran the image uploaded to RAM as the flasher stub (entry 0x${entry.toString(16)}; not esptool-js's)`));
  board.on('unplug', () => say('fault: cable pulled (the board is off; restart flashline sim)'));
  board.on('internal-error', (err) => say(`internal error: ${String(err)}`));
  return {
    board,
    pty,
    close: async () => {
      await pty.close();
      board.dispose();
    },
  };
}

async function runSim(args: string[], io: CliIo): Promise<number> {
  let options: VirtualBoardOptions;
  try {
    options = simBoardOptions(args);
  } catch (err) {
    if (!(err instanceof SimUsageError)) throw err;
    io.err(`${err.message}\n\nUsage: ${USAGE}\n`);
    return 2;
  }
  const sim = await startSim(options, io);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.close();
  return 0;
}

export const simCommand: CliCommand = {
  name: 'sim',
  usage: USAGE,
  summary: 'Run a virtual ESP32/S3/C3/ESP8266 board on a pseudo-terminal, waiting in its bootloader (esptool.py can flash it)',
  run: runSim,
};
