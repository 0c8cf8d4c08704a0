import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StationEvent } from '../../common/api.js';
import { StationError } from '../../common/errors.js';
import { StationHostClient, type HostExit } from '../../app/station-host-client.js';
import { forkNodeHost, type NodeHost } from '../../app/station-host-node.js';
import type { HostSecrets, HostStartOptions } from '../../app/station-host-protocol.js';

/**
 * The station host run for real under plain Node (child_process.fork + tsx): the same entry and
 * protocol the Electron utility process runs. The core inside is the real embedded station
 * (SQLite, embedded cloud, virtual boards in-process).
 */
let dir: string;
const hosts: NodeHost[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flashline-host-'));
});

afterEach(async () => {
  for (const host of hosts.splice(0)) {
    if (host.child.exitCode === null && host.child.signalCode === null) host.child.kill('SIGKILL');
  }
  await rm(dir, { recursive: true, force: true });
});

function spawnHost(): { host: NodeHost; client: StationHostClient; stderr: () => string } {
  const host = forkNodeHost({ stderr: 'pipe' });
  hosts.push(host);
  let err = '';
  host.child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  return { host, client: new StationHostClient(host.channel), stderr: () => err };
}

function options(dataDir = dir): HostStartOptions {
  return { dataDir, slots: 1, virtualBoards: 0, boardTransport: 'in-process', batchSize: 10 };
}

function secrets(): HostSecrets {
  return {
    stationKey: randomBytes(32).toString('base64'),
    cloudCredentials: { clientId: 'station-test', clientSecret: randomBytes(24).toString('base64url') },
  };
}

function exitOf(client: StationHostClient): Promise<HostExit> {
  return new Promise((resolve) => client.onExit(resolve));
}

describe('station host under plain Node', () => {
  it('starts, answers getSnapshot and a command, streams events, and shuts down cleanly', async () => {
    const { host, client, stderr } = spawnHost();
    const given = secrets();
    const ready = await client.start(options(), given);
    expect(ready.dataDir).toBe(dir);
    expect(ready.initialSupervisorPin).toMatch(/^\d+$/);

    const snapshot = await client.call('getSnapshot', {});
    expect(snapshot.slots).toHaveLength(1);
    expect(snapshot.stock.available).toBeGreaterThan(0);

    const events: StationEvent[] = [];
    client.subscribe((event) => events.push(event));
    const plugged = await client.call('plugVirtualBoard', { slotId: 'slot-1' });
    expect(plugged.port).toEqual(expect.any(String));
    await expect.poll(() => events.some((e) => e.type === 'slot' && e.slot.id === 'slot-1' && e.slot.state.kind !== 'empty'), { timeout: 10_000 }).toBe(true);

    // A malformed call is refused by the host's own schema check.
    await expect(client.call('plugVirtualBoard', { slotId: 42 } as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });

    // The key travelled only on the private channel: not in argv, not in the environment, not in
    // any file the host wrote, not in its log.
    const pid = host.child.pid!;
    if (process.platform === 'linux') {
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(given.stationKey);
      expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain(given.stationKey);
    }
    const files = await readdir(dir);
    expect(files).not.toContain('station.key');
    expect(files).not.toContain('cloud-credentials.json');

    const exited = exitOf(client);
    const closed = await client.close();
    expect(closed).toMatchObject({ expected: true, code: 0 });
    await expect(exited).resolves.toMatchObject({ expected: true, code: 0 });
    expect(stderr()).not.toContain(given.stationKey);
    expect(stderr()).not.toContain(given.cloudCredentials!.clientSecret);
    await expect(client.call('getSnapshot', {})).rejects.toBeInstanceOf(StationError);

    // A second host opens the same database with the same handed-over key.
    const before = snapshot.stock.available;
    const second = spawnHost().client;
    await second.start(options(), given);
    expect((await second.call('getSnapshot', {})).stock.available).toBe(before);
    await second.close();
  });

  it('reports a crash of the host as an error on pending calls and on exit, not a hang', async () => {
    const { host, client } = spawnHost();
    await client.start(options(), secrets());
    const exited = exitOf(client);
    const pending = client.call('getSnapshot', {});
    host.child.kill('SIGKILL');
    await expect(pending).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('stopped unexpectedly') });
    const exit = await exited;
    expect(exit.expected).toBe(false);
    expect(exit.error.message).toContain('killed');
    await expect(client.call('getSnapshot', {})).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('reports a hung host (stopped, answering nothing) as an error within the heartbeat timeout', async () => {
    const host = forkNodeHost({ stderr: 'pipe' });
    hosts.push(host);
    host.child.stderr?.resume();
    const client = new StationHostClient(host.channel, { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 1_000 });
    await client.start(options(), secrets());
    const exited = exitOf(client);
    const pending = client.call('getSnapshot', {}).catch((err: unknown) => err);
    // SIGSTOP freezes the whole process: its event loop no longer turns, like a core stuck in a loop.
    host.child.kill('SIGSTOP');
    const exit = await exited;
    expect(exit).toMatchObject({ expected: false, error: { message: expect.stringContaining('stopped answering for 1 s') } });
    await expect(pending).resolves.toMatchObject({ code: 'INTERNAL' });
  });

  it('reports a core that cannot start as fatal and exits 1', async () => {
    const notADir = path.join(dir, 'file');
    writeFileSync(notADir, 'x');
    const { client } = spawnHost();
    const exited = exitOf(client);
    await expect(client.start(options(path.join(notADir, 'data')), secrets())).rejects.toBeInstanceOf(StationError);
    await expect(exited).resolves.toMatchObject({ expected: false, code: 1 });
    expect(existsSync(path.join(notADir, 'data'))).toBe(false);
  });

  it('without handed-over secrets keeps the plain-Node 0600 files', async () => {
    const { client } = spawnHost();
    await client.start(options());
    await client.close();
    const files = await readdir(dir);
    expect(files).toEqual(expect.arrayContaining(['station.key', 'cloud-credentials.json']));
  });
});
