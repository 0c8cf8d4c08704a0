/**
 * What the virtual board's application reports in its self-test and console, and how it misbehaves
 * on purpose, so every failure the station must catch has a test (`VirtualBoard.setAppBehaviour`).
 */
export interface SimNetwork {
  ssid: string;
  /** dBm */
  rssi: number;
  /** Password the access point accepts; undefined = open network. */
  pass?: string;
}

export type AppFailureMode =
  /** Answers `selftest` with line noise instead of JSON (wrong baud rate, wrong firmware). */
  | 'garbage'
  /** Answers `selftest` with an endless stream of log lines. */
  | 'flood'
  /** Hears `selftest` and never answers. */
  | 'silent'
  /** Crashes on `selftest` (abort) and restarts, every time. */
  | 'reboot-loop'
  /** Proves a token other than the one in its flash (a board holding someone else's token). */
  | 'wrong-token'
  /** A careless firmware: prints its AuthToken in a log line and in a check's reason. */
  | 'leak-token'
  /** Goes quiet after the first check line. */
  | 'stall'
  /** `config erase` says it erased but keeps the Wi-Fi configuration (a broken factory reset). */
  | 'erase-ignored';

export interface AppBehaviour {
  /** Free heap in bytes (`heap` check, `status`). */
  heapFree: number;
  /** What a Wi-Fi scan finds (`wifi` check = how many, `wifi scan`, Improv scan). */
  networks: SimNetwork[];
  /** Peripheral checks the firmware runs: name -> true (ok) or the failure reason. */
  peripherals: Record<string, true | string>;
  failure: AppFailureMode | null;
  /** Improv: how long joining a network takes. */
  wifiJoinMs: number;
  /**
   * The board reaches the cloud without Wi-Fi provisioning (Ethernet, cellular, or a factory network
   * in its payload): with a token in NVS it connects right after boot. false: only over the Wi-Fi
   * network Improv gave it (dynamic products), or never (a board whose radio or antenna is broken).
   */
  uplink: boolean;
  /** From the app's start (or `connect`) to its connect request to the cloud. */
  cloudConnectMs: number;
}

export const QA_NETWORK: SimNetwork = { ssid: 'Flashline-QA', rssi: -48, pass: 'qa-password' };

export function defaultAppBehaviour(): AppBehaviour {
  return {
    heapFree: 182_344,
    networks: [QA_NETWORK, { ssid: 'Factory-Office', rssi: -67, pass: 'office' }, { ssid: 'Guest', rssi: -80 }],
    peripherals: { sht30: true },
    failure: null,
    wifiJoinMs: 30,
    uplink: true,
    cloudConnectMs: 20,
  };
}

/** The Wi-Fi configuration the app keeps in NVS (namespace `nm_wifi` on Edgent); survives reboots. */
export interface StoredWifi {
  ssid: string;
  pass: string;
}
