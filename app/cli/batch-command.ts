import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stationError } from '../../common/errors.js';
import { defaultDataDir } from '../../core/app/data-dir.js';
import { exportBatchZip, importBatchZip } from '../../core/batches/batch-store.js';
import { openStationDatabase, type StationDatabase } from '../../core/db/open-database.js';
import { stationKeyBeside } from '../../core/secrets/station-key.js';
import type { CliCommand, CliIo } from './command.js';

/** The station database inside a data folder (the same file the embedded station opens). */
const DATABASE_FILE = 'station.db';
/** A token zip bigger than this is not an export (100,000 tokens are ~100 MB with their PNGs). */
const MAX_IMPORT_FILE_BYTES = 256 * 1024 * 1024;

const DATA_DIR_HELP = '  --data-dir DIR     station data folder (default: the user-data folder, or FLASHLINE_DATA_DIR)';

function openExisting(dataDir: string): StationDatabase {
  const path = join(dataDir, DATABASE_FILE);
  // Opening would create an empty database; for these commands a missing one is a wrong folder.
  if (!existsSync(path)) throw stationError('NOT_FOUND', `There is no station database in ${dataDir}; check --data-dir.`, true);
  return openStationDatabase(path, { keySource: stationKeyBeside(path) });
}

/** Written beside the target, fsynced, renamed: a crash never leaves half an export; mode 0600 (secrets). */
function writeSecretFile(path: string, data: Buffer): void {
  const tmp = `${path}.part`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

async function runExport(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { 'data-dir': { type: 'string' }, batch: { type: 'string' }, force: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (!values.batch || positionals.length !== 1) {
    io.err(`Give the batch and one output file.\n\nUsage: ${batchExportCommand.usage}\n`);
    return 2;
  }
  const out = resolve(positionals[0]!);
  if (existsSync(out) && !values.force) {
    io.err(`${out} exists already; pass --force to replace it.\n`);
    return 1;
  }
  const db = openExisting(values['data-dir'] ?? defaultDataDir());
  try {
    const { zip, tokens } = await exportBatchZip(db, values.batch);
    writeSecretFile(out, zip);
    io.out(`Exported ${tokens} tokens of batch ${values.batch} to ${out} (${zip.length} bytes). The file holds AuthTokens: keep it private.\n`);
    return 0;
  } finally {
    db.close();
  }
}

async function runImport(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { 'data-dir': { type: 'string' }, 'org-id': { type: 'string' }, 'template-id': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) {
    io.err(`Give one zip file to import.\n\nUsage: ${batchImportCommand.usage}\n`);
    return 2;
  }
  const file = resolve(positionals[0]!);
  if (!existsSync(file)) throw stationError('NOT_FOUND', `There is no file ${file}.`, true);
  const size = statSync(file).size;
  if (size > MAX_IMPORT_FILE_BYTES) throw stationError('INVALID_INPUT', `${file} is ${size} bytes; a token export is at most ${MAX_IMPORT_FILE_BYTES}.`, true);
  let orgId: number | undefined;
  if (values['org-id'] !== undefined) {
    orgId = Number(values['org-id']);
    if (!/^[1-9][0-9]{0,15}$/.test(values['org-id'])) {
      io.err('--org-id must be a positive whole number.\n');
      return 2;
    }
  }
  const zip = readFileSync(file);
  const db = openExisting(values['data-dir'] ?? defaultDataDir());
  try {
    const result = importBatchZip(db, zip, {
      ...(orgId !== undefined ? { orgId } : {}),
      ...(values['template-id'] !== undefined ? { templateId: values['template-id'] } : {}),
      source: basename(file),
    });
    if (result.alreadyImported) {
      io.out(`${basename(file)} was imported before as batch ${result.batchId}; nothing added.\n`);
    } else {
      io.out(`Imported ${result.imported} tokens as batch ${result.batchId} (organisation ${result.orgId}, template ${result.templateId}).\n`);
    }
    if (result.ignoredColumns.length > 0) io.out(`Ignored columns: ${result.ignoredColumns.join(', ')}.\n`);
    return 0;
  } finally {
    db.close();
  }
}

export const batchExportCommand: CliCommand = {
  name: 'batch export',
  usage: `flashline batch export --batch ID [--data-dir DIR] [--force] OUT.zip
  --batch ID         the batch to export (every token, with its state at this station)
${DATA_DIR_HELP}
  --force            replace OUT.zip if it exists
Writes Blynk's export shape: static-tokens.csv and qr/<AuthToken>.png. The file holds secrets.`,
  summary: "Export a batch as a zip in Blynk's console shape (CSV of tokens + QR PNGs)",
  run: runExport,
};

export const batchImportCommand: CliCommand = {
  name: 'batch import',
  usage: `flashline batch import [--data-dir DIR] [--org-id N] [--template-id T] IN.zip
${DATA_DIR_HELP}
  --org-id N         organisation id, when the CSV has no Organization ID column
  --template-id T    template id, when the CSV has no Template ID column
Adds the zip's tokens to the queue as one batch, all or nothing; importing the same tokens again adds nothing.`,
  summary: "Import a token zip in Blynk's console shape as a new batch",
  run: runImport,
};
