import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stationError } from '../../common/errors.js';
import { generateMfgImages } from '../../core/payload/mfg-config.js';
import { readNvsCsvFile } from '../../core/payload/nvs-csv.js';
import { buildNvsImage } from '../../core/payload/nvs-image.js';
import { pyIntBase0Number } from '../../core/payload/python-int.js';
import type { CliCommand, CliIo } from './command.js';

/** Images and per-device CSVs can hold AuthTokens: readable by the owner only. */
const SECRET_FILE_MODE = 0o600;

function usageError(io: CliIo, message: string, usage: string): number {
  io.err(`${message}\n\nUsage: ${usage}\n`);
  return 2;
}

/** SIZE as `nvs_partition_gen.py` reads it: Python `int(size, 0)`, a multiple of 4096. */
function parseSize(text: string): number {
  const size = pyIntBase0Number(text);
  if (size === undefined || size <= 0) throw stationError('INVALID_INPUT', `The partition size "${text}" is not a number (give bytes, decimal or 0x hex).`, true);
  if (size % 4096 !== 0) throw stationError('INVALID_INPUT', 'The size of an NVS partition must be a multiple of 4096.', true);
  return size;
}

function readText(path: string, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(path));
  } catch {
    throw stationError('INVALID_INPUT', `The ${what} "${path}" could not be read as UTF-8 text.`, true);
  }
}

/** `nvs_partition_gen.py` puts a relative output under --outdir (default: the working directory). */
function outputPath(outdir: string | undefined, file: string): string {
  return isAbsolute(file) || outdir === undefined ? resolve(file) : resolve(outdir, file);
}

const GENERATE_USAGE = `flashline nvs generate INPUT.csv OUTPUT.bin SIZE [--outdir DIR]
  INPUT.csv   ESP-IDF NVS CSV (key,type,encoding,value), as nvs_partition_gen.py takes it;
              file rows are read relative to the CSV's folder
  OUTPUT.bin  the NVS partition image (relative paths land in --outdir)
  SIZE        partition size in bytes, decimal or 0x hex, a multiple of 4096 (at least 0x3000)
  --version 2 multi-page blobs (the only format written; version 1 is refused)`;

async function runGenerate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { outdir: { type: 'string' }, version: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 3) return usageError(io, `nvs generate takes INPUT.csv OUTPUT.bin SIZE (${positionals.length} given).`, GENERATE_USAGE);
  if (values.version !== undefined && values.version !== '2') {
    return usageError(io, 'Only NVS format version 2 (multi-page blobs) is written.', GENERATE_USAGE);
  }
  const [input, output, sizeText] = positionals as [string, string, string];
  const size = parseSize(sizeText);
  const entries = readNvsCsvFile(input);
  const image = buildNvsImage(entries, size);
  const target = outputPath(values.outdir, output);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, image, { mode: SECRET_FILE_MODE });
  io.out(`Created NVS image ${target} (${size} bytes, ${entries.filter((e) => e.type !== 'namespace').length} keys).\n`);
  return 0;
}

const MFG_USAGE = `flashline nvs mfg CONFIG.csv VALUES.csv PREFIX SIZE [--outdir DIR] [--fileid KEY] [--prefix_num START DIGITS]
  CONFIG.csv  mfg_gen.py config: key,type,encoding[,REPEAT] rows, namespaces first
  VALUES.csv  header of keys, then one row per device (file values relative to this CSV's folder)
  PREFIX      output names: PREFIX-ID.bin (ID = --fileid column, else 1, 2, 3...)
  SIZE        partition size in bytes, decimal or 0x hex, a multiple of 4096
  --outdir DIR                 where csv/ and bin/ are created (default: the working directory)
  --fileid KEY                 the values column that names each file
  --prefix_num START DIGITS    a zero-padded counter after PREFIX: PREFIX-0001-ID.bin
Writes DIR/csv/NAME.csv (the device's NVS CSV) and DIR/bin/NAME.bin, like ESP-IDF's mfg_gen.py;
both hold the device's values (AuthTokens too), so they are created readable by you only.`;

