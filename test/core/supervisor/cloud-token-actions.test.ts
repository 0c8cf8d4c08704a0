import { beforeEach, describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import type { StaticTokenLifecycleClient, StaticTokenState } from '../../../core/cloud/cloud-client.js';
import { openStationDatabase, type StationDatabase } from '../../../core/db/open-database.js';
import { TokenQueue } from '../../../core/queue/token-queue.js';
import { CloudTokenActions, qrTokenOf } from '../../../core/supervisor/cloud-token-actions.js';

const qr = (i: number) => `sqr_${String(i).padStart(32, 'q')}`;
const auth = (i: number) => String(i).padStart(32, 'A');

/** A lifecycle client that answers as told and records what it was asked. */
class FakeLifecycle implements StaticTokenLifecycleClient {
  fail: StationError | null = null;
  calls: string[] = [];
  async disclaim(token: string): Promise<StaticTokenState> {
    this.calls.push(`disclaim ${token}`);
    if (this.fail) throw this.fail;
    return { token, orgId: 1, status: 'UNCLAIMED' };
  }
  async deleteStaticToken(token: string): Promise<{ deletedDeviceId: number | null }> {
    this.calls.push(`delete ${token}`);
    if (this.fail) throw this.fail;
    return { deletedDeviceId: null };
  }
  claim = () => Promise.reject(new Error('unused'));
  unclaim = () => Promise.reject(new Error('unused'));
  provisionToken = () => Promise.reject(new Error('unused'));
  pushTokenVoids = () => Promise.reject(new Error('unused'));
}

const unreachable = new StationError({ code: 'CLOUD_UNREACHABLE', message: 'The cloud is having trouble (HTTP 503) while deleting a static token; the station will retry.', operatorFault: false, details: { status: 503 } });
const notFound = new StationError({ code: 'CLOUD_REJECTED', message: 'The cloud refused the request (HTTP 404).', operatorFault: false, details: { status: 404, serverMessage: 'The static token does not exist.' } });
const forbidden = new StationError({ code: 'CLOUD_REJECTED', message: 'The cloud refused the request (HTTP 403).', operatorFault: false, details: { status: 403 } });

describe('disclaim and delete in the cloud, confirmed and audited', () => {
  let db: StationDatabase;
  let queue: TokenQueue;
  let cloud: FakeLifecycle;
  let busy: number | null;
  let actions: CloudTokenActions;
  const audit = () => db.prepare('SELECT token_id AS tokenId, event, detail FROM audit_log WHERE event LIKE ? ORDER BY id').all('cloud-token-%') as { tokenId: number | null; event: string; detail: string }[];

  beforeEach(() => {
    db = openStationDatabase(':memory:');
    queue = new TokenQueue(db);
    queue.importBatch({ batchId: 'b1', cloudBatchId: 'b1', templateId: '1', orgId: 1, tokens: [1, 2, 3].map((i) => ({ authToken: auth(i), qrToken: qr(i) })) });
    cloud = new FakeLifecycle();
    busy = null;
    actions = new CloudTokenActions({ lifecycle: cloud, queue, inUse: (id) => id === busy });
  });

  it('takes a scanned label or a bare QR token', () => {
    expect(qrTokenOf(` ${qr(1)}+42 `)).toBe(qr(1));
  });

  it('refuses without a matching confirmation, before asking the cloud', async () => {
    await expect(actions.delete(qr(1), qr(2))).rejects.toThrow(/confirmation does not match.*Nothing changed/);
    await expect(actions.disclaim(qr(1), '')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(actions.delete('sqr_short', 'sqr_short')).rejects.toThrow(/not a QR token/);
    expect(cloud.calls).toEqual([]);
    expect(audit()).toEqual([]);
  });

  it('delete: the cloud acts first, then an unused token is voided here (and reported), all audited', async () => {
    const id = queue.findByQrToken(qr(1))!.id;
    expect(await actions.delete(`${qr(1)}+1`, qr(1))).toEqual({ qrToken: qr(1), voidedHere: true });
    expect(cloud.calls).toEqual([`delete ${qr(1)}`]);
    expect(queue.get(id).state).toBe('voided');
    expect(queue.pendingOutbox().map((r) => r.recordId)).toEqual([`void:${qr(1)}`]);
    expect(audit()).toEqual([{ tokenId: id, event: 'cloud-token-deleted', detail: `${qr(1)} deleted in the cloud by a supervisor; unused here, so voided` }]);
  });

  it('delete of a token not in this queue is audited without a token row', async () => {
    expect(await actions.delete(qr(9), qr(9))).toEqual({ qrToken: qr(9), voidedHere: false });
    expect(audit()).toEqual([{ tokenId: null, event: 'cloud-token-deleted', detail: expect.stringMatching(/not in this station's queue/) }]);
  });

  it('refuses to delete a token a slot is provisioning right now', async () => {
    busy = queue.findByQrToken(qr(2))!.id;
    await expect(actions.delete(qr(2), qr(2))).rejects.toMatchObject({ code: 'BUSY' });
    expect(cloud.calls).toEqual([]);
  });

  it.each([
    ['down', unreachable, 'CLOUD_UNREACHABLE', /was not deleted: the cloud cannot be reached right now \(HTTP 503\)\. Try again when it is back\. Nothing changed\./],
    ['404', notFound, 'CLOUD_REJECTED', /was not deleted: the cloud has no such token/],
    ['403', forbidden, 'CLOUD_REJECTED', /may not do that; use the cloud console/],
  ])('cloud %s: a clear error, and nothing changes here', async (_what, error, code, message) => {
    cloud.fail = error;
    const before = queue.stock();
    const auditRows = (db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;
    const err = await actions.delete(qr(3), qr(3)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code });
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain(qr(3));
    expect(queue.stock()).toEqual(before);
    expect(queue.findByQrToken(qr(3))!.state).toBe('available');
    expect((db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n).toBe(auditRows);
    expect(queue.pendingOutbox()).toEqual([]);
  });

  it('disclaim: audited with the new status; the token here is untouched', async () => {
    expect(await actions.disclaim(qr(2), `${qr(2)}+1`)).toEqual({ qrToken: qr(2), status: 'UNCLAIMED' });
    expect(queue.findByQrToken(qr(2))!.state).toBe('available');
    expect(audit()).toEqual([{ tokenId: queue.findByQrToken(qr(2))!.id, event: 'cloud-token-disclaimed', detail: expect.stringMatching(/now UNCLAIMED/) }]);
    cloud.fail = unreachable;
    await expect(actions.disclaim(qr(2), qr(2))).rejects.toThrow(/was not disclaimed: the cloud cannot be reached/);
    expect(audit()).toHaveLength(1);
  });
});

describe('held outbox records', () => {
  it('lists held rows with their reason and token, releases one (audited), refuses a row that is not held', () => {
    const db = openStationDatabase(':memory:');
    const queue = new TokenQueue(db);
    queue.importBatch({ batchId: 'b1', cloudBatchId: 'b1', templateId: '1', orgId: 1, tokens: [1, 2].map((i) => ({ authToken: auth(i), qrToken: qr(i) })) });
    queue.void(queue.findByQrToken(qr(1))!.id, 'label torn');
    queue.void(queue.findByQrToken(qr(2))!.id, 'label torn');
    const [first, second] = queue.pendingOutbox();
    queue.holdOutbox(first!.id, 'The cloud refused the request (HTTP 404).');
    expect(queue.heldOutbox()).toEqual([
      { id: first!.id, recordId: `void:${qr(1)}`, kind: 'token-void', qrToken: qr(1), heldAt: expect.any(String), reason: 'The cloud refused the request (HTTP 404).', attempts: 1 },
    ]);
    expect(queue.outboxCounts()).toMatchObject({ waiting: 1, held: 1 });
    expect(() => queue.releaseHeld(second!.id, 'x')).toThrow(/is not held/);
    queue.releaseHeld(first!.id, 'released by a supervisor');
    expect(queue.heldOutbox()).toEqual([]);
    expect(queue.outboxCounts()).toMatchObject({ waiting: 2, held: 0 });
    const row = db.prepare("SELECT token_id AS tokenId, detail FROM audit_log WHERE event = 'outbox-released'").get() as { tokenId: number; detail: string };
    expect(row).toEqual({ tokenId: queue.findByQrToken(qr(1))!.id, detail: `token-void void:${qr(1)}: released by a supervisor` });
    expect(() => queue.releaseHeld(first!.id, 'again')).toThrow(/is not held/);
  });
});
