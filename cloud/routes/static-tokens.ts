import { z } from 'zod';
import { CloudHttpError } from '../http/http-error.js';
import { readJsonBody } from '../http/request-body.js';
import type { Route } from '../http/route.js';
import { parseInput, queryObject } from '../http/validate.js';
import { CLOUD_LIMITS } from '../limits.js';
import type { StaticTokenRow } from '../store/static-token-store.js';
import { idempotencyKeyField, intQueryParam, positiveIdField, stationIdField } from './wire-fields.js';

/** Blynk's StaticToken, as `GET /api/v1/organization/static-tokens` returns it. */
export interface StaticTokenView {
  token: string;
  orgId: number;
  productId: number;
  /** The AuthToken: present only for the organisation that owns the token. */
  deviceToken?: string;
  createdAt: number;
  status: 'CLAIMED' | 'UNCLAIMED';
  ownerId?: number;
  deviceId?: number;
  claimedOrgId?: number;
}

/** The AuthToken is a secret of the creating organisation: nobody else ever sees it. */
export function toStaticTokenView(row: StaticTokenRow, viewerOrgId: number): StaticTokenView {
  return {
    token: row.qrToken,
    orgId: row.orgId,
    productId: row.templateId,
    ...(row.orgId === viewerOrgId ? { deviceToken: row.deviceToken } : {}),
    createdAt: row.createdAt,
    status: row.status,
    ...(row.ownerId !== null ? { ownerId: row.ownerId } : {}),
    ...(row.deviceId !== null ? { deviceId: row.deviceId } : {}),
    ...(row.claimedOrgId !== null ? { claimedOrgId: row.claimedOrgId } : {}),
  };
}

const generateRequest = z.object({
  templateId: positiveIdField,
  count: z.number().int().min(1).max(CLOUD_LIMITS.batchCountMax),
  stationId: stationIdField,
  requestId: idempotencyKeyField,
});

/**
 * Station batch generation (our endpoint: Blynk's generate path is undocumented). Idempotent per
 * organisation by requestId: a station that lost the reply asks again with the same requestId and
 * gets the same batch, so no second batch is ever made or left behind.
 */
export const generateStaticTokensRoute: Route = {
  method: 'POST',
  path: '/api/v1/organization/static-tokens/generate',
  auth: 'bearer',
  async handle(ctx) {
    const orgId = ctx.client!.orgId;
    const input = parseInput(generateRequest, await readJsonBody(ctx.req, CLOUD_LIMITS.jsonBodyBytes), 'request body');
    if (!ctx.store.orgs.getOrgTemplate(orgId, input.templateId)) {
      throw new CloudHttpError('NOT_FOUND', 'The device template does not exist in this organisation.');
    }
    const outcome = ctx.store.staticTokens.generateBatch({ orgId, ...input }, ctx.now);
    if (outcome.kind === 'conflict') {
      throw new CloudHttpError(
        'CONFLICT',
        'This requestId was already used for a batch with a different template, station or count; use a new requestId.',
      );
    }
    return {
      status: outcome.kind === 'created' ? 201 : 200,
      body: {
        batchId: outcome.batch.id,
        templateId: outcome.batch.templateId,
        orgId: outcome.batch.orgId,
        tokens: outcome.tokens.map((t) => ({ deviceToken: t.deviceToken, token: t.qrToken, createdAt: t.createdAt })),
      },
    };
  },
};

const listQuery = z.object({
  orgId: intQueryParam(1, 2_147_483_647).optional(),
  page: intQueryParam(0, CLOUD_LIMITS.pageIndexMax).default(0),
  size: intQueryParam(1, CLOUD_LIMITS.pageSizeMax).default(CLOUD_LIMITS.pageSizeDefault),
});

/** Blynk: `orgId` defaults to the token's organisation; `page` is 0-based; `size` at most 1000. */
export const listStaticTokensRoute: Route = {
  method: 'GET',
  path: '/api/v1/organization/static-tokens',
  auth: 'bearer',
  async handle(ctx) {
    const viewerOrgId = ctx.client!.orgId;
    const query = parseInput(listQuery, queryObject(ctx.url), 'query');
    const orgId = query.orgId ?? viewerOrgId;
    // No organisation hierarchy yet: a client sees only its own organisation. Answer 404 rather
    // than 403 so ids of other organisations cannot be probed.
    if (orgId !== viewerOrgId) throw new CloudHttpError('NOT_FOUND', 'The organisation does not exist or is not accessible.');
    const { rows, total } = ctx.store.staticTokens.listForOrg(orgId, query.page, query.size);
    return { status: 200, body: { content: rows.map((row) => toStaticTokenView(row, viewerOrgId)), totalElements: total } };
  },
};
