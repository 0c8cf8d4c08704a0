import { z } from 'zod';
import { ERROR_CODES, type StationErrorData } from '../common/errors.js';
import type { StationEvent } from '../common/api.js';

/**
 * The station host protocol: how a parent process (the Electron main process, or plain Node in
 * tests) drives the station core running in a child process (an Electron utility process, or a
 * `child_process.fork` child). The transport is anything that carries structured-clone messages in
 * order (`process.parentPort` / `UtilityProcess.postMessage`, or Node's IPC channel with
 * `serialization: 'advanced'`); nothing here imports `electron`.
 *
 * Order of a run:
 *   parent → host  start {options, secrets}      exactly once, first; secrets only ever travel here
 *   host → parent  ready {...} | fatal {error}   fatal is also sent for a crash at any later time
 *   parent → host  call {id, name, args}         any number, concurrently; ids chosen by the parent
 *   host → parent  result {id, ok, ...}          one per call, in any order
 *   host → parent  event {event}                 station events, in the core's order
 *   parent → host  ping {seq}                    every HOST_HEARTBEAT_INTERVAL_MS while running
 *   host → parent  pong {seq}                    no pong for HOST_HEARTBEAT_TIMEOUT_MS: the
 *                                                parent kills the host as hung (a blocked event
 *                                                loop would otherwise leave every call hanging)
 *   parent → host  shutdown                      the core closes its database and ports
 *   host → parent  closed                        then the host exits with code 0
 * Every message is checked against the schemas below on arrival. A message that does not match is
 * dropped and reported WITHOUT its content: a start message carries the station key.
 */
export const HOST_PROTOCOL_VERSION = 1;

/** File name of the bundled host entry beside dist/electron/main.js (scripts/build-electron.ts). */
export const STATION_HOST_BUNDLE = 'station-host.js';

/** The parent waits this long (ms) for `ready` after `start` (first start pulls a batch of tokens). */
export const HOST_START_TIMEOUT_MS = 60_000;
/** The parent waits this long (ms) for `closed` + exit after `shutdown`, then kills the host. */
export const HOST_SHUTDOWN_TIMEOUT_MS = 10_000;
/** The parent pings a running host this often (ms). */
export const HOST_HEARTBEAT_INTERVAL_MS = 5_000;
/**
 * A host that has not answered a ping for this long (ms) is hung and is killed. Far above anything
 * the core does synchronously (a label sheet PDF renders in ~100 ms, a batch import in < 1 s).
 */
export const HOST_HEARTBEAT_TIMEOUT_MS = 30_000;

const errorDataSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  operatorFault: z.boolean(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});

/** The JSON-safe part of EmbeddedStationOptions the parent may choose. */
export const hostStartOptionsSchema = z
  .object({
    dataDir: z.string().min(1),
    slots: z.number().int().min(1).max(8).optional(),
    virtualBoards: z.number().int().min(0).max(8).optional(),
    hardware: z.enum(['virtual', 'usb']).optional(),
    boardTransport: z.enum(['in-process', 'pty']).optional(),
    autoRun: z.boolean().optional(),
    productId: z.string().min(1).optional(),
    plan: z.enum(['token-only', 'full']).optional(),
    printer: z.string().min(1).optional(),
    batchSize: z.number().int().positive().optional(),
  })
  .strict();
export type HostStartOptions = z.infer<typeof hostStartOptionsSchema>;

const STATION_KEY_BASE64_LENGTH = 44; // 32 bytes in base64 with padding

/**
 * Secrets the parent holds (Electron: decrypted with safeStorage, which only the main process has).
 * Without them the host uses the plain-Node files in the data folder (0600 key file).
 */
export const hostSecretsSchema = z
  .object({
    /** The 32-byte station master key, base64. */
    stationKey: z.string().length(STATION_KEY_BASE64_LENGTH).regex(/^[A-Za-z0-9+/]+={0,2}$/),
    /** The embedded cloud's API client credentials. */
    cloudCredentials: z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1) }).strict().optional(),
  })
  .strict();
export type HostSecrets = z.infer<typeof hostSecretsSchema>;

export const parentMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), protocol: z.literal(HOST_PROTOCOL_VERSION), options: hostStartOptionsSchema, secrets: hostSecretsSchema.optional() }).strict(),
  z.object({ type: z.literal('call'), id: z.number().int().nonnegative(), name: z.string(), args: z.unknown() }).strict(),
  z.object({ type: z.literal('ping'), seq: z.number().int().nonnegative() }).strict(),
  z.object({ type: z.literal('shutdown') }).strict(),
]);
export type ParentMessage = z.infer<typeof parentMessageSchema>;

/** Events are produced by our own core; the envelope only checks the shape the relay relies on. */
const stationEventSchema = z.custom<StationEvent>(
  (value) => typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string',
);

// A plain union: two variants share `type: 'result'` (ok true / false).
export const hostMessageSchema = z.union([
  z.object({ type: z.literal('ready'), protocol: z.literal(HOST_PROTOCOL_VERSION), dataDir: z.string(), initialSupervisorPin: z.string().nullable() }).strict(),
  z.object({ type: z.literal('result'), id: z.number().int().nonnegative(), ok: z.literal(true), result: z.unknown() }).strict(),
  z.object({ type: z.literal('result'), id: z.number().int().nonnegative(), ok: z.literal(false), error: errorDataSchema }).strict(),
  z.object({ type: z.literal('event'), event: stationEventSchema }).strict(),
  z.object({ type: z.literal('fatal'), error: errorDataSchema }).strict(),
  z.object({ type: z.literal('pong'), seq: z.number().int().nonnegative() }).strict(),
  z.object({ type: z.literal('closed') }).strict(),
]);
export type HostMessage =
  | { type: 'ready'; protocol: typeof HOST_PROTOCOL_VERSION; dataDir: string; initialSupervisorPin: string | null }
  | { type: 'result'; id: number; ok: true; result: unknown }
  | { type: 'result'; id: number; ok: false; error: StationErrorData }
  | { type: 'event'; event: StationEvent }
  | { type: 'fatal'; error: StationErrorData }
  | { type: 'pong'; seq: number }
  | { type: 'closed' };

export type Parsed<T> = { ok: true; message: T } | { ok: false; reason: string };

/**
 * Checks a raw message. The reason names only the paths that failed, never a value: the message may
 * be a start message carrying the station key.
 */
function parseWith<T>(schema: z.ZodType<unknown>, raw: unknown): Parsed<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, message: parsed.data as T };
  const paths = [...new Set(parsed.error.issues.map((issue) => issue.path.map(String).join('.') || '(message)'))];
  return { ok: false, reason: `malformed host protocol message (fields: ${paths.join(', ')})` };
}

export function parseParentMessage(raw: unknown): Parsed<ParentMessage> {
  return parseWith<ParentMessage>(parentMessageSchema, raw);
}

export function parseHostMessage(raw: unknown): Parsed<HostMessage> {
  return parseWith<HostMessage>(hostMessageSchema, raw);
}
