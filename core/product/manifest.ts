/**
 * Product manifests (`resources/products/<id>.json`): what a product's boards get, per chip family.
 *
 * The file is an ESP Web Tools manifest (`name`, `version`, `builds: [{ chipFamily, parts: [{ path,
 * offset }] }]`, part paths relative to the manifest, offsets as numbers), so the same file can
 * drive a browser installer. Flashline's own fields sit under `flashline` keys, which ESP Web Tools
 * ignores: at the top the product id, cloud host, QR template, label stock and test plan; in each
 * build the partition table, the token payload, and the flash settings.
 *
 * Loading reads every part and checks that the manifest tells the truth before a board is touched:
 * parts on 4 KB sectors, not overlapping (as erased sectors), inside the flash; the bootloader and
 * app images valid for the chip, the app inside its partition; the flash settings equal to the
 * bootloader header's; the partition table valid and, for NVS payloads, holding the NVS partition
 * clear of every part. Finally the token payload is built once with a dummy token, so a payload that
 * cannot fit fails here and not at the first board.
 *
 * What the station engine gets per chip family is a `ProductBuild`: the shared firmware regions,
 * `buildTokenPayload(token)` for the per-board regions, and `fullPlan(token)` for both.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { StationError, stationError } from '../../common/errors.js';
import { selfTestPlanSchema } from '../../common/self-test-plan.js';
import { getLabelStock } from '../labels/label-stock.js';
import { CHIP_FAMILIES, CHIP_IMAGE_FACTS, type ChipFamilyName, flashSizeBytes } from '../payload/chip-families.js';
import { buildEdgentClassicNvsImage } from '../payload/edgent-classic-payload.js';
import { buildEdgentNvsImage } from '../payload/edgent-payload.js';
import { type EspImage, parseEspImage } from '../payload/esp-image.js';
import { findBlnkoptTag, patchFirmwareTag } from '../payload/firmware-tag-patch.js';
import { checkMfgSchema, type MfgConfigRow, mfgTemplateEntries, parseMfgConfigCsv, type TokenValues } from '../payload/mfg-config.js';
import { buildNvsImage } from '../payload/nvs-image.js';
import {
  DEFAULT_NVS_LABEL,
  findBootAppPartition,
  findNvsPartition,
  PARTITION_TABLE_DEFAULT_OFFSET,
  type PartitionEntry,
  parsePartitionTableBinary,
  parsePartitionTableFile,
} from '../payload/partition-table.js';
import type { ProductConfig } from './product.js';

/** Flash is erased and written in 4 KB sectors: parts start on one and own the sectors they touch. */
export const FLASH_SECTOR_SIZE = 0x1000;
const PRODUCTS_DIR = join('resources', 'products');

// ---------------------------------------------------------------------------------------------
// Schema

const offset = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^0x[0-9a-fA-F]+$/, 'offsets are numbers or "0x" hex strings').transform((s) => parseInt(s, 16)),
]);
/** Longest relative path a manifest may name: errors quote it, so a hostile file cannot bloat them. */
const MANIFEST_PATH_CHARS_MAX = 1024;
const relativePath = z.string().min(1).max(MANIFEST_PATH_CHARS_MAX).refine((p) => !p.includes('\0'), 'a path');
const wifiSchema = z.strictObject({ ssid: z.string().min(1).max(32), pass: z.string().max(63).optional() });
const partitionLabel = z.string().min(1).max(16).default(DEFAULT_NVS_LABEL);

const nvsPayloadSchema = z.discriminatedUnion('schema', [
  z.strictObject({
    kind: z.literal('nvs'),
    schema: z.literal('edgent'),
    /** The NVS partition's label (`nvs_flash_init()` opens "nvs"). */
    partition: partitionLabel,
  }),
  z.strictObject({
    kind: z.literal('nvs'),
    schema: z.literal('edgent-classic'),
    partition: partitionLabel,
    port: z.number().int().min(1).max(65535).default(443),
    /** A factory Wi-Fi network; without it classic Edgent keeps the token but starts in config mode. */
    wifi: wifiSchema.optional(),
  }),
  z.strictObject({
    kind: z.literal('nvs'),
    schema: z.literal('mfg'),
    partition: partitionLabel,
    /** An mfg_gen.py config CSV (key,type,encoding), relative to the manifest. */
    config: relativePath,
    /** Per key a template: {token}, {qrToken}, {meta:NAME}, literal text. */
    values: z.record(z.string(), z.string()),
  }),
]);