async function runMfg(argv: string[], io: CliIo): Promise<number> {
  // `--prefix_num START DIGITS` takes two values, which parseArgs cannot express.
  const args = [...argv];
  let prefixNum: { start: number; digits: number } | undefined;
  const at = args.findIndex((a) => a === '--prefix_num' || a === '--prefix-num');
  if (at >= 0) {
    const [start, digits] = [args[at + 1], args[at + 2]].map((v) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : NaN));
    if (!Number.isInteger(start) || !Number.isInteger(digits)) return usageError(io, '--prefix_num takes two whole numbers: START and DIGITS.', MFG_USAGE);
    prefixNum = { start: start!, digits: digits! };
    args.splice(at, 3);
  }
  const { values, positionals } = parseArgs({
    args,
    options: { outdir: { type: 'string' }, fileid: { type: 'string' }, version: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 4) return usageError(io, `nvs mfg takes CONFIG.csv VALUES.csv PREFIX SIZE (${positionals.length} given).`, MFG_USAGE);
  if (values.version !== undefined && values.version !== '2') return usageError(io, 'Only NVS format version 2 (multi-page blobs) is written.', MFG_USAGE);
  const [configPath, valuesPath, prefix, sizeText] = positionals as [string, string, string, string];
  for (const [path, what] of [
    [configPath, 'config'],
    [valuesPath, 'values'],
  ] as const) {
    if (extname(path) !== '.csv') return usageError(io, `The ${what} file must have the .csv extension (as mfg_gen.py requires).`, MFG_USAGE);
  }
  if (basename(prefix) !== prefix || prefix === '' || prefix === '.' || prefix === '..') {
    return usageError(io, 'PREFIX is a file name prefix, not a path.', MFG_USAGE);
  }
  const size = parseSize(sizeText);
  const devices = generateMfgImages(readText(configPath, 'config CSV'), readText(valuesPath, 'values CSV'), prefix, size, {
    ...(values.fileid !== undefined ? { fileid: values.fileid } : {}),
    ...(prefixNum ? { prefixNum } : {}),
    baseDir: dirname(resolve(valuesPath)),
  });
  const outdir = resolve(values.outdir ?? '.');
  const csvDir = join(outdir, 'csv');
  const binDir = join(outdir, 'bin');
  // Like mfg_gen.py, never overwrite; unlike it, check every name before writing any file.
  for (const d of devices) {
    for (const path of [join(csvDir, `${d.name}.csv`), join(binDir, `${d.name}.bin`)]) {
      if (existsSync(path)) throw stationError('INVALID_INPUT', `${path} already exists; choose another --outdir or PREFIX.`, true);
    }
  }
  mkdirSync(csvDir, { recursive: true });
  mkdirSync(binDir, { recursive: true });
  for (const d of devices) {
    writeFileSync(join(csvDir, `${d.name}.csv`), d.csv, { mode: SECRET_FILE_MODE, flag: 'wx' });
    writeFileSync(join(binDir, `${d.name}.bin`), d.image, { mode: SECRET_FILE_MODE, flag: 'wx' });
  }
  io.out(`Created ${devices.length} NVS images (${size} bytes each) in ${binDir}: ${devices.map((d) => `${d.name}.bin`).join(', ')}.\n`);
  return 0;
}

export const nvsGenerateCommand: CliCommand = {
  name: 'nvs generate',
  usage: GENERATE_USAGE,
  summary: 'Build an NVS partition image from ESP-IDF NVS CSV (as nvs_partition_gen.py generate)',
  run: runGenerate,
};

export const nvsMfgCommand: CliCommand = {
  name: 'nvs mfg',
  usage: MFG_USAGE,
  summary: 'Build one NVS image per device from mass-manufacturing CSVs (as ESP-IDF mfg_gen.py generate)',
  run: runMfg,
};
