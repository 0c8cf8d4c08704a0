import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { openStationDatabase, type StationDatabase } from '../../../core/db/open-database.js';
import { TokenQueue } from '../../../core/queue/token-queue.js';

function token(i: number): { authToken: string; qrToken: string } {
  return { authToken: `auth${String(i).padStart(28, '0')}`, qrToken: `sqr_${String(i).padStart(32, '0')}` };
}

describe('TokenQueue', () => {
  let dir: string;
  let db: StationDatabase;
  let queue: TokenQueue;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-queue-'));
    db = openStationDatabase(join(dir, 'station.db'));
    queue = new TokenQueue(db);
    queue.importBatch({ batchId: 'b1', cloudBatchId: 'c1', templateId: 'TMPL1', orgId: 7, tokens: [token(1), token(2), token(3)] });
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens in WAL with synchronous=FULL', () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('imports a batch once (same id twice adds nothing)', () => {
    expect(queue.importBatch({ batchId: 'b1', cloudBatchId: 'c1', templateId: 'TMPL1', orgId: 7, tokens: [token(9)] })).toBe(0);
    expect(queue.stock().available).toBe(3);
  });

  it('reserves the oldest token durably, and a second reservation gets the next one', () => {
    const a = queue.reserve('slot-1', '/dev/ttyUSB0');
    const b = queue.reserve('slot-2', '/dev/ttyUSB1');
    expect(a.id).toBeLessThan(b.id);
    expect(a.authToken).toBe(token(1).authToken);
    // durable: a second connection sees it
    const other = openStationDatabase(join(dir, 'station.db'));
    const row = other.prepare('SELECT state, slot_id FROM tokens WHERE id = ?').get(a.id) as { state: string; slot_id: string };
    other.close();
    expect(row).toEqual({ state: 'reserved', slot_id: 'slot-1' });
  });

  it('burns a failed token and never hands it out again', () => {
    const a = queue.reserve('slot-1', 'p');
    queue.burn(a.id, 'FLASH_WRITE_FAILED');
    const ids = [queue.reserve('slot-1', 'p').id, queue.reserve('slot-1', 'p').id];
    expect(ids).not.toContain(a.id);
    expect(() => queue.reserve('slot-1', 'p')).toThrow(StationError);
    expect(queue.stock()).toMatchObject({ available: 0, failed: 1, inProgress: 2 });
  });

  it('enforces the state machine in code and in the database', () => {
    const a = queue.reserve('slot-1', 'p');
    expect(() => queue.advance(a.id, 'labelled')).toThrow(/reserved -> labelled/);
    expect(() => db.prepare(`UPDATE tokens SET state = 'available' WHERE id = ?`).run(a.id)).toThrow(/illegal token transition/);
    expect(() => db.prepare('DELETE FROM tokens WHERE id = ?').run(a.id)).toThrow(/never deleted/);
  });

  it('keeps an append-only audit trail and writes outbox records in the same transaction', () => {
    const a = queue.reserve('slot-1', 'p');
    queue.advance(a.id, 'written', { boardMac: 'aa:bb:cc:dd:ee:ff' });
    queue.advance(a.id, 'verified');
    queue.advance(a.id, 'labelled', { labelSheetId: 's1', labelPosition: 0 }, { recordId: 'r1', kind: 'device', payload: { x: 1 } });
    expect(queue.auditFor(a.id).map((r) => r.toState)).toEqual(['reserved', 'written', 'verified', 'labelled']);
    expect(queue.pendingOutbox()).toEqual([{ id: 1, recordId: 'r1', kind: 'device', payload: { x: 1 } }]);
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    // no AuthToken anywhere in the audit trail
    const all = JSON.stringify(db.prepare('SELECT * FROM audit_log').all());
    expect(all).not.toContain(token(1).authToken);
  });

  it('rolls back the state change when the outbox write fails', () => {
    const a = queue.reserve('slot-1', 'p');
    queue.advance(a.id, 'written');
    // a payload that cannot be serialised makes the outbox insert throw inside the transaction
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => queue.advance(a.id, 'verified', {}, { recordId: 'r2', kind: 'device', payload: circular })).toThrow();
    expect(queue.get(a.id).state).toBe('written');
  });
});