const tokenPayloadSchema = z.discriminatedUnion('kind', [
  nvsPayloadSchema,
  z.strictObject({
    kind: z.literal('firmware-tag'),
    tag: z.literal('blnkopt').default('blnkopt'),
    /** The part to patch; default: the part at the boot app partition. */
    part: relativePath.optional(),
    port: z.number().int().min(1).max(65535).optional(),
    wifi: wifiSchema.optional(),
  }),
]);

const flashSchema = z.strictObject({
  mode: z.enum(['qio', 'qout', 'dio', 'dout']),
  freq: z.string().regex(/^\d+m$/, 'a frequency like "40m"'),
  size: z.string().regex(/^\d+(KB|MB)$/, 'a size like "4MB"'),
  /** Link speed once the stub runs. */
  baud: z.number().int().min(9600).max(5_000_000),
});

const buildSchema = z.strictObject({
  chipFamily: z.enum(CHIP_FAMILIES),
  parts: z.array(z.strictObject({ path: relativePath, offset })).min(1),
  /** ESP Web Tools: whether to talk Improv after flashing. */
  improv: z.boolean().optional(),
  flashline: z.strictObject({
    partitionTable: z.strictObject({ path: relativePath, offset: offset.default(PARTITION_TABLE_DEFAULT_OFFSET) }),
    tokenPayload: tokenPayloadSchema,
    flash: flashSchema,
  }),
});


export const productManifestSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().min(1),
  version: z.string().min(1),
  // ESP Web Tools options, carried as they are.
  home_assistant_domain: z.string().optional(),
  funding_url: z.string().optional(),
  new_install_prompt_erase: z.boolean().optional(),
  new_install_improv_wait_time: z.number().optional(),
  builds: z.array(buildSchema).min(1),
  flashline: z.strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'product ids are kebab-case'),
    /** Blynk server the boards connect to (Edgent's `host`). */
    cloudHost: z.string().regex(/^[\x21-\x7e]{1,255}$/, 'a host name without spaces'),
    /** Label QR payload; `{qrToken}+{orgId}` is what the Blynk apps accept. */
    qrTemplate: z.string().includes('{qrToken}', { message: 'the QR template must contain {qrToken}' }),
    labelStock: z.string().min(1),
    /** The operator scans each printed label back before its token counts as labelled. */
    scanBack: z.boolean().default(true),
    /** The self-test plan: checks, expected values and limits, timeouts (common/self-test-plan.ts). */
    testPlan: selfTestPlanSchema.prefault({}),
    /**
     * `static` (default): a unique AuthToken flashed into each board at the factory. `dynamic`: one
     * firmware for every unit, no token at the factory; the customer's phone app provisions it
     * (QA runs the Improv + `config erase` flow, core/qa/dynamic-qa.ts).
     */
    tokenKind: z.enum(['static', 'dynamic']).default('static'),
    /**
     * Static tokens: after the self-test the board connects to the cloud with its token, and the
     * station confirms it online and unclaimed before the label (core/qa/cloud-check.ts). `required`:
     * false lets an offline station go on (recorded "skipped: cloud unreachable"); true fails the slot.
     */
    cloudCheck: z
      .strictObject({
        required: z.boolean().default(false),
        timeoutMs: z.number().int().min(500).max(120_000).default(15_000),
      })
      .optional(),
  }),
});

export type ProductManifest = z.infer<typeof productManifestSchema>;
export type TokenPayloadSpec = z.infer<typeof tokenPayloadSchema>;
export type FlashSettings = z.infer<typeof flashSchema> & { sizeBytes: number };

// ---------------------------------------------------------------------------------------------
// What the engine gets

export interface FlashRegion {
  /** "bootloader", "partition-table", "app", "nvs", or the part's file name. */
  name: string;
  address: number;
  data: Uint8Array;
}

export interface TokenInput {
  /** AuthToken (secret). */
  authToken: string;
  qrToken: string;
  /** The batch's metadata columns for this device. */
  metadata?: Readonly<Record<string, string>>;
}

export interface FlashPlan {
  regions: FlashRegion[];
}

