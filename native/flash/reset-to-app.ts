import type { WebSerialPortLike } from '../serial/web-serial-port.js';

/** EN held low this long resets the chip (esptool's hard reset uses 100 ms). */
export const APP_RESET_PULSE_MS = 100;
/**
 * After EN rises the ROM, the second-stage bootloader and the app start; an ESP32 app's console is
 * up after ~300–1000 ms. The console clients (Improv, self-test) retry within their own timeouts;
 * this is only the pause before the first byte, so it is short.
 */
export const APP_BOOT_PAUSE_MS = 300;
/** The console's rate; the reset itself needs no baud rate, but the port must be opened with one. */
const RESET_PORT_BAUD = 115_200;

/**
 * Resets the board into its application: RTS pulls EN low with DTR released, so GPIO0 is high when
 * EN rises ("boot from flash"); both lines go in one request each time (the auto-reset circuit of
 * the USB-UART bridges and the USB-Serial/JTAG peripheral read them together). The station's probe
 * leaves a board in its ROM bootloader; anything that talks to the app's console (dynamic QA) calls
 * this first. Closes the port again.
 */
export async function resetToApp(port: WebSerialPortLike, options: { bootPauseMs?: number } = {}): Promise<void> {
  await port.open({ baudRate: RESET_PORT_BAUD });
  try {
    await port.setSignals({ dataTerminalReady: false, requestToSend: true });
    await new Promise((resolve) => setTimeout(resolve, APP_RESET_PULSE_MS));
    await port.setSignals({ dataTerminalReady: false, requestToSend: false });
  } finally {
    await port.close().catch(() => undefined);
  }
  await new Promise((resolve) => setTimeout(resolve, options.bootPauseMs ?? APP_BOOT_PAUSE_MS));
}
