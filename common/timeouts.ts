/** Every timeout in the station, named, with its unit in the name. */
export const TIMEOUTS = {
  /** esptool-js connect (reset into bootloader + SYNC retries) before we call the board dead. */
  flashConnectMs: 20_000,
  /** One whole flash job (all regions, stub upload, MD5) for a token-only plan. */
  flashJobMs: 120_000,
  /** From reset into the application until the self-test summary line. */
  selfTestMs: 10_000,
  /** Longest gap between two self-test lines before the board counts as silent. */
  selfTestLineGapMs: 3_000,
  /** Cloud HTTP request. */
  cloudRequestMs: 10_000,
} as const;