export interface ProductBuild {
  chipFamily: ChipFamilyName;
  flash: FlashSettings;
  partitionTableOffset: number;
  partitions: PartitionEntry[];
  /** The NVS partition the payload goes to (nvs kinds), or the one the firmware would open. */
  nvs: { label: string; offset: number; size: number } | undefined;
  /** The app partition the bootloader boots. */
  bootApp: { label: string; offset: number; size: number };
  tokenPayload: TokenPayloadSpec;
  /** Firmware shared by every board (for firmware-tag products, without the app that gets patched). */
  firmwareRegions: FlashRegion[];
  /** The per-board regions: the NVS image, or the patched app. */
  buildTokenPayload(token: TokenInput): FlashPlan;
  /** Firmware and payload together, by address (a payload region replaces the part at its address). */
  fullPlan(token: TokenInput): FlashPlan;
}

export interface LoadedProduct {
  manifestPath: string;
  manifest: ProductManifest;
  id: string;
  name: string;
  version: string;
  cloudHost: string;
  qrTemplate: string;
  labelStockId: string;
  scanBack: boolean;
  testPlan: ProductManifest['flashline']['testPlan'];
  builds: ProductBuild[];
  /** The build for a board's chip; refuses a chip the product has no firmware for. */
  build(chipFamily: string): ProductBuild;
}

export interface LoadManifestOptions {
  /** Reads a file by absolute path (tests); default: the file system. */
  readFile?: (path: string) => Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Loading

function invalid(message: string, details?: Record<string, string | number>): never {
  throw stationError('INVALID_INPUT', message, true, details);
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function defaultReadFile(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** `resources/products/<id>.json`, found by walking up from this module (source tree or build output). */
export function defaultProductManifestPath(id = 'demo-thermostat'): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, PRODUCTS_DIR, `${id}.json`);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw stationError('NOT_FOUND', `The product manifest ${PRODUCTS_DIR}/${id}.json is missing.`, true);
    dir = parent;
  }
}

/** Reads, validates and checks a manifest file (see the file comment for what is checked). */
export function loadProductManifest(manifestPath: string, options: LoadManifestOptions = {}): LoadedProduct {
  const readFile = options.readFile ?? defaultReadFile;
  const path = resolve(manifestPath);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(readFile(path)).toString('utf8'));
  } catch (err) {
    invalid(`The product manifest ${path} is not readable JSON${err instanceof SyntaxError ? ` (${err.message})` : ''}.`);
  }
  return parseProductManifest(json, path, readFile);
}

/** Validates manifest JSON; part paths are relative to `manifestPath`'s folder. */
export function parseProductManifest(json: unknown, manifestPath: string, readFile: (path: string) => Uint8Array = defaultReadFile): LoadedProduct {
  const result = productManifestSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    invalid(`The product manifest ${basename(manifestPath)} is invalid at ${issue.path.join('.') || '(top)'}: ${issue.message}.`);
  }
  const manifest = result.data;
  const meta = manifest.flashline;
  try {
    getLabelStock(meta.labelStock);
  } catch (err) {
    if (err instanceof StationError) invalid(`The product manifest names label stock "${meta.labelStock}", which is not defined.`);
    throw err;
  }
  const seen = new Set<string>();
  for (const b of manifest.builds) {
    if (seen.has(b.chipFamily)) invalid(`The product manifest has two builds for ${b.chipFamily}.`);
    seen.add(b.chipFamily);
  }
  const baseDir = dirname(resolve(manifestPath));
  const builds = manifest.builds.map((b) => loadBuild(b, manifest, baseDir, readFile));
  return {
    manifestPath: resolve(manifestPath),
    manifest,
    id: meta.id,
    name: manifest.name,
    version: manifest.version,
    cloudHost: meta.cloudHost,
    qrTemplate: meta.qrTemplate,
    labelStockId: meta.labelStock,
    scanBack: meta.scanBack,
    testPlan: meta.testPlan,
    builds,
    build(chipFamily: string): ProductBuild {
      const found = builds.find((b) => b.chipFamily === chipFamily);
      if (!found) {
        throw stationError('BOARD_UNSUPPORTED', `This board is an ${chipFamily}; ${manifest.name} has firmware for ${builds.map((x) => x.chipFamily).join(', ')} only.`, true);
      }
      return found;
    },
  };
}

interface LoadedPart {
  path: string;
  address: number;
  data: Uint8Array;
}

