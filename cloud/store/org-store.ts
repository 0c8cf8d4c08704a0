import { syncIdSequence, type CloudDb } from './cloud-db.js';
import type { SqlExecutor } from './sql/sql-db.js';

export interface MetadataField {
  /** Exact, case-sensitive: CSV headers must equal these names. */
  name: string;
  type: 'text' | 'number';
}

export interface OrgRow {
  id: number;
  name: string;
  parentId: number | null;
  createdAt: number;
}

export type UserRole = 'admin' | 'staff' | 'user';

export interface UserRow {
  id: number;
  orgId: number;
  email: string;
  name: string;
  role: UserRole;
  createdAt: number;
}

export interface TemplateRow {
  id: number;
  orgId: number;
  name: string;
  blynkTemplateId: string;
  metadataFields: MetadataField[];
  /** What the QR label encodes; `{qrToken}` and `{orgId}` are replaced. */
  qrPayloadFormat: string;
  createdAt: number;
}

interface TemplateDbRow {
  id: number;
  org_id: number;
  name: string;
  blynk_template_id: string;
  metadata_fields: string;
  qr_payload_format: string;
  created_at: number;
}

export const DEFAULT_QR_PAYLOAD_FORMAT = '{qrToken}+{orgId}';

const ORG_COLUMNS = 'id, name, parent_id AS "parentId", created_at AS "createdAt"';
const USER_COLUMNS = 'id, org_id AS "orgId", email, name, role, created_at AS "createdAt"';

function templateOf(row: TemplateDbRow): TemplateRow {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    blynkTemplateId: row.blynk_template_id,
    metadataFields: JSON.parse(row.metadata_fields) as MetadataField[],
    qrPayloadFormat: row.qr_payload_format,
    createdAt: row.created_at,
  };
}

/**
 * Organisations (a tree: an organisation manages itself and every sub-organisation below it),
 * their users and their device templates.
 */
export class OrgStore {
  constructor(private readonly db: CloudDb) {}

  /** Creates the organisation unless one with this id exists; returns the stored row. */
  async ensureOrg(org: { id: number; name: string }, now: number): Promise<OrgRow> {
    return this.db.transaction(async (tx) => {
      await tx.run('INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING', [org.id, org.name, now]);
      await syncIdSequence(tx, 'organizations');
      const row = await tx.get<OrgRow>(`SELECT ${ORG_COLUMNS} FROM organizations WHERE id = ?`, [org.id]);
      if (!row) throw new Error(`organisation ${org.id} could not be created`);
      return row;
    });
  }

  async createOrg(org: { name: string; parentId: number | null }, now: number): Promise<OrgRow> {
    const row = await this.db.get<OrgRow>(
      `INSERT INTO organizations (name, parent_id, created_at) VALUES (?, ?, ?) RETURNING ${ORG_COLUMNS}`,
      [org.name, org.parentId, now],
    );
    if (!row) throw new Error('organisation could not be created');
    return row;
  }

  async getOrg(id: number): Promise<OrgRow | null> {
    return (await this.db.get<OrgRow>(`SELECT ${ORG_COLUMNS} FROM organizations WHERE id = ?`, [id])) ?? null;
  }

  async subOrgs(parentId: number): Promise<OrgRow[]> {
    return this.db.all<OrgRow>(`SELECT ${ORG_COLUMNS} FROM organizations WHERE parent_id = ? ORDER BY id`, [parentId]);
  }

  /** Whether `managerId` is `orgId` or one of its ancestors: a client acts on its subtree only. */
  manages(managerId: number, orgId: number, tx: SqlExecutor = this.db): Promise<boolean> {
    return managesOrg(tx, managerId, orgId);
  }

  async createUser(user: { orgId: number; email: string; name: string; role: UserRole }, now: number): Promise<UserRow | 'email-taken'> {
    const row = await this.db.get<UserRow>(
      `INSERT INTO users (org_id, email, name, role, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (email) DO NOTHING RETURNING ${USER_COLUMNS}`,
      [user.orgId, user.email, user.name, user.role, now],
    );
    return row ?? 'email-taken';
  }

  async getUser(id: number, tx: SqlExecutor = this.db): Promise<UserRow | null> {
    return (await tx.get<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`, [id])) ?? null;
  }

  async listUsers(orgId: number, page: number, size: number): Promise<{ rows: UserRow[]; total: number }> {
    const rows = await this.db.all<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE org_id = ? ORDER BY id LIMIT ? OFFSET ?`, [
      orgId,
      size,
      page * size,
    ]);
    const count = await this.db.get<{ total: number }>('SELECT COUNT(*) AS total FROM users WHERE org_id = ?', [orgId]);
    return { rows, total: count?.total ?? 0 };
  }

