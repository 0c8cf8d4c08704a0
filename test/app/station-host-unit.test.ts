import { describe, expect, it, vi } from 'vitest';
import type { StationEvent } from '../../common/api.js';
import { stationError } from '../../common/errors.js';
import { HandedOverStationKey, serveStationHost, type HostedStation } from '../../app/station-host.js';
import { HOST_PROTOCOL_VERSION, parseHostMessage, parseParentMessage, type HostMessage } from '../../app/station-host-protocol.js';

const KEY = Buffer.alloc(32, 9).toString('base64');
const start = { type: 'start', protocol: HOST_PROTOCOL_VERSION, options: { dataDir: '/d' }, secrets: { stationKey: KEY } };

function harness(startImpl?: () => Promise<HostedStation>) {
  const sent: HostMessage[] = [];
  let deliver: (raw: unknown) => void = () => undefined;
  const listeners = new Set<(event: StationEvent) => void>();
  const station: HostedStation = {
    dataDir: '/d',
    initialSupervisorPin: '1234',
    call: vi.fn(async (name: string) => {
      if (name === 'runSlot') throw stationError('NOT_FOUND', 'No such slot.', true);
      return { called: name };
    }) as never,
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: vi.fn(async () => undefined),
  };
  const deps = { start: vi.fn(startImpl ?? (async () => station)), exit: vi.fn(), log: vi.fn() };
  const host = serveStationHost({ send: (m) => sent.push(m), onMessage: (l) => (deliver = l) }, deps);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  return { sent, deliver: (raw: unknown) => deliver(raw), station, deps, host, settle, emit: (e: StationEvent) => listeners.forEach((l) => l(e)) };
}

describe('station host protocol schemas', () => {
  it('rejects a malformed start without echoing the key it carries', () => {
    const parsed = parseParentMessage({ ...start, secrets: { stationKey: `${KEY}!!` } });
    expect(parsed.ok).toBe(false);
    expect(JSON.stringify(parsed)).not.toContain(KEY.slice(0, 20));
    expect(parsed).toMatchObject({ reason: expect.stringContaining('secrets.stationKey') });
  });

  it('accepts both result shapes and refuses unknown messages', () => {
    expect(parseHostMessage({ type: 'result', id: 1, ok: true, result: 5 }).ok).toBe(true);
    expect(parseHostMessage({ type: 'result', id: 1, ok: false, error: { code: 'BUSY', message: 'x', operatorFault: false } }).ok).toBe(true);
    expect(parseHostMessage({ type: 'result', id: 1, ok: false, error: { code: 'NOPE', message: 'x', operatorFault: false } }).ok).toBe(false);
    expect(parseParentMessage({ type: 'eval', code: '1' }).ok).toBe(false);
    expect(parseParentMessage({ ...start, options: { dataDir: '/d', env: { A: '1' } } }).ok).toBe(false);
  });

  it('holds a handed-over key only if it is 32 bytes', () => {
    expect(new HandedOverStationKey(KEY).loadKey()).toEqual(Buffer.alloc(32, 9));
    expect(() => new HandedOverStationKey(Buffer.alloc(16).toString('base64'))).toThrow(/wrong length/);
  });
});

describe('serveStationHost', () => {
  it('answers calls before start with BUSY, then ready, results, errors and events', async () => {
    const h = harness();
    h.deliver({ type: 'call', id: 1, name: 'getSnapshot', args: {} });
    await h.settle();
    expect(h.sent[0]).toMatchObject({ type: 'result', id: 1, ok: false, error: { code: 'BUSY' } });
    h.deliver(start);
    await h.settle();
    expect(h.deps.start).toHaveBeenCalledWith({ dataDir: '/d' }, { stationKey: KEY });
    expect(h.sent[1]).toEqual({ type: 'ready', protocol: HOST_PROTOCOL_VERSION, dataDir: '/d', initialSupervisorPin: '1234' });
    h.deliver({ type: 'call', id: 2, name: 'getSnapshot', args: {} });
    h.deliver({ type: 'call', id: 3, name: 'runSlot', args: { slotId: 'slot-8' } });
    h.deliver({ type: 'call', id: 4, name: 'rm -rf', args: {} });
    await h.settle();
    expect(h.sent).toContainEqual({ type: 'result', id: 2, ok: true, result: { called: 'getSnapshot' } });
    expect(h.sent).toContainEqual({ type: 'result', id: 3, ok: false, error: { code: 'NOT_FOUND', message: 'No such slot.', operatorFault: true } });
    expect(h.sent).toContainEqual(expect.objectContaining({ type: 'result', id: 4, ok: false, error: expect.objectContaining({ code: 'INVALID_INPUT' }) }));
    h.emit({ type: 'slot', slot: { id: 'slot-1', index: 1, state: { kind: 'empty' } } });
    expect(h.sent.at(-1)).toEqual({ type: 'event', event: { type: 'slot', slot: { id: 'slot-1', index: 1, state: { kind: 'empty' } } } });
  });

  it('logs a malformed message without its content and ignores it', async () => {
    const h = harness();
    h.deliver({ ...start, protocol: 99 });
    await h.settle();
    expect(h.deps.start).not.toHaveBeenCalled();
    expect(h.deps.log).toHaveBeenCalledWith(expect.stringContaining('malformed'));
    expect(JSON.stringify(h.deps.log.mock.calls)).not.toContain(KEY);
  });

  it('shuts down: closes the core, says closed, exits 0', async () => {
    const h = harness();
    h.deliver(start);
    await h.settle();
    h.deliver({ type: 'shutdown' });
    await h.settle();
    expect(h.station.close).toHaveBeenCalledOnce();
    expect(h.sent.at(-1)).toEqual({ type: 'closed' });
    expect(h.deps.exit).toHaveBeenCalledWith(0);
    expect(h.host.state()).toBe('closed');
  });

  it('a shutdown during start closes the core as soon as it is up', async () => {
    let finish!: () => void;
    const h = harness(() => new Promise<HostedStation>((resolve) => (finish = () => resolve(h.station))));
    h.deliver(start);
    await h.settle();
    h.deliver({ type: 'shutdown' });
    await h.settle();
    expect(h.deps.exit).not.toHaveBeenCalled();
    finish();
    await h.settle();
    expect(h.station.close).toHaveBeenCalledOnce();
    expect(h.sent.map((m) => m.type)).toEqual(['closed']);
    expect(h.deps.exit).toHaveBeenCalledWith(0);
  });

  it('a start failure or a later crash is reported as fatal, then exit 1', async () => {
    const failing = harness(async () => {
      throw stationError('INTERNAL', 'The station key file is damaged.');
    });
    failing.deliver(start);
    await failing.settle();
    expect(failing.sent).toEqual([{ type: 'fatal', error: { code: 'INTERNAL', message: 'The station key file is damaged.', operatorFault: false } }]);
    expect(failing.deps.exit).toHaveBeenCalledWith(1);

    const crashing = harness();
    crashing.deliver(start);
    await crashing.settle();
    crashing.host.fail(new TypeError('cannot read properties of undefined'));
    // An unknown error becomes INTERNAL without leaking its text.
    expect(crashing.sent.at(-1)).toMatchObject({ type: 'fatal', error: { code: 'INTERNAL' } });
    expect(crashing.deps.exit).toHaveBeenCalledWith(1);
  });
});
