import type { CloudDb } from './cloud-db.js';

/**
 * Devices: an AuthToken that has (or had) a live board behind it. A static token becomes a device
 * the first time its board connects; it lands unclaimed in the organisation that made the token.
 */
export class DeviceStore {
  constructor(private readonly db: CloudDb) {}

  /**
   * Whether a board holding this AuthToken is connected now. Null when the token is unknown; false
   * for a static token whose board has never connected.
   */
  isConnected(authToken: string): boolean | null {
    const device = this.db.prepare('SELECT connected FROM devices WHERE auth_token = ?').get(authToken) as
      | { connected: number }
      | undefined;
    if (device) return device.connected === 1;
    const token = this.db.prepare('SELECT 1 FROM static_tokens WHERE device_token = ?').get(authToken);
    return token === undefined ? null : false;
  }

  /**
   * The device gateway's hook (a later issue): records a connect or disconnect. On a static token's
   * first connect it creates the device in the token's organisation. Returns false for an unknown token.
   */
  setConnected(authToken: string, connected: boolean, now: number): boolean {
    return this.db.transaction((): boolean => {
      const updated = this.db
        .prepare(
          `UPDATE devices SET connected = ?, last_connected_at = CASE WHEN ? = 1 THEN ? ELSE last_connected_at END
           WHERE auth_token = ?`,
        )
        .run(connected ? 1 : 0, connected ? 1 : 0, now, authToken);
      if (updated.changes === 1) return true;
      const token = this.db
        .prepare(
          `SELECT s.id, s.org_id, s.template_id, t.name AS template_name FROM static_tokens s
           JOIN device_templates t ON t.id = s.template_id WHERE s.device_token = ?`,
        )
        .get(authToken) as { id: number; org_id: number; template_id: number; template_name: string } | undefined;
      if (!token) return false;
      const created = this.db
        .prepare(
          `INSERT INTO devices (org_id, template_id, auth_token, name, static_token_id, connected, last_connected_at, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(token.org_id, token.template_id, authToken, token.template_name, token.id, connected ? 1 : 0, connected ? now : null, now);
      this.db.prepare('UPDATE static_tokens SET device_id = ? WHERE id = ?').run(created.lastInsertRowid, token.id);
      return true;
    })();
  }
}
