import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { WireMessage } from '../../common/api.js';
import type { SlotState } from '../../common/slot-state.js';
import { stationKeyBeside } from '../../core/secrets/station-key.js';
import { TokenSealer } from '../../core/secrets/token-sealer.js';
import { findNvsString } from '../../native/nvs/nvs-reader.js';
import { BoardHostClient } from '../../native/sim/board-host-client.js';
import { spawnBoardHost, type SpawnedBoardHost } from '../../native/sim/spawn-board-host.js';
import { prng } from './fuzz-kit.js';

/**
 * Crash safety: the station runs as a child process (`flashline serve --board-host …`), driven over
 * its WebSocket API like the UI and a scanner would (run, scan back), while the boards live in a
 * board host process of their own (native/sim/board-host.ts: each board on a pty, DTR/RTS over its
 * control socket) that the harness plugs and unplugs, like the operator's hands. The station is
 * SIGKILLed at a random moment of probe → flash → test → label → scan; the boards survive the kill,
 * as real ones would, and the station is restarted on the same data dir with the same boards in
 * its slots (so an interrupted board is probed again and resumed with its own token).
 * After every kill:
 *  - `PRAGMA integrity_check` is ok;
 *  - no token is on two labels, every labelled token has its label, and every label's token reached
 *    `verified` first (no label for a board that did not prove its token);
 *  - no token ever returns to `available` once it left it, and none is reserved twice (audit_log);
 *  - a token caught in reserved/written/verified by a kill is never handed to another board later:
 *    it stays in flight (resumable only by a board that holds it) or is burned; never available;
 *  - on the boards' own flash (read back from the board host, NVS partition parsed like Edgent):
 *    no token in two boards; every label's board (by MAC) holds that label's token; every token a
 *    board holds is one the station handed out (never `available`).
 * Runs: CRASH_RUNS (default 6) within CRASH_BUDGET_MS (default 50 s). The long run (tens of kills):
 * `CRASH_RUNS=40 CRASH_BUDGET_MS=900000 npx vitest run test/hardening/crash.test.ts`.
 */
const RUNS = Number(process.env.CRASH_RUNS ?? 6);
const BUDGET_MS = Number(process.env.CRASH_BUDGET_MS ?? 50_000);
const SLOTS = 4;
/** The station must print its URL within this (tsx compiles the sources on a cold start). */
const START_DEADLINE_MS = 30_000;
/** Kill between these many ms after the first runSlot: covers probe, flash, test, label, scan. */
const KILL_MIN_MS = 150;
const KILL_MAX_MS = 9_000;
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'flashline.mjs');
/** The demo product's NVS partition (resources/products/demo-thermostat.json). */
const NVS = { offset: 0x9000, size: 0x6000 };

interface Station {
  child: ChildProcessWithoutNullStreams;
  ws: WebSocket;
  call(name: string, args: unknown): Promise<unknown>;
}

