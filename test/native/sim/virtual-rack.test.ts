import { afterEach, describe, expect, it } from 'vitest';
import type { AttachedBoard } from '../../../native/usb/board-watcher.js';
import { VirtualRack } from '../../../native/sim/virtual-rack.js';
import { USB_REENUMERATE_MS } from '../../../native/sim/virtual-board.js';
import { sleep } from './sim-helpers.js';

let rack: VirtualRack;

afterEach(async () => rack.close());

describe('virtual rack', () => {
  it('reports each board with its own USB ids, and announces a re-enumerated USB-Serial/JTAG board again at its slot', async () => {
    rack = new VirtualRack({ transport: 'in-process' });
    const attached: AttachedBoard[] = [];
    const detached: string[] = [];
    rack.on('attach', (b) => attached.push(b));
    rack.on('detach', (l) => detached.push(l));
    await rack.plug('slot-1');
    await rack.plug('slot-2', { chip: 'ESP32-C3', connection: 'usb-serial-jtag', reenumerateOnReset: true });
    expect(attached.map((a) => [a.location, a.info.usbVendorId, a.info.usbProductId])).toEqual([
      ['slot-1', 0x10c4, 0xea60],
      ['slot-2', 0x303a, 0x1001],
    ]);

    // Reset the C3 through its port (RTS pulse with DTR released, like the flasher's hard reset).
    const port = attached[1]!.openPort();
    await port.open({ baudRate: 115200 });
    await port.setSignals({ dataTerminalReady: false, requestToSend: true });
    await port.setSignals({ requestToSend: false }).catch(() => undefined);
    await sleep(USB_REENUMERATE_MS + 100);
    expect(detached).toEqual([]);
    expect(attached.map((a) => a.location)).toEqual(['slot-1', 'slot-2', 'slot-2']);
    const again = attached[2]!.openPort();
    await again.open({ baudRate: 115200 });
    await again.close();
    expect(rack.boardIn('slot-2')?.mode).toBe('app');
  });
});
