import { newAuthToken, sha256Hex } from '../secrets.js';
import type { CloudDb } from './cloud-db.js';
import type { MetadataField, OrgStore } from './org-store.js';
import type { SqlExecutor } from './sql/sql-db.js';
import { TOKEN_COLUMNS, type StaticTokenRow } from './static-token-store.js';

export interface DeviceRow {
  id: number;
  /** Null after a disclaim, until the device connects again. */
  orgId: number | null;
  /** Null while a provisioned device has not connected yet. */
  templateId: number | null;
  name: string;
  staticTokenId: number | null;
  ownerId: number | null;
  metadata: string;
  connected: number;
  lastConnectedAt: number | null;
  provisionState: 'pending' | 'done' | null;
  provisionExpiresAt: number | null;
  createdAt: number;
}

export const DEVICE_COLUMNS = `id, org_id AS "orgId", template_id AS "templateId", name, static_token_id AS "staticTokenId",
  owner_id AS "ownerId", metadata, connected, last_connected_at AS "lastConnectedAt",
  provision_state AS "provisionState", provision_expires_at AS "provisionExpiresAt", created_at AS "createdAt"`;

export type ConnectOutcome =
  | { kind: 'connected'; device: DeviceRow; firstConnect: boolean }
  /** Unknown, deleted, voided or burned AuthToken, or an expired provisioning token: all look alike. */
  | { kind: 'invalid-token' }
  /** A provisioning device must say which template it runs (BLYNK_TEMPLATE_ID) on its first connect. */
  | { kind: 'template-required' }
  | { kind: 'unknown-template' };

export type MetaUpdateOutcome = { kind: 'ok' } | { kind: 'invalid-token' } | { kind: 'unknown-field' } | { kind: 'bad-value' };

/** Longest metadata value kept. */
export const METADATA_VALUE_CHARS_MAX = 255;

/** Whether `value` is acceptable for a field of this type. */
export function metadataValueFits(field: MetadataField, value: string): boolean {
  if (value.length > METADATA_VALUE_CHARS_MAX) return false;
  if (field.type === 'number') return /^-?\d+(\.\d+)?$/.test(value.trim()) && Number.isFinite(Number(value));
  return true;
}

/**
 * Devices: what an AuthToken has behind it. A static token becomes a device the first time its
 * board connects: unclaimed, in the organisation that made the token. A dynamic (provisioned)
 * device exists from the moment its provisioning token is issued and completes on first connect.
 * Devices are found by SHA-256 of the AuthToken: the table keeps no AuthToken in clear.
 */
export class DeviceStore {
  constructor(
    private readonly db: CloudDb,
    private readonly orgs: OrgStore,
  ) {}

