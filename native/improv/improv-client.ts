import { stationError } from '../../common/errors.js';
import {
  decodeStrings,
  encodeRpc,
  encodeStrings,
  ImprovCommand,
  ImprovError,
  ImprovState,
  ImprovType,
  parseRpcData,
  type ImprovPacket,
} from './improv-packet.js';
import type { SerialSession } from './serial-session.js';

/** An RPC that gets no answer within this long failed (the device answers at once; joining takes longer). */
export const IMPROV_RPC_TIMEOUT_MS = 2_000;
/** Joining a Wi-Fi network: association, WPA handshake, DHCP. */
export const IMPROV_PROVISION_TIMEOUT_MS = 15_000;

export type ImprovStateName = 'ready' | 'provisioning' | 'provisioned' | 'unknown';

export interface ImprovDeviceInfo {
  firmware: string;
  version: string;
  chip: string;
  deviceName: string;
}

export interface ImprovNetwork {
  ssid: string;
  rssi: number;
  secured: boolean;
}

function stateName(value: number | undefined): ImprovStateName {
  if (value === ImprovState.ready) return 'ready';
  if (value === ImprovState.provisioning) return 'provisioning';
  if (value === ImprovState.provisioned) return 'provisioned';
  return 'unknown';
}

const ERROR_TEXT: Record<number, string> = {
  [ImprovError.invalidRpc]: 'the board says the Improv packet was invalid',
  [ImprovError.unknownRpc]: 'the board does not know that Improv command',
  [ImprovError.unableToConnect]: 'the board could not join the Wi-Fi network',
};

/** Improv Wi-Fi serial client (https://www.improv-wifi.com/serial/) over a `SerialSession`. */
export class ImprovClient {
  constructor(private readonly session: SerialSession) {}

  async getState(timeoutMs = IMPROV_RPC_TIMEOUT_MS): Promise<ImprovStateName> {
    await this.session.sendBytes(encodeRpc(ImprovCommand.getState));
    const packet = await this.expect((p) => p.type === ImprovType.currentState, timeoutMs, 'current state');
    return stateName(packet.data[0]);
  }

  async deviceInfo(timeoutMs = IMPROV_RPC_TIMEOUT_MS): Promise<ImprovDeviceInfo> {
    await this.session.sendBytes(encodeRpc(ImprovCommand.deviceInfo));
    const strings = await this.rpcResult(ImprovCommand.deviceInfo, timeoutMs);
    const [firmware = '', version = '', chip = '', deviceName = ''] = strings;
    return { firmware, version, chip, deviceName };
  }

  /** One RPC result per network, then an empty result ends the list. */
  async scan(timeoutMs = IMPROV_RPC_TIMEOUT_MS): Promise<ImprovNetwork[]> {
    await this.session.sendBytes(encodeRpc(ImprovCommand.scanNetworks));
    const networks: ImprovNetwork[] = [];
    for (;;) {
      const strings = await this.rpcResult(ImprovCommand.scanNetworks, timeoutMs);
      if (strings.length === 0) return networks;
      const [ssid = '', rssi = '0', auth = 'NO'] = strings;
      networks.push({ ssid, rssi: Number(rssi), secured: auth === 'YES' });
    }
  }

  /** Sends the Wi-Fi settings and waits until the board reports `provisioned` (or an error). */
  async sendWifi(ssid: string, pass: string, timeoutMs = IMPROV_PROVISION_TIMEOUT_MS): Promise<void> {
    this.session.drain();
    await this.session.sendBytes(encodeRpc(ImprovCommand.wifiSettings, encodeStrings([ssid, pass])));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      const packet = left > 0 ? await this.session.nextPacket((p) => p.type === ImprovType.currentState || p.type === ImprovType.errorState, left) : null;
      if (!packet) throw stationError('SELFTEST_FAILED', `The board did not join "${ssid}" within ${timeoutMs} ms.`, false);
      this.throwIfError(packet);
      if (packet.type === ImprovType.currentState && packet.data[0] === ImprovState.provisioned) return;
    }
  }

  private throwIfError(packet: ImprovPacket): void {
    if (packet.type !== ImprovType.errorState) return;
    const code = packet.data[0] ?? ImprovError.unknown;
    if (code === ImprovError.none) return;
    throw stationError('SELFTEST_FAILED', `Improv: ${ERROR_TEXT[code] ?? `error 0x${code.toString(16)}`}.`, false);
  }

  private async rpcResult(command: number, timeoutMs: number): Promise<string[]> {
    const packet = await this.expect(
      (p) => (p.type === ImprovType.rpcResult && parseRpcData(p.data)?.command === command) || p.type === ImprovType.errorState,
      timeoutMs,
      'RPC result',
    );
    this.throwIfError(packet);
    const rpc = parseRpcData(packet.data);
    const strings = rpc ? decodeStrings(rpc.payload) : null;
    if (!strings) throw stationError('SELFTEST_FAILED', 'Improv: the board sent a malformed RPC result.', false);
    return strings;
  }

  private async expect(match: (p: ImprovPacket) => boolean, timeoutMs: number, what: string): Promise<ImprovPacket> {
    const packet = await this.session.nextPacket(match, timeoutMs);
    if (!packet) throw stationError('SELFTEST_FAILED', `Improv: no ${what} from the board within ${timeoutMs} ms — does its firmware speak Improv?`, false);
    return packet;
  }
}
