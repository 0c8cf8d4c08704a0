import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { isCommandName, type CommandName, type StationApi, type StationEvent } from '../common/api.js';
import { COMMAND_ARG_SCHEMAS } from '../common/command-schemas.js';
import { toErrorData, type StationErrorData } from '../common/errors.js';
import { isAppUrl } from './app-protocol.js';
import { STATION_CALL_CHANNEL, STATION_EVENT_CHANNEL, type IpcReply } from './ipc-channels.js';

/**
 * Binds the station API to IPC. Every call is checked twice before the core sees it: the sending
 * frame must be our own top-level app:// page, and the payload must match the command's schema.
 * Failures of either come back as StationErrorData; nothing here throws into the core or the window.
 * The argument schemas are the shared ones in common/command-schemas.ts (zod).
 */
export type ParsedCall = { ok: true; name: CommandName; args: unknown } | { ok: false; error: StationErrorData };

export function parseStationCall(name: unknown, args: unknown): ParsedCall {
  if (!isCommandName(name)) {
    return {
      ok: false,
      error: { code: 'INVALID_INPUT', message: 'The window asked the station for a command it does not have.', operatorFault: false },
    };
  }
  const parsed = COMMAND_ARG_SCHEMAS[name].safeParse(args);
  if (!parsed.success) {
    return {
      ok: false,
      error: {
        code: 'INVALID_INPUT',
        message: `The window sent malformed arguments for ${name}.`,
        operatorFault: false,
        details: { command: name },
      },
    };
  }
  return { ok: true, name, args: parsed.data };
}

/** The part of the IPC event the sender check reads. */
export type IpcSender = Pick<IpcMainInvokeEvent, 'senderFrame'>;

/** Trusted: a live top-level frame whose document is on our app:// origin. */
export function isAppSender(event: IpcSender): boolean {
  const frame = event.senderFrame;
  return frame !== null && frame.parent === null && isAppUrl(frame.url);
}

/** The part of WebContents the binding needs to push events. */
export interface StationEventSink {
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  once(event: 'destroyed', listener: () => void): unknown;
}

export interface StationIpcBinding {
  /** Start pushing station events to this window; returns a detach function. */
  attach(target: StationEventSink): () => void;
  /** Remove the handler and stop listening to the core. */
  dispose(): void;
}

const UNTRUSTED_SENDER: StationErrorData = {
  code: 'UNAUTHORIZED',
  message: 'Only the station window may control the station.',
  operatorFault: false,
};

export function bindStationIpc(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  api: StationApi,
  isTrustedSender: (event: IpcSender) => boolean = isAppSender,
): StationIpcBinding {
  const targets = new Set<StationEventSink>();

  ipcMain.handle(STATION_CALL_CHANNEL, async (event, name: unknown, args: unknown): Promise<IpcReply> => {
    if (!isTrustedSender(event)) return { ok: false, error: UNTRUSTED_SENDER };
    const call = parseStationCall(name, args);
    if (!call.ok) return call;
    try {
      // The schema above checked `args` against this command's own args type.
      const result: unknown = await api.call(call.name, call.args as never);
      return { ok: true, result };
    } catch (err) {
      return { ok: false, error: toErrorData(err) };
    }
  });

  const unsubscribe = api.subscribe((event: StationEvent) => {
    for (const target of targets) {
      if (target.isDestroyed()) {
        targets.delete(target);
        continue;
      }
      try {
        target.send(STATION_EVENT_CHANNEL, event);
      } catch {
        // A window that is reloading or has crashed misses the event; it asks for a fresh
        // snapshot when it comes back. The core never sees this failure.
      }
    }
  });

  return {
    attach(target) {
      targets.add(target);
      target.once('destroyed', () => targets.delete(target));
      return () => {
        targets.delete(target);
      };
    },
    dispose() {
      ipcMain.removeHandler(STATION_CALL_CHANNEL);
      unsubscribe();
      targets.clear();
    },
  };
}
