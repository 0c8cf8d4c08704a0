import {
  SECRET_QUERY_PARAM,
  WS_PATH,
  type CommandArgs,
  type CommandName,
  type CommandResult,
  type StationApi,
  type StationEvent,
  type WireMessage,
} from '../../common/api.js';
import { StationError, isStationErrorData } from '../../common/errors.js';

/**
 * The renderer's only door to the station. Under Electron the preload bridge (`window.station`)
 * is used as is; in browser mode a WebSocket to the station server speaks `WireMessage`.
 * Either way every rejection is a `StationError`, rebuilt from the `StationErrorData` that crossed
 * the process boundary.
 */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'refused';

export interface StationClient extends StationApi {
  readonly mode: 'electron' | 'websocket';
  connectionState(): ConnectionState;
  onConnectionChange(listener: (state: ConnectionState) => void): () => void;
  close(): void;
}

/** First reconnect delay; doubles per failed attempt up to the maximum. */
export const RECONNECT_INITIAL_DELAY_MS = 250;
export const RECONNECT_MAX_DELAY_MS = 5_000;
/** A command with no answer after this long is rejected (the socket may be half-dead). */
export const REQUEST_TIMEOUT_MS = 15_000;
/** RFC 6455 "policy violation": the server closes with it when the per-run key is wrong. */
export const WS_CLOSE_POLICY_VIOLATION = 1008;
const WS_OPEN = 1;

/** The part of the browser WebSocket the client uses, so tests can pass a fake. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

export interface WebSocketClientOptions {
  url: string;
  createSocket: SocketFactory;
  requestTimeoutMs?: number;
}

export function backoffDelayMs(attempt: number): number {
  return Math.min(RECONNECT_MAX_DELAY_MS, RECONNECT_INITIAL_DELAY_MS * 2 ** Math.max(0, attempt));
}

/** Any rejection reason as a `StationError`; unreadable ones become INTERNAL without their text. */
export function rehydrateError(reason: unknown): StationError {
  if (reason instanceof StationError) return reason;
  if (isStationErrorData(reason)) return StationError.fromJSON(reason);
  return new StationError({
    code: 'INTERNAL',
    message: 'The station sent an error this window could not read; check the slot and try again.',
    operatorFault: false,
  });
}

function disconnectedError(): StationError {
  return new StationError({
    code: 'INTERNAL',
    message: 'Lost the connection to the station; check the slot once it reconnects before trying again.',
    operatorFault: true,
    details: { reason: 'disconnected' },
  });
}

function notConnectedError(): StationError {
  return new StationError({
    code: 'INTERNAL',
    message: 'Not connected to the station; wait until it reconnects and try again.',
    operatorFault: true,
    details: { reason: 'not-connected' },
  });
}

function timeoutError(ms: number): StationError {
  return new StationError({
    code: 'INTERNAL',
    message: `The station did not answer within ${Math.round(ms / 1000)} s; check the slot before trying again.`,
    operatorFault: false,
    details: { reason: 'timeout' },
  });
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: StationError): void;
  timer: ReturnType<typeof setTimeout>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Parses one wire message; anything that is not a response or an event is dropped. */