async function startStation(dataDir: string, boardHost: string): Promise<Station> {
  const child = spawn(process.execPath, [BIN, 'serve', '--board-host', boardHost, '--data-dir', dataDir, '--slots', String(SLOTS), '--boards', '0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`station did not start in time:\n${out}\n${err}`)), START_DEADLINE_MS);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Open: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`station exited (${code}) before its URL:\n${out}\n${err}`)));
  });
  const u = new URL(url);
  const ws = new WebSocket(`ws://${u.host}/api/ws${u.search}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, (m: Extract<WireMessage, { kind: 'response' }>) => void>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as WireMessage;
    if (m.kind === 'response') pending.get(m.id)?.(m);
  });
  ws.on('error', () => undefined);
  return {
    child,
    ws,
    call: (name, args) =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, (m) => resolve(m.ok ? m.result : m.error));
        try {
          ws.send(JSON.stringify({ kind: 'request', id, name, args }));
        } catch {
          resolve(undefined);
        }
      }),
  };
}

/** Operator and scanner: keeps every slot busy until the station dies. Boards come from the host. */
function drive(station: Station, hands: BoardHostClient, nextSeed: () => number, orgId: () => string): { labelsScanned: () => number; resumes: () => number } {
  let scanned = 0;
  let resumes = 0;
  const busy = new Set<string>();
  const latest = new Map<string, SlotState>();
  const act = async (slotId: string, state: SlotState) => {
    if (busy.has(slotId)) return;
    busy.add(slotId);
    try {
      if (state.kind === 'detected') {
        // A board that holds a token from before the kill is offered for resume: take the offer.
        if (state.resume) resumes++;
        await station.call('runSlot', { slotId });
      } else if (state.kind === 'awaiting-scan' && !state.mismatch) {
        await station.call('scanLabel', { slotId, payload: `${state.token.qrToken}+${orgId()}` });
        scanned++;
      } else if (state.kind === 'done' || state.kind === 'failed') {
        await hands.unplug(slotId).catch(() => undefined);
        if (state.kind === 'failed') await station.call('clearSlot', { slotId });
        await hands.plug(slotId, { seed: nextSeed() }).catch(() => undefined);
      }
    } finally {
      busy.delete(slotId);
      // Events that arrived while this slot was busy were only remembered: act on the newest.
      const newest = latest.get(slotId);
      if (newest && newest !== state) void act(slotId, newest);
    }
  };
  station.ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as WireMessage;
    if (m.kind !== 'event' || m.event.type !== 'slot') return;
    latest.set(m.event.slot.id, m.event.slot.state);
    void act(m.event.slot.id, m.event.slot.state);
  });
  void (async () => {
    const snap = (await station.call('getSnapshot', {})) as { slots?: { id: string; state: SlotState }[] } | undefined;
    for (const s of snap?.slots ?? []) void act(s.id, s.state);
  })();
  return { labelsScanned: () => scanned, resumes: () => resumes };
}

interface BoardCheck {
  boards: number;
  holding: number;
  /** Token id -> MAC of the board whose NVS holds it. */
  holderOf: Map<number, string>;
}

/**
 * The boards' side, from their own flash: no token in two boards, every label's board holds that
 * label's token, and every token on a board left `available` (the station handed it out).
 */
async function checkBoards(hands: BoardHostClient, dbPath: string): Promise<BoardCheck> {
  const sealer = new TokenSealer(stationKeyBeside(dbPath).loadKey());
  const held = new Map<string, string>(); // MAC -> lookup digest of the token its NVS holds
  const boards = await hands.boards();
  for (const { mac } of boards) {
    const token = findNvsString(await hands.readFlash(mac, NVS.offset, NVS.size), 'blynk', 'auth');
    if (token !== undefined) held.set(mac.toLowerCase(), sealer.lookup(token));
  }
  const owners = new Map<string, string[]>();
  for (const [mac, lookup] of held) owners.set(lookup, [...(owners.get(lookup) ?? []), mac]);
  expect([...owners.values()].filter((macs) => macs.length > 1), 'a token in two boards').toEqual([]);
  const db = new Database(dbPath, { readonly: true });
  try {
    const labels = db.prepare('SELECT l.token_id AS tokenId, l.mac, t.auth_lookup AS lookup FROM labels l JOIN tokens t ON t.id = l.token_id').all() as { tokenId: number; mac: string | null; lookup: string }[];
    for (const label of labels) {
      expect(label.mac, `label of token ${label.tokenId} names no board`).not.toBeNull();
      expect(held.get(label.mac!.toLowerCase()) === label.lookup, `the board ${label.mac} of token ${label.tokenId}'s label does not hold that token`).toBe(true);
    }
    const stateOf = db.prepare('SELECT id, state FROM tokens WHERE auth_lookup = ?');
    const holderOf = new Map<number, string>();
    for (const [mac, lookup] of held) {
      const row = stateOf.get(lookup) as { id: number; state: string } | undefined;
      expect(row, `board ${mac} holds a token this station does not know`).toBeDefined();
      expect(row!.state, `board ${mac} holds token ${row!.id}, which is still available`).not.toBe('available');
      holderOf.set(row!.id, mac);
    }
    return { boards: boards.length, holding: held.size, holderOf };
  } finally {
    db.close();
  }
}

interface Check {
  inFlight: number[];
  labelled: number;
  failed: number;
  labels: number;
}

function checkInvariants(dbPath: string, previouslyInFlight: ReadonlySet<number>, holderAtKill: ReadonlyMap<number, string>): Check {
  const db = new Database(dbPath);
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const q = <T>(sql: string) => db.prepare(sql).all() as T[];
    expect(q('SELECT token_id FROM labels GROUP BY token_id HAVING count(*) > 1'), 'a token on two labels').toEqual([]);
    // A label is placed once the board proved its token (`verified`); the token becomes `labelled`
    // when the label is scanned back. A kill in between leaves a verified token with its label.
    expect(
      q("SELECT l.token_id, t.state FROM labels l JOIN tokens t ON t.id = l.token_id WHERE t.state NOT IN ('verified', 'labelled', 'shipped', 'failed', 'voided')"),
      'a label whose token is not past verified',
    ).toEqual([]);
    expect(q("SELECT t.id FROM tokens t LEFT JOIN labels l ON l.token_id = t.id WHERE t.state = 'labelled' AND l.id IS NULL"), 'a labelled token without its label').toEqual([]);
    expect(
      q("SELECT l.token_id FROM labels l WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.token_id = l.token_id AND a.to_state = 'verified')"),
      'a label for a token never verified',
    ).toEqual([]);
    expect(q("SELECT id FROM audit_log WHERE to_state = 'available' AND from_state IS NOT NULL"), 'a token back in available').toEqual([]);
    expect(q("SELECT token_id FROM audit_log WHERE to_state = 'reserved' GROUP BY token_id HAVING count(*) > 1"), 'a token reserved twice').toEqual([]);
    const states = new Map(q<{ id: number; state: string }>('SELECT id, state FROM tokens WHERE id IN (SELECT token_id FROM audit_log WHERE to_state = \'reserved\')').map((r) => [r.id, r.state]));
    const labelMac = db.prepare('SELECT mac FROM labels WHERE token_id = ?');
    for (const id of previouslyInFlight) {
      const state = states.get(id);
      if (state === 'labelled' || state === 'shipped') {
        // Resumed after the kill: only by the board that held it then (its NVS, read at that kill).
        const mac = (labelMac.get(id) as { mac: string | null } | undefined)?.mac?.toLowerCase();
        expect(holderAtKill.get(id), `token ${id} caught in flight was labelled, but no board held it at the kill`).toBeDefined();
        expect(mac, `token ${id} caught in flight on board ${holderAtKill.get(id)} was labelled for another board`).toBe(holderAtKill.get(id));
      } else {
        expect(['reserved', 'written', 'verified', 'failed', 'voided'], `token ${id} caught in flight by a kill is now ${state}`).toContain(state);
      }
    }
    const inFlight = [...states].filter(([, s]) => s === 'reserved' || s === 'written' || s === 'verified').map(([id]) => id);
    return {
      labels: (db.prepare('SELECT count(*) AS n FROM labels').get() as { n: number }).n,
      inFlight,
      labelled: [...states.values()].filter((s) => s === 'labelled').length,
      failed: [...states.values()].filter((s) => s === 'failed').length,
    };
  } finally {
    db.close();
  }
}

