/**
 * The subset of the Web Serial `SerialPort` that esptool-js's `Transport` uses (checked against
 * esptool-js 0.7.0 lib/webserial.js): open/close, the two WHATWG streams, setSignals, getInfo, and
 * the optional in-place `setBaudRate` that Transport.changeBaudrate prefers over close + reopen.
 */
export interface SerialSignals {
  dataTerminalReady?: boolean;
  requestToSend?: boolean;
  break?: boolean;
}

export interface WebSerialPortLike {
  open(options: { baudRate: number }): Promise<void>;
  close(): Promise<void>;
  readonly readable: ReadableStream<Uint8Array> | null;
  readonly writable: WritableStream<Uint8Array> | null;
  setSignals(signals: SerialSignals): Promise<void>;
  getInfo(): { usbVendorId?: number; usbProductId?: number };
  setBaudRate?(baudRate: number): Promise<void>;
}

/**
 * Where DTR/RTS go. A real USB bridge carries them as control requests (serialport's `set`); a
 * virtual board hosted on a pseudo-terminal takes them through this side channel instead, because
 * Linux refuses the modem-line ioctls on a pty.
 */
export type SignalSink = (lines: { dtr: boolean; rts: boolean; brk: boolean }) => Promise<void> | void;
