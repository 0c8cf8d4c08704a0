import { createHmac, randomBytes } from 'node:crypto';
import { HardReset, type Transport } from 'esptool-js';
import { afterEach, describe, expect, it } from 'vitest';
import { buildEdgentNvsImage } from '../../../core/payload/edgent-payload.js';
import { APP_OFFSET } from '../../../native/sim/factory-image.js';
import {
  buildPartitionTable,
  defaultPartitions,
  PARTITION_TABLE_OFFSET,
} from '../../../native/sim/partition-table.js';
import { VirtualBoard } from '../../../native/sim/virtual-board.js';
import { esptoolRig, lineCollector, md5Hex, sleep, type EsptoolRig } from './sim-helpers.js';

const TOKEN_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';

function randomToken(): string {
  return Array.from(randomBytes(32), (b) => TOKEN_CHARS[b % TOKEN_CHARS.length]).join('');
}

/** What esptool.py's HardReset does: EN low through RTS for 100 ms, GPIO0 left high. */
class EnPulseHardReset extends HardReset {
  constructor(private readonly port: Transport) {
    super(port);
  }

  override async reset(): Promise<void> {
    await this.port.setSignals(false, true);
    await sleep(100);
    await this.port.setSignals(false, false);
  }
}

function nonce(): string {
  return randomBytes(16).toString('hex');
}

function proof(token: string, n: string): string {
  return createHmac('sha256', Buffer.from(token, 'utf8')).update(Buffer.from(n, 'ascii')).digest('hex');
}

interface SelfTestLines {
  checks: Record<string, { ok: boolean; proof?: string; value?: string; reason?: string }>;
  summary: { selftest: string; ok: boolean; checks: number };
}

/** Send `selftest <nonce>` straight to the board and collect the JSON answer. */
async function selfTest(board: VirtualBoard, n: string): Promise<SelfTestLines> {
  const console = lineCollector(board);
  try {
    board.write(Buffer.from(`selftest ${n}\n`, 'latin1'));
    await console.waitFor((l) => l.includes('"selftest":"done"'));
    return parseSelfTest(console.lines);
  } finally {
    console.close();
  }
}

function parseSelfTest(lines: string[]): SelfTestLines {
  const json = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const checks: SelfTestLines['checks'] = {};
  for (const j of json) if (typeof j.check === 'string') checks[j.check] = j as SelfTestLines['checks'][string];
  const summary = json.find((j) => j.selftest === 'done') as SelfTestLines['summary'];
  return { checks, summary };
}

let board: VirtualBoard;
let rig: EsptoolRig | undefined;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
  board.dispose();
});

