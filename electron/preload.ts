import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { CommandArgs, CommandName, CommandResult, StationApi, StationEvent } from '../common/api.js';
import { STATION_CALL_CHANNEL, STATION_EVENT_CHANNEL, type IpcReply } from './ipc-channels.js';

/**
 * The only thing the sandboxed page gets: `window.station` with `call` and `subscribe`. No
 * ipcRenderer, no channel names, no event objects cross the bridge. A failed call rejects with the
 * plain StationErrorData object (contextBridge copies plain objects intact; Error subclasses lose
 * their fields), and the renderer turns it back into a StationError.
 */
const station: StationApi = {
  async call<N extends CommandName>(name: N, args: CommandArgs<N>): Promise<CommandResult<N>> {
    const reply = (await ipcRenderer.invoke(STATION_CALL_CHANNEL, name, args)) as IpcReply;
    if (reply.ok) return reply.result as CommandResult<N>;
    return Promise.reject(reply.error);
  },
  subscribe(listener: (event: StationEvent) => void): () => void {
    const forward = (_event: IpcRendererEvent, stationEvent: StationEvent) => listener(stationEvent);
    ipcRenderer.on(STATION_EVENT_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(STATION_EVENT_CHANNEL, forward);
    };
  },
};

contextBridge.exposeInMainWorld('station', station);