function readPart(readFile: (path: string) => Uint8Array, baseDir: string, rel: string, what: string): { path: string; data: Uint8Array } {
  const path = resolve(baseDir, rel);
  let data: Uint8Array;
  try {
    data = readFile(path);
  } catch {
    invalid(`The ${what} "${rel}" named in the product manifest could not be read.`);
  }
  if (data.length === 0) invalid(`The ${what} "${rel}" is empty.`);
  return { path, data };
}

/** The sectors a region owns: from its start to the end of the sector its last byte is in. */
function sectorEnd(address: number, length: number): number {
  return Math.ceil((address + length) / FLASH_SECTOR_SIZE) * FLASH_SECTOR_SIZE;
}

function loadBuild(spec: ProductManifest['builds'][number], manifest: ProductManifest, baseDir: string, readFile: (path: string) => Uint8Array): ProductBuild {
  const chip = spec.chipFamily;
  const facts = CHIP_IMAGE_FACTS[chip];
  const fl = spec.flashline;
  const where = `The ${chip} build`;
  const sizeBytes = flashSizeBytes(fl.flash.size);
  if (sizeBytes === undefined || !Object.values(facts.flashSizes).includes(fl.flash.size)) {
    invalid(`${where} has flash size "${fl.flash.size}", which ${chip} images cannot declare (${Object.values(facts.flashSizes).join(', ')}).`);
  }
  if (!Object.values(facts.flashFrequencies).includes(fl.flash.freq)) {
    invalid(`${where} has flash frequency "${fl.flash.freq}", which ${chip} does not use (${Object.values(facts.flashFrequencies).join(', ')}).`);
  }
  const flash: FlashSettings = { ...fl.flash, sizeBytes };

  // Parts: readable, on sectors, inside the flash, not overlapping.
  const parts: LoadedPart[] = spec.parts.map((p) => {
    const { path, data } = readPart(readFile, baseDir, p.path, 'part');
    if (p.offset % FLASH_SECTOR_SIZE !== 0) invalid(`${where}: part "${p.path}" starts at ${hex(p.offset)}, not on a 4 KB flash sector.`);
    if (p.offset + data.length > sizeBytes) {
      invalid(`${where}: part "${p.path}" (${data.length} bytes at ${hex(p.offset)}) ends beyond the ${fl.flash.size} flash.`);
    }
    return { path, address: p.offset, data };
  });
  const sorted = [...parts].sort((a, b) => a.address - b.address);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.address < sectorEnd(prev.address, prev.data.length)) {
      invalid(`${where}: parts "${basename(prev.path)}" (${hex(prev.address)}-${hex(prev.address + prev.data.length - 1)}) and "${basename(cur.path)}" (at ${hex(cur.address)}) overlap.`);
    }
  }

  // Partition table: parsed from its file; a binary part at its offset must be the same table.
  const tableOffset = fl.partitionTable.offset;
  const tableFile = readPart(readFile, baseDir, fl.partitionTable.path, 'partition table');
  const table = parsePartitionTableFile(tableFile.data, { tableOffset, flashSize: sizeBytes });
  const partitions = table.entries;
  const tablePart = parts.find((p) => p.address === tableOffset);
  if (tablePart) {
    const fromPart = parsePartitionTableBinary(tablePart.data, { tableOffset, flashSize: sizeBytes });
    if (JSON.stringify(fromPart.entries) !== JSON.stringify(partitions)) {
      invalid(`${where}: the part at ${hex(tableOffset)} is not the partition table "${fl.partitionTable.path}" the manifest names.`);
    }
  } else if (parts.some((p) => p.path === tableFile.path)) {
    invalid(`${where}: the partition table part is not at the partition table offset ${hex(tableOffset)}.`);
  }

  // Images: the bootloader (when shipped) and the boot app, valid for this chip, flash settings agreed.
  const bootAppEntry = findBootAppPartition(partitions);
  if (!bootAppEntry) invalid(`${where}: the partition table has no factory or ota_0 app partition to boot.`);
  const bootApp = { label: bootAppEntry.name, offset: bootAppEntry.offset, size: bootAppEntry.size };
  const namer = (p: LoadedPart): string =>
    p.address === facts.bootloaderOffset ? 'bootloader' : p.address === tableOffset ? 'partition-table' : p.address === bootApp.offset ? 'app' : basename(p.path);
  const bootloaderPart = parts.find((p) => p.address === facts.bootloaderOffset);
  if (bootloaderPart) {
    const image = parseEspImage(bootloaderPart.data, { chip, label: `${chip} bootloader "${basename(bootloaderPart.path)}"` });
    checkFlashHeader(image, flash, where, basename(bootloaderPart.path));
    if (bootloaderPart.address + bootloaderPart.data.length > tableOffset) {
      invalid(`${where}: the bootloader runs into the partition table at ${hex(tableOffset)}.`);
    }
  }
  for (const p of parts) {
    const partition = partitions.find((e) => e.offset === p.address && e.type === 0x00);
    if (!partition) continue;
    parseEspImage(p.data, { chip, label: `${chip} app "${basename(p.path)}"` });
    if (p.data.length > partition.size) {
      invalid(`${where}: app "${basename(p.path)}" is ${p.data.length} bytes, larger than its partition "${partition.name}" (${partition.size}).`);
    }
  }

  // Every part outside the partitions' sectors is fine (bootloader, table); one inside must sit in
  // a partition, not across partitions.
  for (const p of parts) {
    if (p.address < tableOffset + FLASH_SECTOR_SIZE) continue;
    const home = partitions.find((e) => p.address >= e.offset && p.address < e.offset + e.size);
    if (!home) invalid(`${where}: part "${basename(p.path)}" at ${hex(p.address)} is in no partition.`);
    if (p.address + p.data.length > home.offset + home.size) {
      invalid(`${where}: part "${basename(p.path)}" at ${hex(p.address)} runs past the end of partition "${home.name}".`);
    }
  }

  const payload = fl.tokenPayload;
  let nvs: ProductBuild['nvs'];
  let patchPart: LoadedPart | undefined;
  let mfgConfig: MfgConfigRow[] | undefined;
  if (payload.kind === 'nvs') {
    const entry = findNvsPartition(partitions, payload.partition);
    if (entry.encrypted) invalid(`${where}: the NVS partition "${entry.name}" is flagged encrypted; Flashline writes plain NVS images.`);
    nvs = { label: entry.name, offset: entry.offset, size: entry.size };
    for (const p of parts) {
      if (p.address < entry.offset + entry.size && entry.offset < sectorEnd(p.address, p.data.length)) {
        invalid(`${where}: part "${basename(p.path)}" overlaps the NVS partition "${entry.name}" (${hex(entry.offset)}-${hex(entry.offset + entry.size - 1)}), where each board's token goes.`);
      }
    }
    if (payload.schema === 'mfg') {
      const configFile = readPart(readFile, baseDir, payload.config, 'mfg config CSV');
      mfgConfig = parseMfgConfigCsv(Buffer.from(configFile.data).toString('utf8'));
      checkMfgSchema(mfgConfig, payload.values);
    }
  } else {
    const nvsEntry = partitions.find((e) => e.name === DEFAULT_NVS_LABEL && e.type === 0x01 && e.subtype === 0x02);
    nvs = nvsEntry ? { label: nvsEntry.name, offset: nvsEntry.offset, size: nvsEntry.size } : undefined;
    if (payload.part !== undefined) {
      const wanted = resolve(baseDir, payload.part);
      patchPart = parts.find((p) => p.path === wanted);
      if (!patchPart) invalid(`${where}: the firmware-tag part "${payload.part}" is not one of the build's parts.`);
    } else {
      patchPart = parts.find((p) => p.address === bootApp.offset);
      if (!patchPart) invalid(`${where}: no part sits at the boot app partition (${hex(bootApp.offset)}) to carry the blnkopt tag.`);
    }
    findBlnkoptTag(patchPart.data);
  }

  const firmwareRegions: FlashRegion[] = sorted.filter((p) => p !== patchPart).map((p) => ({ name: namer(p), address: p.address, data: p.data }));

  const buildTokenPayload = (token: TokenInput): FlashPlan => {
    if (payload.kind === 'firmware-tag') {
      const patched = patchFirmwareTag(
        patchPart!.data,
        {
          auth: token.authToken,
          host: manifest.flashline.cloudHost,
          ...(payload.port !== undefined ? { port: payload.port } : {}),
          ...(payload.wifi ? { ssid: payload.wifi.ssid, ...(payload.wifi.pass !== undefined ? { pass: payload.wifi.pass } : {}) } : {}),
        },
        { chip },
      );
      return { regions: [{ name: namer(patchPart!), address: patchPart!.address, data: patched.image }] };
    }
    const size = nvs!.size;
    let image: Uint8Array;
    if (payload.schema === 'edgent') {
      image = buildEdgentNvsImage({ auth: token.authToken, host: manifest.flashline.cloudHost }, size);
    } else if (payload.schema === 'edgent-classic') {
      image = buildEdgentClassicNvsImage(
        {
          auth: token.authToken,
          host: manifest.flashline.cloudHost,
          port: payload.port,
          firmwareVersion: manifest.version.slice(0, 14),
          ...(payload.wifi ? { ssid: payload.wifi.ssid, ...(payload.wifi.pass !== undefined ? { pass: payload.wifi.pass } : {}) } : {}),
        },
        size,
      );
    } else {
      const values: TokenValues = { authToken: token.authToken, qrToken: token.qrToken, ...(token.metadata ? { metadata: token.metadata } : {}) };
      image = buildNvsImage(mfgTemplateEntries(mfgConfig!, payload.values, values, baseDir), size);
    }
    return { regions: [{ name: 'nvs', address: nvs!.offset, data: image }] };
  };

  const fullPlan = (token: TokenInput): FlashPlan => {
    const payloadRegions = buildTokenPayload(token).regions;
    const regions = [...firmwareRegions.filter((r) => !payloadRegions.some((p) => p.address === r.address)), ...payloadRegions];
    return { regions: regions.sort((a, b) => a.address - b.address) };
  };

  // A dry run with a dummy token (and dummy metadata for every {meta:NAME}), so a payload that
  // cannot fit is found now.
  const metaNames = payload.kind === 'nvs' && payload.schema === 'mfg' ? [...Object.values(payload.values).join('').matchAll(/\{meta:([^}]+)\}/g)].map((m) => m[1]!) : [];
  try {
    buildTokenPayload({ authToken: 'A'.repeat(32), qrToken: `sqr_${'Q'.repeat(32)}`, metadata: Object.fromEntries(metaNames.map((n) => [n, 'x'])) });
  } catch (err) {
    if (err instanceof StationError) invalid(`${where}: the token payload cannot be built: ${err.message}`);
    throw err;
  }

  return {
    chipFamily: chip,
    flash,
    partitionTableOffset: tableOffset,
    partitions,
    nvs,
    bootApp,
    tokenPayload: payload,
    firmwareRegions,
    buildTokenPayload,
    fullPlan,
  };
}