  /** Creates the template unless one with this id exists; an existing one must belong to `orgId`. */
  async ensureTemplate(
    template: { id: number; orgId: number; name: string; blynkTemplateId: string; metadataFields: MetadataField[] },
    now: number,
  ): Promise<TemplateRow> {
    const row = await this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO device_templates (id, org_id, name, blynk_template_id, metadata_fields, created_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        [template.id, template.orgId, template.name, template.blynkTemplateId, JSON.stringify(template.metadataFields), now],
      );
      await syncIdSequence(tx, 'device_templates');
      return tx.get<TemplateDbRow>('SELECT * FROM device_templates WHERE id = ?', [template.id]);
    });
    if (!row || row.org_id !== template.orgId) throw new Error(`device template ${template.id} exists in another organisation`);
    return templateOf(row);
  }

  async createTemplate(
    template: { orgId: number; name: string; blynkTemplateId: string; metadataFields: MetadataField[]; qrPayloadFormat: string },
    now: number,
  ): Promise<TemplateRow | 'blynk-id-taken'> {
    const row = await this.db.get<TemplateDbRow>(
      `INSERT INTO device_templates (org_id, name, blynk_template_id, metadata_fields, qr_payload_format, created_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, blynk_template_id) DO NOTHING RETURNING *`,
      [template.orgId, template.name, template.blynkTemplateId, JSON.stringify(template.metadataFields), template.qrPayloadFormat, now],
    );
    return row ? templateOf(row) : 'blynk-id-taken';
  }

  async getTemplate(id: number, tx: SqlExecutor = this.db): Promise<TemplateRow | null> {
    const row = await tx.get<TemplateDbRow>('SELECT * FROM device_templates WHERE id = ?', [id]);
    return row ? templateOf(row) : null;
  }

  /** The template when it exists and belongs to `orgId`; null otherwise (callers answer 404 either way). */
  async getOrgTemplate(orgId: number, templateId: number): Promise<TemplateRow | null> {
    const row = await this.getTemplate(templateId);
    return row && row.orgId === orgId ? row : null;
  }

  async listTemplates(orgId: number): Promise<TemplateRow[]> {
    const rows = await this.db.all<TemplateDbRow>('SELECT * FROM device_templates WHERE org_id = ? ORDER BY id', [orgId]);
    return rows.map(templateOf);
  }

  /**
   * The template a provisioning device names by its BLYNK_TEMPLATE_ID: one of `orgId`'s own, or
   * else the nearest ancestor's (a customer sub-organisation uses its manufacturer's products).
   */
  async findTemplateForDevice(tx: SqlExecutor, orgId: number, blynkTemplateId: string): Promise<TemplateRow | null> {
    const row = await tx.get<TemplateDbRow & { depth: number }>(
      `WITH RECURSIVE up (id, parent_id, depth) AS (
         SELECT id, parent_id, 0 FROM organizations WHERE id = ?
         UNION ALL SELECT o.id, o.parent_id, up.depth + 1 FROM organizations o JOIN up ON o.id = up.parent_id
       )
       SELECT t.*, up.depth FROM device_templates t JOIN up ON up.id = t.org_id
       WHERE t.blynk_template_id = ? ORDER BY up.depth LIMIT 1`,
      [orgId, blynkTemplateId],
    );
    return row ? templateOf(row) : null;
  }

  async orgExists(id: number): Promise<boolean> {
    return (await this.db.get('SELECT 1 AS one FROM organizations WHERE id = ?', [id])) !== undefined;
  }
}

/** Walks up from `orgId` through its parents looking for `managerId`. */
export async function managesOrg(tx: SqlExecutor, managerId: number, orgId: number): Promise<boolean> {
  if (managerId === orgId) return true;
  const row = await tx.get(
    `WITH RECURSIVE up (id, parent_id) AS (
       SELECT id, parent_id FROM organizations WHERE id = ?
       UNION ALL SELECT o.id, o.parent_id FROM organizations o JOIN up ON o.id = up.parent_id
     )
     SELECT 1 AS one FROM up WHERE id = ?`,
    [orgId, managerId],
  );
  return row !== undefined;
}
