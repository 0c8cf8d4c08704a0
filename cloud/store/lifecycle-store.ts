import type { CloudDb } from './cloud-db.js';
import { DEVICE_COLUMNS, insertStaticDevice, type DeviceRow } from './device-store.js';
import { managesOrg } from './org-store.js';
import type { SqlExecutor } from './sql/sql-db.js';
import { TOKEN_COLUMNS, type StaticTokenRow } from './static-token-store.js';

/**
 * The static-token lifecycle after the factory (Blynk's rules):
 *
 *   claim     UNCLAIMED → CLAIMED: the device moves to the user's organisation, owned by the user
 *             (created there if it never connected); nobody can claim it again.
 *   unclaim / owner deletes the device
 *             CLAIMED → UNCLAIMED: the device returns, ownerless, to the creating organisation.
 *   disclaim  (creating organisation only) → UNCLAIMED and the device belongs to no organisation;
 *             on its next connect it returns to the creating organisation.
 *   delete    (creating organisation only) the AuthToken is refused from now on; a device it had
 *             (claimed or not) is deleted for good.
 *
 * Every step is one transaction; a caller acts only on organisations it manages (its own and its
 * sub-organisations), and anything it may not see answers as not found.
 */
export type LifecycleError =
  | 'not-found'
  | 'user-not-found'
  | 'already-claimed'
  | 'not-claimed'
  | 'retired';

export type LifecycleOutcome<T> = { kind: 'ok'; value: T } | { kind: LifecycleError };

export interface ClaimCode {
  qrToken: string;
  /** From `{qrToken}+{orgId}`; null for a plain QR token. */
  orgId: number | null;
}

/** The orgId in a scanned QR code must name the token's own organisation. */
function codeMatches(code: ClaimCode, token: StaticTokenRow): boolean {
  return code.orgId === null || code.orgId === token.orgId;
}

/** A QR code as scanned: the plain QR token, or `{qrToken}+{orgId}`. */
export function parseClaimCode(code: string): ClaimCode | null {
  const match = /^(sqr_[-_a-zA-Z0-9]{32})(?:\+([1-9]\d{0,9}))?$/.exec(code.trim());
  if (!match) return null;
  return { qrToken: match[1]!, orgId: match[2] ? Number(match[2]) : null };
}

export class LifecycleStore {
  constructor(private readonly db: CloudDb) {}

