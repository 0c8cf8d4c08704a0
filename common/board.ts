/** What the station knows about a board sitting in a slot. Never holds a secret. */
export interface BoardInfo {
  /** Serial port path (COM3, /dev/ttyUSB0, /dev/pts/5) or `sim:N` for an in-process virtual board. */
  port: string;
  /** `virtual` for simulator boards, `usb` for real ones. */
  transport: 'virtual' | 'usb';
  usbVendorId?: number;
  usbProductId?: number;
  /** Filled once the bootloader answered: e.g. "ESP32", "ESP32-S3". */
  chip?: string;
  mac?: string;
  flashSizeBytes?: number;
}
