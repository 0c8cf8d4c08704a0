import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StationEvent } from '../../common/api.js';
import type { HostSecrets } from '../../app/station-host-protocol.js';
import { FakeUtilityChild } from './fake-utility-process.js';

const fake = await vi.hoisted(async () => (await import('./fake-utility-process.js')).createFakeUtilityProcess());
vi.mock('electron', () => ({ utilityProcess: fake.utilityProcess }));

const { forkUtilityHost, STATION_HOST_SERVICE_NAME } = await import('../../electron/utility-host-channel.js');
const { StationHostSupervisor, HOST_MAX_RESTARTS, HOST_RESTART_DELAY_MS } = await import('../../electron/station-host-supervisor.js');
const { HOST_HEARTBEAT_INTERVAL_MS, HOST_HEARTBEAT_TIMEOUT_MS } = await import('../../app/station-host-protocol.js');

const SECRETS: HostSecrets = {
  stationKey: Buffer.alloc(32, 7).toString('base64'),
  cloudCredentials: { clientId: 'station-abc', clientSecret: 'very-secret-client-secret' },
};

function supervisor(overrides: { startTimeoutMs?: number } = {}) {
  const onGiveUp = vi.fn();
  const log = vi.fn();
  const sup = new StationHostSupervisor({
    fork: () => forkUtilityHost('/app/dist/electron/station-host.js', log),
    startOptions: { dataDir: '/data' },
    secrets: () => Promise.resolve(SECRETS),
    onGiveUp,
    log,
    ...overrides,
  });
  return { sup, onGiveUp, log };
}

const child = (i: number) => fake.children[i]!;

