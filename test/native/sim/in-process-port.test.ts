import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessPort } from '../../../native/sim/in-process-port.js';
import { VirtualBoard } from '../../../native/sim/virtual-board.js';
import { sleep } from './sim-helpers.js';

let board: VirtualBoard;

afterEach(() => board.dispose());

describe('in-process Web Serial port', () => {
  it('has no streams while closed, raises DTR+RTS on open and drops them on close without resetting', async () => {
    board = new VirtualBoard();
    const port = createInProcessPort(board, { vendorId: 0x1a86, productId: 0x7523 });
    expect(port.getInfo()).toEqual({ usbVendorId: 0x1a86, usbProductId: 0x7523 });
    expect(port.readable).toBeNull();
    expect(port.writable).toBeNull();
    await port.open({ baudRate: 115200 });
    expect(board.lines).toMatchObject({ dtr: true, rts: true });
    await expect(port.open({ baudRate: 115200 })).rejects.toMatchObject({ name: 'InvalidStateError' });
    expect(port.readable).not.toBeNull();
    await port.close();
    expect(board.lines).toMatchObject({ dtr: false, rts: false });
    expect(board.mode).toBe('app');
    expect(board.appState?.kind).toBe('running');
  });

  it('re-creates the readable after a reader cancels, and refuses to close while a stream is locked', async () => {
    board = new VirtualBoard();
    const port = createInProcessPort(board);
    await port.open({ baudRate: 115200 });
    const first = port.readable!;
    const reader = first.getReader();
    await expect(port.close()).rejects.toMatchObject({ name: 'InvalidStateError' });
    await reader.cancel();
    reader.releaseLock();
    const second = port.readable!;
    expect(second).not.toBe(first);
    expect(second.locked).toBe(false);
    await port.close();
  });

  it('carries bytes both ways and changes only the signals it is given', async () => {
    board = new VirtualBoard();
    const port = createInProcessPort(board);
    await port.open({ baudRate: 115200 });
    await port.setSignals({ requestToSend: false });
    expect(board.lines).toMatchObject({ dtr: true, rts: false });
    const reader = port.readable!.getReader();
    const writer = port.writable!.getWriter();
    await writer.write(Buffer.from('devinfo\n'));
    let text = '';
    while (!text.includes('"fw_ver"')) text += Buffer.from((await reader.read()).value!).toString('latin1');
    reader.releaseLock();
    writer.releaseLock();
    await port.close();
    expect(text).toContain('"tmpl_id"');
  });

  it('fails like a lost USB device when the board is unplugged', async () => {
    board = new VirtualBoard();
    const port = createInProcessPort(board);
    let disconnected = false;
    port.addEventListener('disconnect', () => {
      disconnected = true;
    });
    await port.open({ baudRate: 115200 });
    const reader = port.readable!.getReader();
    const pending = reader.read();
    board.unplug();
    await expect(pending).rejects.toMatchObject({ name: 'NetworkError' });
    expect(disconnected).toBe(true);
    expect(port.connected).toBe(false);
    expect(board.mode).toBe('off');
    await expect(port.open({ baudRate: 115200 })).rejects.toMatchObject({ name: 'NetworkError' });
    board.replug();
    await sleep(1);
    expect(board.mode).toBe('app');
  });
});
