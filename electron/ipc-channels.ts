import type { StationErrorData } from '../common/errors.js';

/**
 * IPC channel names shared by the main process and the preload. Commands go renderer -> main with
 * `ipcRenderer.invoke(STATION_CALL_CHANNEL, name, args)`; events go main -> renderer on
 * STATION_EVENT_CHANNEL. Replies are envelopes, not thrown errors: Electron flattens a thrown error
 * into a message string, and the renderer needs the StationErrorData fields.
 */
export const STATION_CALL_CHANNEL = 'station:call';
export const STATION_EVENT_CHANNEL = 'station:event';

export type IpcReply = { ok: true; result: unknown } | { ok: false; error: StationErrorData };