beforeEach(() => {
  fake.children.length = 0;
  fake.utilityProcess.fork.mockClear();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('utility process channel', () => {
  it('forks the host entry as a named utility process with no arguments and no extra environment', async () => {
    const { sup } = supervisor();
    await sup.start();
    expect(fake.utilityProcess.fork).toHaveBeenCalledOnce();
    const [modulePath, args, options] = fake.utilityProcess.fork.mock.calls[0]!;
    expect(modulePath).toBe('/app/dist/electron/station-host.js');
    expect(args).toEqual([]);
    expect(options).toMatchObject({ serviceName: STATION_HOST_SERVICE_NAME });
    expect(options).not.toHaveProperty('env');
    expect(options).not.toHaveProperty('execArgv');
  });

  it('hands the secrets over only in the start message on the private channel', async () => {
    const { sup, log } = supervisor();
    await sup.start();
    const start = child(0).received[0]!;
    expect(start).toMatchObject({ type: 'start', options: { dataDir: '/data' }, secrets: SECRETS });
    const everythingElse = JSON.stringify([fake.utilityProcess.fork.mock.calls, log.mock.calls, child(0).received.slice(1)]);
    expect(everythingElse).not.toContain(SECRETS.stationKey);
    expect(everythingElse).not.toContain(SECRETS.cloudCredentials!.clientSecret);
  });

  it('queues messages posted before the child has spawned', () => {
    const channel = forkUtilityHost('/x.js');
    channel.send({ type: 'shutdown' });
    expect(child(0).postMessage).not.toHaveBeenCalled();
    child(0).emit('spawn');
    expect(child(0).postMessage).toHaveBeenCalledWith({ type: 'shutdown' });
  });
});

describe('StationHostSupervisor', () => {
  it('relays calls to the host and its events to subscribers', async () => {
    const { sup } = supervisor();
    const events: StationEvent[] = [];
    sup.subscribe((event) => events.push(event));
    await sup.start();
    await expect(sup.call('runSlot', { slotId: 'slot-1' })).resolves.toEqual({ called: 'runSlot' });
    expect(child(0).received[1]).toMatchObject({ type: 'call', name: 'runSlot', args: { slotId: 'slot-1' } });
    child(0).reply({ type: 'event', event: { type: 'slot', slot: { id: 'slot-1', index: 1, state: { kind: 'empty' } } } });
    expect(events).toEqual([{ type: 'slot', slot: { id: 'slot-1', index: 1, state: { kind: 'empty' } } }]);
  });

  it('returns errors from the core as StationError data', async () => {
    const { sup } = supervisor();
    await sup.start();
    child(0).onCall = (m) => ({ type: 'result', id: m.id, ok: false, error: { code: 'NOT_FOUND', message: 'No slot slot-9.', operatorFault: true } });
    await expect(sup.call('runSlot', { slotId: 'slot-9' })).rejects.toMatchObject({ name: 'StationError', code: 'NOT_FOUND', operatorFault: true });
  });

  it('drops malformed host messages without crashing or answering a call with them', async () => {
    const { sup, log } = supervisor();
    await sup.start();
    child(0).onCall = () => null;
    const pending = sup.call('getSnapshot', {});
    child(0).emit('message', { type: 'result', id: 1, ok: 'maybe' });
    child(0).emit('message', { type: 'result', id: 1, ok: true, result: { slots: [] } });
    await expect(pending).resolves.toEqual({ slots: [] });
    expect(log).toHaveBeenCalledWith(expect.stringContaining('malformed host protocol message'));
  });

  it('rejects pending calls when the host dies, restarts it, and sends windows a fresh snapshot', async () => {
    vi.useFakeTimers();
    const { sup, onGiveUp } = supervisor();
    const events: StationEvent[] = [];
    sup.subscribe((event) => events.push(event));
    await sup.start();
    child(0).onCall = () => null;
    const pending = sup.call('runSlot', { slotId: 'slot-1' });
    await vi.advanceTimersByTimeAsync(0);
    child(0).crash(139);
    await expect(pending).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('stopped unexpectedly') });
    expect(sup.state()).toBe('restarting');
    await expect(sup.call('getSnapshot', {})).rejects.toMatchObject({ code: 'BUSY', message: expect.stringContaining('restarting') });

    await vi.advanceTimersByTimeAsync(HOST_RESTART_DELAY_MS);
    expect(fake.children).toHaveLength(2);
    expect(child(1).received[0]).toMatchObject({ type: 'start', secrets: SECRETS });
    await vi.waitFor(() => expect(events).toContainEqual({ type: 'snapshot', snapshot: { slots: [], restarted: true } }));
    expect(sup.state()).toBe('running');
    await expect(sup.call('runSlot', { slotId: 'slot-1' })).resolves.toEqual({ called: 'runSlot' });
    expect(onGiveUp).not.toHaveBeenCalled();
  });

  it('kills a hung core (no answer to pings) and restarts it; a busy but alive one is left alone', async () => {
    vi.useFakeTimers();
    const { sup, log } = supervisor();
    await sup.start();
    // Alive: answers every ping, however long the run.
    await vi.advanceTimersByTimeAsync(HOST_HEARTBEAT_TIMEOUT_MS * 3);
    expect(child(0).kill).not.toHaveBeenCalled();
    expect(child(0).received.filter((m) => m.type === 'ping').length).toBeGreaterThanOrEqual(3 * (HOST_HEARTBEAT_TIMEOUT_MS / HOST_HEARTBEAT_INTERVAL_MS) - 1);

    child(0).onCall = () => null;
    const pending = sup.call('runSlot', { slotId: 'slot-1' });
    child(0).hung = true;
    const assertion = expect(pending).rejects.toMatchObject({ code: 'INTERNAL' });
    await vi.advanceTimersByTimeAsync(HOST_HEARTBEAT_TIMEOUT_MS + HOST_HEARTBEAT_INTERVAL_MS);
    await assertion;
    expect(child(0).kill).toHaveBeenCalledOnce();
    expect(log).toHaveBeenCalledWith(expect.stringContaining('stopped answering for 30 s'));
    await vi.advanceTimersByTimeAsync(HOST_RESTART_DELAY_MS);
    await vi.waitFor(() => expect(sup.state()).toBe('running'));
    expect(fake.children).toHaveLength(2);
  });

  it('gives up with a clear error after too many crashes', async () => {
    vi.useFakeTimers();
    const { sup, onGiveUp } = supervisor();
    await sup.start();
    for (let i = 0; i < HOST_MAX_RESTARTS; i++) {
      child(i).crash(1);
      await vi.advanceTimersByTimeAsync(HOST_RESTART_DELAY_MS);
      await vi.waitFor(() => expect(sup.state()).toBe('running'));
    }
    child(HOST_MAX_RESTARTS).reply({ type: 'fatal', error: { code: 'INTERNAL', message: 'Disk full.', operatorFault: false } });
    child(HOST_MAX_RESTARTS).crash(1);
    expect(onGiveUp).toHaveBeenCalledOnce();
    const error = onGiveUp.mock.calls[0]![0] as { message: string };
    expect(error.message).toMatch(/stopped 4 times within 10 minutes \(last: Disk full\.\)\. Restart Flashline/);
    expect(sup.state()).toBe('gave-up');
    await vi.advanceTimersByTimeAsync(HOST_RESTART_DELAY_MS * 5);
    expect(fake.children).toHaveLength(HOST_MAX_RESTARTS + 1);
    await expect(sup.call('getSnapshot', {})).rejects.toMatchObject({ code: 'INTERNAL', message: error.message });
  });

  it('a restart that fails to start counts against the budget and is retried', async () => {
    vi.useFakeTimers();
    const { sup } = supervisor();
    await sup.start();
    fake.utilityProcess.fork.mockImplementationOnce((modulePath: string, args?: string[], options?: Record<string, unknown>) => {
      const c = new FakeUtilityChild(modulePath, args, options);
      c.onStart = () => ({ type: 'fatal', error: { code: 'INTERNAL', message: 'database is locked', operatorFault: false } });
      fake.children.push(c);
      return c;
    });
    child(0).crash(1);
    await vi.advanceTimersByTimeAsync(HOST_RESTART_DELAY_MS);
    await vi.advanceTimersByTimeAsync(HOST_RESTART_DELAY_MS);
    await vi.waitFor(() => expect(sup.state()).toBe('running'));
    expect(fake.children).toHaveLength(3);
  });

  it('a core that cannot start the first time is reported to the caller and not restarted', async () => {
    vi.useFakeTimers();
    fake.utilityProcess.fork.mockImplementationOnce((modulePath: string, args?: string[], options?: Record<string, unknown>) => {
      const c = new FakeUtilityChild(modulePath, args, options);
      c.onStart = () => ({ type: 'fatal', error: { code: 'INTERNAL', message: 'The station key file is damaged.', operatorFault: false } });
      fake.children.push(c);
      return c;
    });
    const { sup, onGiveUp } = supervisor();
    await expect(sup.start()).rejects.toMatchObject({ message: 'The station key file is damaged.' });
    await vi.advanceTimersByTimeAsync(HOST_RESTART_DELAY_MS * 3);
    expect(fake.children).toHaveLength(1);
    expect(onGiveUp).not.toHaveBeenCalled();
  });

  it('kills a host that does not become ready in time', async () => {
    vi.useFakeTimers();
    fake.utilityProcess.fork.mockImplementationOnce((modulePath: string, args?: string[], options?: Record<string, unknown>) => {
      const c = new FakeUtilityChild(modulePath, args, options);
      c.onStart = () => null;
      fake.children.push(c);
      return c;
    });
    const { sup } = supervisor({ startTimeoutMs: 5_000 });
    const started = sup.start();
    const assertion = expect(started).rejects.toMatchObject({ message: expect.stringContaining('did not start within 5 s') });
    await vi.advanceTimersByTimeAsync(5_000);
    await assertion;
    expect(child(0).kill).toHaveBeenCalled();
  });

  it('closes the core with a shutdown message and does not restart it', async () => {
    vi.useFakeTimers();
    const { sup } = supervisor();
    await sup.start();
    await sup.close();
    expect(child(0).received.at(-1)).toEqual({ type: 'shutdown' });
    expect(child(0).exited).toBe(true);
    await vi.advanceTimersByTimeAsync(HOST_RESTART_DELAY_MS * 3);
    expect(fake.children).toHaveLength(1);
    expect(sup.state()).toBe('closed');
  });

  it('kills a host that ignores shutdown', async () => {
    vi.useFakeTimers();
    const { sup } = supervisor();
    await sup.start();
    child(0).postMessage.mockImplementation(() => undefined);
    const closing = sup.close();
    await vi.advanceTimersByTimeAsync(10_000);
    await closing;
    expect(child(0).kill).toHaveBeenCalled();
    expect(sup.state()).toBe('closed');
  });
});