describe('after flashing: the application and its self-test', () => {
  it('boots the app on a real EN pulse and proves the token it reads from NVS (HMAC of the nonce)', async () => {
    const token = randomToken();
    board = new VirtualBoard({ firmwareVersion: '2.4.1' });
    // esptool-js 0.7.0's HardReset only ever releases RTS, it never pulls EN low; a board with the
    // usual auto-reset circuit stays in the loader. The station has to pass a reset that pulses EN:
    rig = esptoolRig(board, {
      resetConstructors: { hardReset: (transport) => new EnPulseHardReset(transport) },
    });
    await rig.loader.main();
    const nvs = buildEdgentNvsImage({ auth: token }, 0x6000);
    await rig.loader.writeFlash({
      fileArray: [{ data: nvs, address: 0x9000 }],
      flashMode: 'keep',
      flashFreq: 'keep',
      flashSize: 'keep',
      eraseAll: false,
      compress: true,
      calculateMD5Hash: md5Hex,
    });
    await rig.loader.after('hard_reset', false);
    expect(board.mode).toBe('app');
    expect(board.appState).toMatchObject({ kind: 'running', firmwareVersion: '2.4.1', tokenPresent: true });

    // The station reopens the port at the console rate and runs the self-test over it.
    await rig.transport.disconnect();
    const port = rig.port;
    await port.open({ baudRate: 115200 });
    const writer = port.writable!.getWriter();
    const reader = port.readable!.getReader();
    const n = nonce();
    await writer.write(Buffer.from(`selftest ${n}\n`, 'latin1'));
    let text = '';
    while (!text.includes('"selftest":"done"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('latin1');
    }
    reader.releaseLock();
    writer.releaseLock();
    await port.close();
    const result = parseSelfTest(text.split('\r\n'));
    expect(result.checks.token).toEqual({ check: 'token', ok: true, proof: proof(token, n) });
    expect(result.checks.fw).toEqual({ check: 'fw', ok: true, value: '2.4.1' });
    expect(result.summary).toEqual({ selftest: 'done', ok: true, checks: 7 });
    expect(text).not.toContain(token);
  });

  it("leaves the board in the loader after esptool-js's own after('hard_reset') (no EN pulse)", async () => {
    board = new VirtualBoard();
    rig = esptoolRig(board);
    await rig.loader.main();
    await rig.loader.after('hard_reset', false);
    expect(board.mode).toBe('download');
    expect(board.loader).toBe('stub');
  });

  it('fails the token check with a reason when NVS holds no token', async () => {
    board = new VirtualBoard();
    await sleep(1);
    const result = await selfTest(board, nonce());
    expect(result.checks.token).toMatchObject({ ok: false, reason: expect.stringContaining('no AuthToken') });
    expect(result.checks.fw).toMatchObject({ ok: true, value: '1.0.0' });
    expect(result.summary).toEqual({ selftest: 'done', ok: false, checks: 7 });
  });

  it('rejects a malformed nonce instead of signing it', async () => {
    board = new VirtualBoard();
    const result = await selfTest(board, 'NOT-A-NONCE');
    expect(result.checks.nonce).toMatchObject({ ok: false });
    expect(result.checks.token).toBeUndefined();
    expect(result.summary.ok).toBe(false);
  });

  it("answers Edgent's devinfo with one JSON line", async () => {
    board = new VirtualBoard({ mac: '24:0a:c4:aa:bb:cc', firmwareVersion: '3.0.0', app: { templateId: 'TMPL4abcd' } });
    const console = lineCollector(board);
    board.write(Buffer.from('devinfo\r\n', 'latin1'));
    const line = await console.waitFor((l) => l.startsWith('{'));
    console.close();
    expect(JSON.parse(line)).toMatchObject({ tmpl_id: 'TMPL4abcd', fw_ver: '3.0.0', mac: '24:0a:c4:aa:bb:cc' });
  });

  it('finds NVS where the partition table puts it', async () => {
    const token = randomToken();
    board = new VirtualBoard({ powered: false });
    const partitions = defaultPartitions(board.flash.size).map((p) => (p.label === 'nvs' ? { ...p, offset: 0x3f0000, size: 0x5000 } : p));
    board.flash.eraseRange(PARTITION_TABLE_OFFSET, 0x1000);
    board.flash.program(PARTITION_TABLE_OFFSET, buildPartitionTable(partitions));
    board.flash.program(0x3f0000, buildEdgentNvsImage({ auth: token }, 0x5000));
    board.powerOn();
    expect(board.appState).toMatchObject({ kind: 'running', tokenPresent: true, nvs: { offset: 0x3f0000, size: 0x5000 } });
    const n = nonce();
    expect((await selfTest(board, n)).checks.token?.proof).toBe(proof(token, n));
  });

  it('falls back to NVS at 0x9000 when there is no partition table', async () => {
    const token = randomToken();
    board = new VirtualBoard({ powered: false });
    board.flash.eraseRange(PARTITION_TABLE_OFFSET, 0x1000);
    board.flash.program(0x9000, buildEdgentNvsImage({ auth: token }, 0x6000));
    board.powerOn();
    expect(board.appState).toMatchObject({ kind: 'running', tokenPresent: true, nvs: { offset: 0x9000, size: 0x6000 } });
  });

  it('refuses to run an app image whose checksum no longer matches, like the real bootloader', async () => {
    board = new VirtualBoard({ powered: false });
    const console = lineCollector(board);
    // One bit flipped inside the first segment, as a botched in-place patch would leave it.
    const byte = board.readFlash(APP_OFFSET + 0x40, 1)[0]!;
    board.flash.load(APP_OFFSET + 0x40, Uint8Array.of(byte ^ 0x01));
    board.powerOn();
    expect(board.appState).toMatchObject({ kind: 'halted', stage: 'bootloader' });
    await console.waitFor((l) => l.includes('No bootable app partitions'));
    console.close();
    board.write(Buffer.from(`selftest ${nonce()}\n`, 'latin1'));
    await sleep(10);
    expect(console.lines.some((l) => l.includes('selftest'))).toBe(false);
  });

  it('prints the ROM message and stops when the flash is blank', async () => {
    board = new VirtualBoard({ factoryFirmware: false, powered: false });
    const console = lineCollector(board);
    board.powerOn();
    await console.waitFor((l) => l === 'invalid header: 0xffffffff');
    console.close();
    expect(board.appState).toMatchObject({ kind: 'halted', stage: 'rom' });
  });

  it('sends garbage to a host that is still at the flashing baud rate', async () => {
    board = new VirtualBoard();
    board.setHostBaud(921600);
    const console = lineCollector(board);
    board.write(Buffer.from(`selftest ${nonce()}\n`, 'latin1'));
    await sleep(20);
    console.close();
    expect(console.lines.some((l) => l.includes('"selftest"'))).toBe(false);
  });
});
