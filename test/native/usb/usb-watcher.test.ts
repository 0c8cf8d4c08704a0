import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BoardTable } from '../../../native/usb/board-table.js';
import { REENUMERATION_GRACE_MS, UsbWatcher, type ListedPort } from '../../../native/usb/usb-watcher.js';

const table = BoardTable.load();
const cp2102 = (path: string, location: string): ListedPort => ({ path, vendorId: '10C4', productId: 'EA60', locationId: location });
const jtag = (path: string, location: string): ListedPort => ({ path, vendorId: '303a', productId: '1001', locationId: location });

function harness(initial: ListedPort[]) {
  let ports = initial;
  const hotplug = new EventEmitter();
  const watcher = new UsbWatcher({ table, listPorts: async () => ports, hotplug, locate: (p) => p.locationId ?? p.path });
  const events: string[] = [];
  watcher.on('attach', (b) => events.push(`attach ${b.location} ${b.info.port}`));
  watcher.on('detach', (l) => events.push(`detach ${l}`));
  return { watcher, hotplug, events, setPorts: (p: ListedPort[]) => (ports = p) };
}

describe('BoardTable', () => {
  it('knows the usual ESP bridges and their reset styles', () => {
    expect(table.lookup(0x10c4, 0xea60)).toMatchObject({ bridge: 'CP210x', reset: 'classic' });
    expect(table.lookup('1A86', '7523')).toMatchObject({ bridge: 'CH340' });
    expect(table.lookup('1a86', '55d4')).toMatchObject({ bridge: 'CH9102' });
    expect(table.lookup('0403', '6001')).toMatchObject({ bridge: 'FTDI' });
    expect(table.lookup(0x303a, 0x1001)).toMatchObject({ bridge: 'USB-Serial-JTAG', reset: 'usb-jtag', reenumeratesOnReset: true });
    expect(table.lookup('046d', 'c52b')).toBeNull(); // a mouse receiver
    expect(table.lookup(undefined, 'ea60')).toBeNull();
  });

  it('refuses a table listing one VID:PID twice', () => {
    const e = table.entries[0]!;
    expect(() => new BoardTable([e, e])).toThrow(/twice/);
  });
});

describe('UsbWatcher', () => {
  afterEach(() => vi.useRealTimers());

  it('reports boards present at start, only for known bridges, keyed by physical port', async () => {
    const h = harness([cp2102('/dev/ttyUSB0', '1-1.2'), { path: '/dev/ttyS0' }, { path: '/dev/ttyACM9', vendorId: '2341', productId: '0043' }]);
    await h.watcher.start();
    expect(h.events).toEqual(['attach 1-1.2 /dev/ttyUSB0']);
    expect(h.watcher.attached().map((b) => b.info)).toEqual([{ port: '/dev/ttyUSB0', transport: 'usb', usbVendorId: 0x10c4, usbProductId: 0xea60 }]);
    h.watcher.stop();
  });

  it('follows plug and unplug through rescans', async () => {
    const h = harness([]);
    await h.watcher.start();
    h.setPorts([cp2102('/dev/ttyUSB0', '1-1.2'), cp2102('/dev/ttyUSB1', '1-1.3')]);
    await h.watcher.rescan();
    h.setPorts([cp2102('/dev/ttyUSB1', '1-1.3')]);
    await h.watcher.rescan();
    expect(h.events).toEqual(['attach 1-1.2 /dev/ttyUSB0', 'attach 1-1.3 /dev/ttyUSB1', 'detach 1-1.2']);
    h.watcher.stop();
  });

  it('rescans after a USB hotplug event, when the tty has appeared', async () => {
    vi.useFakeTimers();
    const h = harness([]);
    await h.watcher.start();
    h.setPorts([cp2102('/dev/ttyUSB0', '1-1.4')]);
    h.hotplug.emit('attach', {});
    expect(h.events).toEqual([]);
    await vi.advanceTimersByTimeAsync(400);
    expect(h.events).toEqual(['attach 1-1.4 /dev/ttyUSB0']);
    h.watcher.stop();
  });

  it('follows a native-USB board that re-enumerates on reset instead of treating it as new', async () => {
    vi.useFakeTimers();
    const h = harness([jtag('/dev/ttyACM0', '1-2')]);
    await h.watcher.start();
    h.setPorts([]);
    await h.watcher.rescan();
    expect(h.watcher.attached()).toEqual([]);
    h.setPorts([jtag('/dev/ttyACM1', '1-2')]);
    await h.watcher.rescan();
    await vi.advanceTimersByTimeAsync(REENUMERATION_GRACE_MS + 100);
    expect(h.events).toEqual(['attach 1-2 /dev/ttyACM0', 'attach 1-2 /dev/ttyACM1']);
    expect(h.events.some((e) => e.startsWith('detach'))).toBe(false);
    h.watcher.stop();
  });

  it('does report a native-USB board that stays gone past the grace time', async () => {
    vi.useFakeTimers();
    const h = harness([jtag('/dev/ttyACM0', '1-2')]);
    await h.watcher.start();
    h.setPorts([]);
    await h.watcher.rescan();
    await vi.advanceTimersByTimeAsync(REENUMERATION_GRACE_MS + 100);
    expect(h.events).toEqual(['attach 1-2 /dev/ttyACM0', 'detach 1-2']);
    h.watcher.stop();
  });
});
