import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildEdgentNvsImage } from '../../../core/payload/edgent-payload.js';
import { flashBoard } from '../../../native/flash/esptool-flasher.js';
import { probeBoard } from '../../../native/flash/probe-board.js';
import { findNvsString } from '../../../native/nvs/nvs-reader.js';
import { BoardHostClient, RemoteRack } from '../../../native/sim/board-host-client.js';
import { BoardHost } from '../../../native/sim/board-host.js';
import type { AttachedBoard } from '../../../native/usb/board-watcher.js';

const NVS = { offset: 0x9000, size: 0x6000 };
const TOKEN = 'Hb0ardHostT0kenHb0ardHostT0ken12';

describe('board host: boards in another process, on ptys, driven over a control socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flashline-board-host-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a station-side rack sees plugs, probes and flashes through serialport, and the flash is read back after unplug', async () => {
    const host = await BoardHost.start({ socketPath: join(dir, 'boards.sock') });
    const operator = await BoardHostClient.connect(join(dir, 'boards.sock'));
    try {
      // A board plugged before the station connects is listed at connect.
      const early = await operator.plug('slot-1', { seed: 5 });
      const rack = await RemoteRack.connect(join(dir, 'boards.sock'));
      expect(rack.attached().map((b) => b.location)).toEqual(['slot-1']);
      const attached = new Promise<AttachedBoard>((resolve) => rack.on('attach', resolve));
      const detached = new Promise<string>((resolve) => rack.on('detach', resolve));
      const hosted = await operator.plug('slot-2', { seed: 6 });
      const board = await attached;
      expect(board.location).toBe('slot-2');
      expect(board.info.port).toBe(hosted.path);

      // DTR/RTS cross the socket: esptool-js's reset puts the board into its ROM.
      const probe = await probeBoard({ port: board.openPort(), baudRate: 460_800, nvs: NVS });
      expect(probe.identity.mac).toBe(hosted.mac);
      expect(findNvsString(probe.nvs, 'blynk', 'auth')).toBeUndefined();
      await flashBoard({ port: board.openPort(), regions: [{ name: 'nvs', address: NVS.offset, data: buildEdgentNvsImage({ auth: TOKEN, host: 'blynk.cloud' }, NVS.size) }], baudRate: 460_800, expectMac: hosted.mac });

      expect(findNvsString(await operator.readFlash(hosted.mac, NVS.offset, NVS.size), 'blynk', 'auth')).toBe(TOKEN);
      await operator.unplug('slot-2');
      expect(await detached).toBe('slot-2');
      // Off the rack, its NVS is kept: what a harness checks after the station is gone.
      expect(findNvsString(await operator.readFlash(hosted.mac, NVS.offset, NVS.size), 'blynk', 'auth')).toBe(TOKEN);
      expect(await operator.boards()).toEqual([
        { mac: early.mac, slotId: 'slot-1' },
        { mac: hosted.mac, slotId: null },
      ]);
      await expect(operator.plug('slot-1')).rejects.toThrow(/already has a board/);
      await expect(operator.readFlash('aa:bb:cc:dd:ee:ff', 0, 4)).rejects.toThrow(/no board/);
      rack.close();
    } finally {
      operator.close();
      await host.close();
    }
  }, 30_000);
});