  async claim(
    callerOrgId: number,
    code: ClaimCode,
    userId: number,
    now: number,
  ): Promise<LifecycleOutcome<DeviceRow>> {
    return this.db.transaction(async (tx): Promise<LifecycleOutcome<DeviceRow>> => {
      const token = await visibleToken(tx, callerOrgId, code.qrToken);
      if (!token || !codeMatches(code, token)) return { kind: 'not-found' };
      const user = await tx.get<{ org_id: number }>('SELECT org_id FROM users WHERE id = ?', [userId]);
      if (!user || !(await managesOrg(tx, callerOrgId, user.org_id))) return { kind: 'user-not-found' };
      if (token.voidReason !== null) return { kind: 'retired' };
      if (token.status === 'CLAIMED') return { kind: 'already-claimed' };
      const claimed = await tx.run(
        `UPDATE static_tokens SET status = 'CLAIMED', owner_id = ?, claimed_org_id = ? WHERE id = ? AND status = 'UNCLAIMED'`,
        [userId, user.org_id, token.id],
      );
      if (claimed.changes !== 1) return { kind: 'already-claimed' };
      let device: DeviceRow;
      if (token.deviceId !== null) {
        await tx.run('UPDATE devices SET org_id = ?, owner_id = ? WHERE id = ?', [user.org_id, userId, token.deviceId]);
        device = (await tx.get<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ?`, [token.deviceId]))!;
      } else {
        // Claimed before the board ever connected: the device is made in the user's organisation.
        device = await insertStaticDevice(tx, token, user.org_id, userId, now);
      }
      return { kind: 'ok', value: device };
    });
  }

  /** The claimant's side (or the creator's) gives the device back to the creating organisation. */
  async unclaim(callerOrgId: number, code: ClaimCode): Promise<LifecycleOutcome<StaticTokenRow>> {
    return this.db.transaction(async (tx): Promise<LifecycleOutcome<StaticTokenRow>> => {
      const token = await tx.get<StaticTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM static_tokens WHERE qr_token = ? AND deleted_at IS NULL`, [
        code.qrToken,
      ]);
      if (!token || !codeMatches(code, token)) return { kind: 'not-found' };
      const mayAct =
        (await managesOrg(tx, callerOrgId, token.orgId)) ||
        (token.claimedOrgId !== null && (await managesOrg(tx, callerOrgId, token.claimedOrgId)));
      if (!mayAct) return { kind: 'not-found' };
      if (token.status !== 'CLAIMED') return { kind: 'not-claimed' };
      await returnToCreator(tx, token);
      return { kind: 'ok', value: (await tokenById(tx, token.id))! };
    });
  }

  /** Only the creating organisation (or one managing it): the device leaves every organisation. */
  async disclaim(callerOrgId: number, code: ClaimCode): Promise<LifecycleOutcome<StaticTokenRow>> {
    return this.db.transaction(async (tx): Promise<LifecycleOutcome<StaticTokenRow>> => {
      const token = await visibleToken(tx, callerOrgId, code.qrToken);
      if (!token || !codeMatches(code, token)) return { kind: 'not-found' };
      await tx.run(`UPDATE static_tokens SET status = 'UNCLAIMED', owner_id = NULL, claimed_org_id = NULL WHERE id = ?`, [token.id]);
      if (token.deviceId !== null) {
        await tx.run('UPDATE devices SET org_id = NULL, owner_id = NULL, connected = 0 WHERE id = ?', [token.deviceId]);
      }
      return { kind: 'ok', value: (await tokenById(tx, token.id))! };
    });
  }

  /** Only the creating organisation: the AuthToken dies; its device, claimed or not, is deleted for good. */
  async deleteToken(callerOrgId: number, qrToken: string, now: number): Promise<LifecycleOutcome<{ deletedDeviceId: number | null }>> {
    return this.db.transaction(async (tx): Promise<LifecycleOutcome<{ deletedDeviceId: number | null }>> => {
      const token = await visibleToken(tx, callerOrgId, qrToken);
      if (!token) return { kind: 'not-found' };
      await tx.run('UPDATE static_tokens SET deleted_at = ?, device_id = NULL WHERE id = ?', [now, token.id]);
      if (token.deviceId !== null) await tx.run('DELETE FROM devices WHERE id = ?', [token.deviceId]);
      return { kind: 'ok', value: { deletedDeviceId: token.deviceId } };
    });
  }

  /**
   * The owner (a client managing the device's organisation) deletes a device. A static-token
   * device that was claimed becomes unclaimed and returns to its creator; any other device is
   * deleted (an unclaimed static-token device comes back on its next connect).
   */
  async deleteDevice(callerOrgId: number, deviceId: number): Promise<LifecycleOutcome<{ unclaimed: boolean }>> {
    return this.db.transaction(async (tx): Promise<LifecycleOutcome<{ unclaimed: boolean }>> => {
      const device = await tx.get<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ?`, [deviceId]);
      if (!device || device.orgId === null || !(await managesOrg(tx, callerOrgId, device.orgId))) return { kind: 'not-found' };
      const token = device.staticTokenId !== null ? await tokenById(tx, device.staticTokenId) : null;
      if (token?.status === 'CLAIMED') {
        await returnToCreator(tx, token);
        return { kind: 'ok', value: { unclaimed: true } };
      }
      if (token) await tx.run('UPDATE static_tokens SET device_id = NULL WHERE id = ?', [token.id]);
      await tx.run('DELETE FROM devices WHERE id = ?', [device.id]);
      return { kind: 'ok', value: { unclaimed: false } };
    });
  }
}

/** A live static token of an organisation the caller manages; null for anything else. */
async function visibleToken(tx: SqlExecutor, callerOrgId: number, qrToken: string): Promise<StaticTokenRow | null> {
  const token = await tx.get<StaticTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM static_tokens WHERE qr_token = ? AND deleted_at IS NULL`, [qrToken]);
  if (!token || !(await managesOrg(tx, callerOrgId, token.orgId))) return null;
  return token;
}

async function tokenById(tx: SqlExecutor, id: number): Promise<StaticTokenRow | null> {
  return (await tx.get<StaticTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM static_tokens WHERE id = ?`, [id])) ?? null;
}

async function returnToCreator(tx: SqlExecutor, token: StaticTokenRow): Promise<void> {
  await tx.run(`UPDATE static_tokens SET status = 'UNCLAIMED', owner_id = NULL, claimed_org_id = NULL WHERE id = ?`, [token.id]);
  if (token.deviceId !== null) {
    await tx.run('UPDATE devices SET org_id = ?, owner_id = NULL WHERE id = ?', [token.orgId, token.deviceId]);
  }
}
