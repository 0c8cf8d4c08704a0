import type { CloudDb } from './cloud-db.js';

export interface MetadataField {
  name: string;
  type: 'text' | 'number';
}

export interface OrgRow {
  id: number;
  name: string;
  createdAt: number;
}

export interface TemplateRow {
  id: number;
  orgId: number;
  name: string;
  blynkTemplateId: string;
  metadataFields: MetadataField[];
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

/** Organisations and their device templates. */
export class OrgStore {
  constructor(private readonly db: CloudDb) {}

  /** Creates the organisation unless one with this id exists; returns the stored row. */
  ensureOrg(org: { id: number; name: string }, now: number): OrgRow {
    this.db.prepare('INSERT OR IGNORE INTO organizations (id, name, created_at) VALUES (?, ?, ?)').run(org.id, org.name, now);
    const row = this.db.prepare('SELECT id, name, created_at AS createdAt FROM organizations WHERE id = ?').get(org.id) as
      | OrgRow
      | undefined;
    if (!row) throw new Error(`organisation ${org.id} could not be created`);
    return row;
  }

  /** Creates the template unless one with this id exists; an existing one must belong to `orgId`. */
  ensureTemplate(
    template: { id: number; orgId: number; name: string; blynkTemplateId: string; metadataFields: MetadataField[] },
    now: number,
  ): TemplateRow {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO device_templates (id, org_id, name, blynk_template_id, metadata_fields, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(template.id, template.orgId, template.name, template.blynkTemplateId, JSON.stringify(template.metadataFields), now);
    const row = this.getTemplate(template.id);
    if (!row || row.orgId !== template.orgId) {
      throw new Error(`device template ${template.id} exists in another organisation`);
    }
    return row;
  }

  getTemplate(id: number): TemplateRow | null {
    const row = this.db.prepare('SELECT * FROM device_templates WHERE id = ?').get(id) as TemplateDbRow | undefined;
    if (!row) return null;
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

  /** The template when it exists and belongs to `orgId`; null otherwise (callers answer 404 either way). */
  getOrgTemplate(orgId: number, templateId: number): TemplateRow | null {
    const row = this.getTemplate(templateId);
    return row && row.orgId === orgId ? row : null;
  }

  orgExists(id: number): boolean {
    return this.db.prepare('SELECT 1 FROM organizations WHERE id = ?').get(id) !== undefined;
  }
}
