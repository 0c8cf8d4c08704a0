import type { CommandArgs, CommandName, CommandResult } from '../../../../common/api.js';

export type SessionArgs<N extends CommandName> = Omit<CommandArgs<N>, 'session'>;

/** A supervisor command with the screen's session; null when it failed (the screen shows why). */
export type SupervisorCall = <N extends CommandName>(name: N, args: SessionArgs<N>) => Promise<CommandResult<N> | null>;

export type SupervisorMessage = (message: { kind: 'ok' | 'error'; text: string }) => void;

/** Largest CSV the station takes (core/supervisor/csv-pull.ts): checked before the file is sent. */
export const CSV_PULL_BYTES_MAX = 256 * 1024;

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  // Chunks keep String.fromCharCode's argument list short.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Saves bytes as a file (an anchor with `download`, as the CSV export does). */
export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