function checkFlashHeader(image: EspImage, flash: FlashSettings, where: string, file: string): void {
  const checks: Array<[string, string | undefined, string]> = [
    ['mode', image.flashModeName, flash.mode],
    ['frequency', image.flashFreqName, flash.freq],
    ['size', image.flashSizeName, flash.size],
  ];
  for (const [what, header, manifest] of checks) {
    if (header !== manifest) {
      invalid(`${where}: the manifest says flash ${what} ${manifest}, but ${file}'s header says ${header ?? 'something unknown'}; make them agree.`);
    }
  }
}

/**
 * The station's ProductConfig for one build of a loaded manifest (what the engine uses today), with
 * the build itself for payloads and plans.
 */
export function productConfigFromManifest(
  product: LoadedProduct,
  ids: { templateId: string; orgId: number; chipFamily?: string },
): ProductConfig & { build: ProductBuild } {
  const build = ids.chipFamily !== undefined ? product.build(ids.chipFamily) : product.builds[0]!;
  const chip = build.chipFamily;
  if (chip !== 'ESP32' && chip !== 'ESP32-S3' && chip !== 'ESP32-C3' && chip !== 'ESP8266') {
    throw stationError('BOARD_UNSUPPORTED', `The station does not drive ${chip} boards yet.`, true);
  }
  if (!build.nvs) throw stationError('INVALID_INPUT', `The ${chip} build has no NVS partition labelled "${DEFAULT_NVS_LABEL}".`, true);
  return {
    id: product.id,
    name: product.name,
    chipFamily: chip,
    templateId: ids.templateId,
    orgId: ids.orgId,
    nvs: { offset: build.nvs.offset, size: build.nvs.size },
    cloudHost: product.cloudHost,
    qrTemplate: product.qrTemplate,
    labelStockId: product.labelStockId,
    flashBaud: build.flash.baud,
    scanBack: product.scanBack,
    tokenKind: product.manifest.flashline.tokenKind,
    build,
  };
}
