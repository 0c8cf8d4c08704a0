import { describe, expect, it } from 'vitest';
import {
  decodeStrings,
  encodeImprovPacket,
  encodeRpc,
  encodeRpcResult,
  encodeStrings,
  improvChecksum,
  ImprovCommand,
  ImprovParser,
  ImprovType,
  parseRpcData,
} from '../../../native/improv/improv-packet.js';

describe('Improv serial framing', () => {
  it('frames a packet: IMPROV, version 1, type, length, data, checksum of all preceding bytes, newline', () => {
    // "Request current state": the RPC every client sends first.
    const packet = encodeRpc(ImprovCommand.getState);
    expect(Array.from(packet)).toEqual([0x49, 0x4d, 0x50, 0x52, 0x4f, 0x56, 0x01, 0x03, 0x02, 0x02, 0x00, 0xe5, 0x0a]);
    // "IMPROV" = 73+77+80+82+79+86 = 477; + 1 + 3 + 2 + 2 + 0 = 485 = 0x1e5 -> 0xe5.
    expect(improvChecksum(packet.subarray(0, 11))).toBe(0xe5);
  });

  it('encodes Wi-Fi settings as [len][ssid][len][password] inside the RPC', () => {
    const packet = encodeRpc(ImprovCommand.wifiSettings, encodeStrings(['MyWirelessAP', 'mysecurepassword']));
    const [parsed] = new ImprovParser().push(packet);
    expect(parsed?.kind).toBe('packet');
    if (parsed?.kind !== 'packet') return;
    expect(parsed.packet.type).toBe(ImprovType.rpc);
    const rpc = parseRpcData(parsed.packet.data);
    expect(rpc?.command).toBe(ImprovCommand.wifiSettings);
    expect(decodeStrings(rpc!.payload)).toEqual(['MyWirelessAP', 'mysecurepassword']);
  });

  it('finds packets between console text, split across reads at any byte', () => {
    const packet = encodeRpcResult(ImprovCommand.deviceInfo, ['Edgent', '1.0.0', 'ESP32', 'Thermostat']);
    const stream = Buffer.concat([Buffer.from('[123] Console ready\r\n'), packet, Buffer.from('I (5) boot: more\n')]);
    for (let cut = 1; cut < stream.length; cut += 7) {
      const parser = new ImprovParser();
      const chunks = [...parser.push(stream.subarray(0, cut)), ...parser.push(stream.subarray(cut))];
      const text = Buffer.concat(chunks.filter((c) => c.kind === 'console').map((c) => (c.kind === 'console' ? c.bytes : new Uint8Array()))).toString();
      // The `\n` a sender appends after a packet reaches the console as an empty line.
      expect(text).toBe('[123] Console ready\r\n\nI (5) boot: more\n');
      const packets = chunks.filter((c) => c.kind === 'packet');
      expect(packets).toHaveLength(1);
    }
  });

  it('drops a packet with a bad checksum and keeps parsing after it', () => {
    const bad = encodeImprovPacket(ImprovType.currentState, Uint8Array.from([0x02]));
    bad[10] = (bad[10]! + 1) & 0xff;
    const good = encodeImprovPacket(ImprovType.currentState, Uint8Array.from([0x04]));
    const chunks = new ImprovParser().push(Buffer.concat([bad, good]));
    expect(chunks.map((c) => c.kind)).toEqual(['bad-packet', 'console', 'packet', 'console']);
    const packet = chunks[2];
    expect(packet?.kind === 'packet' && packet.packet.data[0]).toBe(0x04);
  });

  it('treats text that reads "IMPROV" with another version as console text', () => {
    const chunks = new ImprovParser().push(Buffer.from('IMPROVED firmware\n'));
    expect(chunks).toEqual([{ kind: 'console', bytes: Uint8Array.from(Buffer.from('IMPROVED firmware\n')) }]);
  });

  it('rejects RPC data whose inner length disagrees, and strings that run past the end', () => {
    expect(parseRpcData(Uint8Array.from([0x01, 0x05, 0x01]))).toBeNull();
    expect(decodeStrings(Uint8Array.from([0x04, 0x41]))).toBeNull();
    expect(() => encodeImprovPacket(ImprovType.rpc, new Uint8Array(256))).toThrow(RangeError);
  });
});