describe('SIGKILL at random points of flash → test → label → scan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flashline-crash-'));
  let host: SpawnedBoardHost | null = null;
  let hands: BoardHostClient | null = null;
  afterAll(async () => {
    hands?.close();
    await host?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps the database's promises across up to ${RUNS} kills`, async () => {
    const rand = prng(4242);
    const started = performance.now();
    const inFlightEver = new Set<number>();
    const log: string[] = [];
    let runs = 0;
    let last: Check = { inFlight: [], labelled: 0, failed: 0, labels: 0 };
    let lastBoards: BoardCheck = { boards: 0, holding: 0, holderOf: new Map() };
    /** Token id -> the board that held it when a kill caught it in flight (first seen). */
    const holderAtKill = new Map<number, string>();
    let resumes = 0;
    // The boards outlive every station below: one board host for the whole run.
    host = await spawnBoardHost(join(dir, 'boards.sock'));
    hands = await BoardHostClient.connect(host.socketPath);
    let seed = 1_000;
    const nextSeed = () => seed++;
    while (runs < RUNS && performance.now() - started < BUDGET_MS - 10_000) {
      const station = await startStation(dir, host.socketPath);
      // The first boards go in once the station told the host where its cloud is (self-test check).
      if (runs === 0) for (let i = 1; i <= SLOTS; i++) await hands.plug(`slot-${i}`, { seed: nextSeed() });
      // The label's QR payload is `{qrToken}+{orgId}`; the organisation is the batch's.
      const orgId = () => {
        const db = new Database(join(dir, 'station.db'), { readonly: true });
        try {
          return String((db.prepare('SELECT org_id FROM batches LIMIT 1').get() as { org_id: number } | undefined)?.org_id ?? '');
        } finally {
          db.close();
        }
      };
      const driver = drive(station, hands, nextSeed, orgId);
      const killAfter = KILL_MIN_MS + Math.floor(rand() * (KILL_MAX_MS - KILL_MIN_MS));
      await new Promise((r) => setTimeout(r, killAfter));
      const exited = new Promise((r) => station.child.once('exit', r));
      station.child.kill('SIGKILL');
      await exited;
      station.ws.terminate();
      runs++;
      // Let plugs and unplugs the driver had under way settle before reading the boards.
      await new Promise((r) => setTimeout(r, 200));
      last = checkInvariants(join(dir, 'station.db'), inFlightEver, holderAtKill);
      lastBoards = await checkBoards(hands, join(dir, 'station.db'));
      for (const id of last.inFlight) {
        inFlightEver.add(id);
        const holder = lastBoards.holderOf.get(id);
        if (holder && !holderAtKill.has(id)) holderAtKill.set(id, holder);
      }
      resumes += driver.resumes();
      log.push(
        `run ${runs}: killed after ${killAfter} ms, ${driver.labelsScanned()} scans, ${driver.resumes()} resumes; labels ${last.labels}, labelled ${last.labelled}, failed ${last.failed}, in flight ${last.inFlight.length}; boards ${lastBoards.boards}, holding a token ${lastBoards.holding}`,
      );
    }
    console.log(`crash harness: ${runs} kills in ${((performance.now() - started) / 1000).toFixed(1)} s\n  ${log.join('\n  ')}`);
    expect(runs).toBeGreaterThanOrEqual(Math.min(RUNS, 2));
    // The harness must have exercised the path: boards were labelled and kills caught tokens in flight.
    expect(last.labels).toBeGreaterThan(0);
    expect(inFlightEver.size).toBeGreaterThan(0);
    expect(lastBoards.holding).toBeGreaterThan(0);
    console.log(`  resumes offered after a kill and taken: ${resumes}`);
  }, BUDGET_MS + START_DEADLINE_MS);
});
