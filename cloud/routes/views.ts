import type { DeviceRow } from '../store/device-store.js';
import type { OrgRow, TemplateRow, UserRow } from '../store/org-store.js';
import type { StaticTokenRow } from '../store/static-token-store.js';

/** Blynk's StaticToken, as `GET /api/v1/organization/static-tokens` returns it. */
export interface StaticTokenView {
  token: string;
  orgId: number;
  productId: number;
  /** The AuthToken: present only for a caller that manages the creating organisation. */
  deviceToken?: string;
  createdAt: number;
  status: 'CLAIMED' | 'UNCLAIMED';
  ownerId?: number;
  deviceId?: number;
  claimedOrgId?: number;
}

/** The AuthToken is a secret of the creating organisation: only a caller that manages it sees it. */
export function toStaticTokenView(row: StaticTokenRow, showAuthToken: boolean): StaticTokenView {
  return {
    token: row.qrToken,
    orgId: row.orgId,
    productId: row.templateId,
    ...(showAuthToken ? { deviceToken: row.deviceToken } : {}),
    createdAt: row.createdAt,
    status: row.status,
    ...(row.ownerId !== null ? { ownerId: row.ownerId } : {}),
    ...(row.deviceId !== null ? { deviceId: row.deviceId } : {}),
    ...(row.claimedOrgId !== null ? { claimedOrgId: row.claimedOrgId } : {}),
  };
}

export function toOrgView(row: OrgRow) {
  return { id: row.id, name: row.name, ...(row.parentId !== null ? { parentId: row.parentId } : {}), createdAt: row.createdAt };
}

export function toUserView(row: UserRow) {
  return { id: row.id, orgId: row.orgId, email: row.email, name: row.name, role: row.role, createdAt: row.createdAt };
}

export function toTemplateView(row: TemplateRow) {
  return {
    id: row.id,
    orgId: row.orgId,
    name: row.name,
    blynkTemplateId: row.blynkTemplateId,
    metadataFields: row.metadataFields,
    qrPayloadFormat: row.qrPayloadFormat,
    createdAt: row.createdAt,
  };
}

/**
 * A device, with Blynk's field names where Blynk has them. Never its AuthToken: a dynamic
 * device's is not kept, and a static device's belongs to the creating organisation alone (it
 * reads it from the static-token list or the export).
 */
export function toDeviceView(row: DeviceRow) {
  return {
    id: row.id,
    name: row.name,
    ...(row.templateId !== null ? { templateId: row.templateId } : {}),
    ...(row.orgId !== null ? { orgId: row.orgId } : {}),
    ...(row.ownerId !== null ? { ownerUserId: row.ownerId } : {}),
    connected: row.connected === 1,
    ...(row.lastConnectedAt !== null ? { lastConnectedAt: row.lastConnectedAt } : {}),
    provisioned: row.provisionState !== 'pending',
    staticToken: row.staticTokenId !== null,
    createdAt: row.createdAt,
  };
}