  /**
   * The board holding `authToken` connected (Blynk devices connect over their own protocol; the
   * service's `/external/api/device/connect` stands in for that link). `blynkTemplateId` is what
   * the firmware declares; a provisioning device needs it to find its template.
   */
  async connect(authToken: string, now: number, blynkTemplateId: string | null = null): Promise<ConnectOutcome> {
    return this.db.transaction(async (tx): Promise<ConnectOutcome> => {
      const found = await this.activeDevice(tx, authToken, now);
      if (found.kind === 'invalid-token') return found;
      let device = found.device;
      let firstConnect = false;
      if (!device) {
        // A static token's first contact: the device lands unclaimed in the creating organisation.
        const token = found.token!;
        device = await insertStaticDevice(tx, token, token.orgId, null, now);
        firstConnect = true;
      } else if (device.provisionState === 'pending') {
        if (!blynkTemplateId) return { kind: 'template-required' };
        const template = await this.orgs.findTemplateForDevice(tx, device.orgId!, blynkTemplateId);
        if (!template) return { kind: 'unknown-template' };
        await tx.run(
          `UPDATE devices SET template_id = ?, name = ?, provision_state = 'done', provision_expires_at = NULL WHERE id = ?`,
          [template.id, template.name, device.id],
        );
        firstConnect = true;
      } else if (device.orgId === null && found.token) {
        // Disclaimed: back to the organisation that made its static token.
        await tx.run('UPDATE devices SET org_id = ? WHERE id = ?', [found.token.orgId, device.id]);
      }
      await tx.run('UPDATE devices SET connected = 1, last_connected_at = ? WHERE id = ?', [now, device.id]);
      const after = await tx.get<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ?`, [device.id]);
      return { kind: 'connected', device: after!, firstConnect };
    });
  }

  /** The board went away. False for a token that has no device. */
  async disconnect(authToken: string, now: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const found = await this.activeDevice(tx, authToken, now);
      if (found.kind === 'invalid-token' || !found.device) return found.kind !== 'invalid-token';
      await tx.run('UPDATE devices SET connected = 0 WHERE id = ?', [found.device.id]);
      return true;
    });
  }

  /**
   * Whether a board holding this AuthToken is connected now. Null when the token is unknown or no
   * longer valid; false for a valid token whose board has never connected.
   */
  async isConnected(authToken: string, now: number): Promise<boolean | null> {
    const found = await this.activeDevice(this.db, authToken, now);
    if (found.kind === 'invalid-token') return null;
    return found.device?.connected === 1;
  }

  /**
   * Blynk's `meta/update` from the device: the field name is case-sensitive and must be one of
   * the template's metadata fields; the value must fit the field's type. A static token that never
   * connected gets its device now (the board is talking to the cloud).
   */
  async updateMetadata(authToken: string, fieldName: string, value: string, now: number): Promise<MetaUpdateOutcome> {
    return this.db.transaction(async (tx): Promise<MetaUpdateOutcome> => {
      const found = await this.activeDevice(tx, authToken, now);
      if (found.kind === 'invalid-token') return found;
      let device = found.device;
      if (device?.provisionState === 'pending' || device?.templateId === null) return { kind: 'invalid-token' };
      device ??= await insertStaticDevice(tx, found.token!, found.token!.orgId, null, now);
      const template = await this.orgs.getTemplate(device.templateId!, tx);
      const field = template?.metadataFields.find((f) => f.name === fieldName);
      if (!field) return { kind: 'unknown-field' };
      if (!metadataValueFits(field, value)) return { kind: 'bad-value' };
      const metadata = JSON.parse(device.metadata) as Record<string, string>;
      metadata[fieldName] = value;
      await tx.run('UPDATE devices SET metadata = ? WHERE id = ?', [JSON.stringify(metadata), device.id]);
      return { kind: 'ok' };
    });
  }

  /**
   * A dynamic provisioning token (Blynk: `provision/token {orgId, ownerId}`): the device exists
   * from now on, owned by the user in the organisation, and completes when a board first connects
   * with the token before `expiresAt`. The token is returned here once and kept only as a hash.
   */
  async createProvisioned(orgId: number, ownerId: number, expiresAt: number, now: number): Promise<{ token: string; deviceId: number }> {
    const token = newAuthToken();
    const row = await this.db.get<{ id: number }>(
      `INSERT INTO devices (org_id, template_id, auth_token_hash, name, owner_id, provision_state, provision_expires_at, created_at)
       VALUES (?, NULL, ?, ?, ?, 'pending', ?, ?) RETURNING id`,
      [orgId, sha256Hex(token), 'New device', ownerId, expiresAt, now],
    );
    return { token, deviceId: row!.id };
  }

  async get(deviceId: number, tx: SqlExecutor = this.db): Promise<DeviceRow | null> {
    return (await tx.get<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ?`, [deviceId])) ?? null;
  }

  async listForOrg(orgId: number, page: number, size: number): Promise<{ rows: DeviceRow[]; total: number }> {
    const rows = await this.db.all<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE org_id = ? ORDER BY id LIMIT ? OFFSET ?`, [
      orgId,
      size,
      page * size,
    ]);
    const count = await this.db.get<{ total: number }>('SELECT COUNT(*) AS total FROM devices WHERE org_id = ?', [orgId]);
    return { rows, total: count?.total ?? 0 };
  }

  /** The device behind an AuthToken, or the valid static token that has no device yet. */
  private async activeDevice(
    tx: SqlExecutor,
    authToken: string,
    now: number,
  ): Promise<{ kind: 'invalid-token' } | { kind: 'found'; device: DeviceRow | null; token: StaticTokenRow | null }> {
    const device = await tx.get<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE auth_token_hash = ?`, [sha256Hex(authToken)]);
    if (device && device.staticTokenId === null) {
      if (device.provisionState === 'pending' && (device.provisionExpiresAt ?? 0) <= now) return { kind: 'invalid-token' };
      return { kind: 'found', device, token: null };
    }
    const token = await tx.get<StaticTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM static_tokens WHERE device_token = ?`, [authToken]);
    if (!token || token.deletedAt !== null || token.voidReason !== null) return { kind: 'invalid-token' };
    return { kind: 'found', device: device ?? null, token };
  }
}

/** The device of a static token, created at its first connect or at a claim before that. */
export async function insertStaticDevice(
  tx: SqlExecutor,
  token: StaticTokenRow,
  orgId: number,
  ownerId: number | null,
  now: number,
): Promise<DeviceRow> {
  const template = await tx.get<{ name: string }>('SELECT name FROM device_templates WHERE id = ?', [token.templateId]);
  const device = await tx.get<DeviceRow>(
    `INSERT INTO devices (org_id, template_id, auth_token_hash, name, static_token_id, owner_id, metadata, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${DEVICE_COLUMNS}`,
    [orgId, token.templateId, sha256Hex(token.deviceToken), template?.name ?? 'Device', token.id, ownerId, token.metadata ?? '{}', now],
  );
  await tx.run('UPDATE static_tokens SET device_id = ? WHERE id = ?', [device!.id, token.id]);
  return device!;
}