export function parseWireMessage(raw: unknown): WireMessage | null {
  if (typeof raw !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  if (value.kind === 'response' && typeof value.id === 'number' && typeof value.ok === 'boolean') {
    return value as WireMessage;
  }
  if (value.kind === 'event' && isObject(value.event) && typeof value.event.type === 'string') {
    return value as WireMessage;
  }
  return null;
}

class ConnectionListeners {
  private readonly listeners = new Set<(state: ConnectionState) => void>();
  add(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(state: ConnectionState): void {
    for (const listener of [...this.listeners]) listener(state);
  }
}

function emitEvent(listeners: Set<(event: StationEvent) => void>, event: StationEvent): void {
  for (const listener of [...listeners]) {
    try {
      listener(event);
    } catch (err) {
      // One broken view must not stop the others from seeing the event.
      console.error('station event listener failed', err);
    }
  }
}

export class WebSocketStationClient implements StationClient {
  readonly mode = 'websocket' as const;
  private readonly url: string;
  private readonly createSocket: SocketFactory;
  private readonly requestTimeoutMs: number;
  private socket: SocketLike | null = null;
  private state: ConnectionState = 'connecting';
  private nextId = 1;
  private failedAttempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly pending = new Map<number, Pending>();
  private readonly eventListeners = new Set<(event: StationEvent) => void>();
  private readonly connectionListeners = new ConnectionListeners();

  constructor(options: WebSocketClientOptions) {
    this.url = options.url;
    this.createSocket = options.createSocket;
    this.requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    this.connect();
  }

  connectionState(): ConnectionState {
    return this.state;
  }

  onConnectionChange(listener: (state: ConnectionState) => void): () => void {
    return this.connectionListeners.add(listener);
  }

  subscribe(listener: (event: StationEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => {
      this.eventListeners.delete(listener);
    };
  }

  call<N extends CommandName>(name: N, args: CommandArgs<N>): Promise<CommandResult<N>> {
    const socket = this.socket;
    if (this.state !== 'connected' || !socket || socket.readyState !== WS_OPEN) {
      return Promise.reject(notConnectedError());
    }
    const id = this.nextId++;
    const request: WireMessage = { kind: 'request', id, name, args };
    return new Promise<CommandResult<N>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(timeoutError(this.requestTimeoutMs));
      }, this.requestTimeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      try {
        socket.send(JSON.stringify(request));
      } catch {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(disconnectedError());
      }
    });
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.socket = null;
    this.failPending(disconnectedError());
    socket?.close(1000, 'window closed');
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.connectionListeners.emit(state);
  }

  private connect(): void {
    this.reconnectTimer = null;
    if (this.closed) return;
    let socket: SocketLike;
    try {
      socket = this.createSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.failedAttempts = 0;
      this.setState('connected');
    };
    socket.onmessage = (event) => {
      if (socket === this.socket) this.handleMessage(event.data);
    };
    // A failed socket always fires `close` after `error`; the reconnect is driven from there.
    socket.onerror = () => undefined;
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.failPending(disconnectedError());
      if (this.closed) return;
      if (event.code === WS_CLOSE_POLICY_VIOLATION) {
        this.setState('refused');
        return;
      }
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.setState('reconnecting');
    const delay = backoffDelayMs(this.failedAttempts);
    this.failedAttempts += 1;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private handleMessage(raw: unknown): void {
    const message = parseWireMessage(raw);
    if (!message) return;
    if (message.kind === 'event') {
      emitEvent(this.eventListeners, message.event);
      return;
    }
    if (message.kind !== 'response') return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(rehydrateError(message.error));
  }

  private failPending(error: StationError): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(id);
    }
  }
}

/** Wraps the preload bridge so its rejections (plain StationErrorData) become StationErrors. */
export function bridgeClient(bridge: StationApi): StationClient {
  return {
    mode: 'electron',
    call: <N extends CommandName>(name: N, args: CommandArgs<N>) =>
      bridge.call(name, args).catch((reason: unknown) => {
        throw rehydrateError(reason);
      }),
    subscribe: (listener) => bridge.subscribe(listener),
    connectionState: () => 'connected',
    // The bridge is in-process IPC: it is up for as long as the window exists.
    onConnectionChange: () => () => undefined,
    close: () => undefined,
  };
}

export interface LocationLike {
  protocol: string;
  host: string;
  search: string;
}

/** `ws(s)://<same host>/api/ws?key=<secret from the page URL>`. */
export function stationSocketUrl(location: LocationLike): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const key = new URLSearchParams(location.search).get(SECRET_QUERY_PARAM);
  const query = key ? `?${SECRET_QUERY_PARAM}=${encodeURIComponent(key)}` : '';
  return `${scheme}//${location.host}${WS_PATH}${query}`;
}

function isStationApi(value: unknown): value is StationApi {
  return isObject(value) && typeof value.call === 'function' && typeof value.subscribe === 'function';
}

export interface ClientEnvironment {
  station?: unknown;
  location: LocationLike;
  createSocket: SocketFactory;
}

export function createStationClient(env: ClientEnvironment): StationClient {
  if (isStationApi(env.station)) return bridgeClient(env.station);
  return new WebSocketStationClient({ url: stationSocketUrl(env.location), createSocket: env.createSocket });
}
