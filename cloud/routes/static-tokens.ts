import { createHash } from 'node:crypto';
import { z } from 'zod';
import { checkMetadataCsv, isAcceptable, type MetadataCsvCheck, type Remap } from '../csv/metadata-csv.js';
import { buildExportZip } from '../export/export-zip.js';
import { CloudHttpError } from '../http/http-error.js';
import { redactSecrets } from '../http/request-log.js';
import { readJsonBody } from '../http/request-body.js';
import { callerOf, type Route, type RouteContext, type RouteReply } from '../http/route.js';
import { parseInput, queryObject } from '../http/validate.js';
import { CLOUD_LIMITS } from '../limits.js';
import { newBatchId } from '../secrets.js';
import type { TemplateRow } from '../store/org-store.js';
import type { GenerateOutcome } from '../store/static-token-store.js';
import { actingOrg } from './access.js';
import { toStaticTokenView } from './views.js';
import { idempotencyKeyField, idQueryParam, pagingQuery, positiveIdField, qrTokenField, stationIdField } from './wire-fields.js';

export { toStaticTokenView, type StaticTokenView } from './views.js';

const csvField = z.string().min(1).max(CLOUD_LIMITS.csvBodyBytes);
const remapField = z.record(z.string().max(256), z.string().max(256).nullable()).default({});
const countField = z.number().int().min(1).max(CLOUD_LIMITS.batchCountMax);

/** The template, when the caller manages its organisation; 404 otherwise. */
async function managedTemplate(ctx: RouteContext, templateId: number): Promise<TemplateRow> {
  const template = await ctx.store.orgs.getTemplate(templateId);
  if (!template || !(await ctx.store.orgs.manages(callerOf(ctx).orgId, template.orgId))) {
    throw new CloudHttpError('NOT_FOUND', 'The device template does not exist in this organisation.');
  }
  return template;
}

/** The metadata rows of a CSV upload, or 422 INVALID_CSV listing every problem. */
function csvRows(check: MetadataCsvCheck): Record<string, string>[] {
  if (isAcceptable(check)) return check.rows;
  const problems = [
    ...(check.syntaxError ? [`the CSV cannot be read (${check.syntaxError})`] : []),
    ...(check.missing.length ? [`no column for the metadata field(s) ${check.missing.map((n) => `"${n}"`).join(', ')}`] : []),
    ...(check.unexpected.length
      ? [`column(s) ${check.unexpected.map((n) => `"${n}"`).join(', ')} match no metadata field (names are case-sensitive; remap or ignore them)`]
      : []),
    ...check.remapErrors,
    ...(check.rowErrorCount ? [`${check.rowErrorCount} row(s) have errors (see rowErrors)`] : []),
    ...(!check.syntaxError && check.rows.length === 0 && check.rowErrorCount === 0 ? ['the CSV has no data rows'] : []),
  ];
  // Header names come from the upload: they are shown (the person needs them) but never a token.
  throw new CloudHttpError(
    'INVALID_CSV',
    redactSecrets(`The CSV does not fit the template: ${problems.join('; ')}. Nothing was created.`).slice(0, 2000),
    {},
    check.rowErrors,
  );
}

interface BatchAsk {
  template: TemplateRow;
  stationId: string;
  source: 'station' | 'console';
  requestId: string;
  metadata: (Record<string, string> | null)[];
}

async function makeBatch(ctx: RouteContext, ask: BatchAsk): Promise<RouteReply> {
  const requestSha256 = createHash('sha256')
    .update(JSON.stringify({ templateId: ask.template.id, stationId: ask.stationId, source: ask.source, metadata: ask.metadata }))
    .digest('hex');
  const outcome: GenerateOutcome = await ctx.store.staticTokens.generateBatch(
    {
      orgId: ask.template.orgId,
      templateId: ask.template.id,
      stationId: ask.stationId,
      requestId: ask.requestId,
      source: ask.source,
      metadata: ask.metadata,
      requestSha256,
    },
    ctx.now,
  );
  if (outcome.kind === 'conflict') {
    throw new CloudHttpError('CONFLICT', 'This requestId was already used for a different batch request; use a new requestId.');
  }
  return {
    status: outcome.kind === 'created' ? 201 : 200,
    body: {
      batchId: outcome.batch.id,
      templateId: outcome.batch.templateId,
      orgId: outcome.batch.orgId,
      tokens: outcome.tokens.map((t) => ({
        deviceToken: t.deviceToken,
        token: t.qrToken,
        createdAt: t.createdAt,
        ...(t.metadata ? { metadata: JSON.parse(t.metadata) as Record<string, string> } : {}),
      })),
    },
  };
}

const generateRequest = z
  .object({
    templateId: positiveIdField,
    stationId: stationIdField,
    requestId: idempotencyKeyField,
    count: countField.optional(),
    csv: csvField.optional(),
    remap: remapField,
  })
  .refine((r) => (r.count === undefined) !== (r.csv === undefined), { message: 'give either count or csv', path: ['count'] });

/**
 * Station batch generation (our endpoint: Blynk's generate path is undocumented): N fresh tokens,
 * or one per CSV row with that row's metadata. Idempotent per organisation by requestId: a station
 * that lost the reply asks again with the same requestId and gets the same batch.
 */
export const generateStaticTokensRoute: Route = {
  method: 'POST',
  path: '/api/v1/organization/static-tokens/generate',
  auth: 'bearer',
  clients: ['api', 'station'],
  async handle(ctx) {
    const input = parseInput(generateRequest, await readJsonBody(ctx.req, CLOUD_LIMITS.csvBodyBytes), 'request body');
    const template = await managedTemplate(ctx, input.templateId);
    const metadata =
      input.csv !== undefined
        ? csvRows(checkMetadataCsv(input.csv, template.metadataFields, input.remap as Remap, CLOUD_LIMITS.batchCountMax))
        : Array.from({ length: input.count! }, () => null);
    return makeBatch(ctx, { template, stationId: input.stationId, source: 'station', requestId: input.requestId, metadata });
  },
};

/** Console batches are not a station's; their requestId is optional (a fresh one when absent). */
const CONSOLE_STATION_ID = 'console';

const createRequest = z.object({
  templateId: positiveIdField,
  count: countField,
  requestId: idempotencyKeyField.optional(),
});

/** The console's "auto-create N static tokens" for a template. */
export const createStaticTokensRoute: Route = {
  method: 'POST',
  path: '/api/v1/organization/static-tokens/create',
  auth: 'bearer',
  async handle(ctx) {
    const input = parseInput(createRequest, await readJsonBody(ctx.req, CLOUD_LIMITS.jsonBodyBytes), 'request body');
    const template = await managedTemplate(ctx, input.templateId);
    return makeBatch(ctx, {
      template,
      stationId: CONSOLE_STATION_ID,
      source: 'console',
      requestId: input.requestId ?? newBatchId(),
      metadata: Array.from({ length: input.count }, () => null),
    });
  },
};

const importRequest = z.object({
  templateId: positiveIdField,
  csv: csvField,
  remap: remapField,
  requestId: idempotencyKeyField.optional(),
});

/**
 * The console's "create static tokens from CSV": one token per data row, the row's values become
 * the device's metadata. The header row must equal the template's metadata field names exactly
 * (case-sensitive) after the optional remap (`{"csv header": "field name" | null to ignore}`).
 * All or nothing: any problem answers 422 INVALID_CSV with `rowErrors` and creates nothing.
 */
export const importStaticTokensRoute: Route = {
  method: 'POST',
  path: '/api/v1/organization/static-tokens/import',
  auth: 'bearer',
  async handle(ctx) {
    const input = parseInput(importRequest, await readJsonBody(ctx.req, CLOUD_LIMITS.csvBodyBytes), 'request body');
    const template = await managedTemplate(ctx, input.templateId);
    const metadata = csvRows(checkMetadataCsv(input.csv, template.metadataFields, input.remap as Remap, CLOUD_LIMITS.batchCountMax));
    return makeBatch(ctx, { template, stationId: CONSOLE_STATION_ID, source: 'console', requestId: input.requestId ?? newBatchId(), metadata });
  },
};

const previewRequest = importRequest.omit({ requestId: true });

/**
 * The remap step: how the CSV's headers line up with the template's fields before anything is
 * created (headers, fields, the mapping after `remap`, missing fields, unexpected columns, row
 * problems). Creates nothing.
 */
export const previewStaticTokenImportRoute: Route = {
  method: 'POST',
  path: '/api/v1/organization/static-tokens/import/preview',
  auth: 'bearer',
  // A station's supervisor checks a CSV before pulling a batch from it (generate takes the same CSV).
  clients: ['api', 'station'],
  async handle(ctx) {
    const input = parseInput(previewRequest, await readJsonBody(ctx.req, CLOUD_LIMITS.csvBodyBytes), 'request body');
    const template = await managedTemplate(ctx, input.templateId);
    const check = checkMetadataCsv(input.csv, template.metadataFields, input.remap as Remap, CLOUD_LIMITS.batchCountMax);
    return {
      status: 200,
      body: {
        acceptable: isAcceptable(check),
        headers: check.headers,
        fields: check.fields,
        mapping: check.mapping,
        missing: check.missing,
        unexpected: check.unexpected,
        remapErrors: check.remapErrors,
        rowCount: check.rows.length + check.rowErrorCount,
        rowErrors: check.rowErrors,
        syntaxError: check.syntaxError,
      },
    };
  },
};

const listQuery = z.object({
  orgId: idQueryParam().optional(),
  /** Our extension: only this QR token (`sqr_…`), so a station can check one board without paging. */
  token: qrTokenField.optional(),
  ...pagingQuery(CLOUD_LIMITS),
});

/**
 * Blynk: `orgId` defaults to the token's organisation; `page` is 0-based; `size` at most 1000.
 * The caller manages the organisation, so it sees the AuthTokens (`deviceToken`).
 */
export const listStaticTokensRoute: Route = {
  method: 'GET',
  path: '/api/v1/organization/static-tokens',
  auth: 'bearer',
  async handle(ctx) {
    const query = parseInput(listQuery, queryObject(ctx.url), 'query');
    const orgId = await actingOrg(ctx, query.orgId);
    if (query.token !== undefined) {
      const row = await ctx.store.staticTokens.findByQrToken(query.token);
      const rows = row && row.orgId === orgId ? [row] : [];
      return { status: 200, body: { content: query.page === 0 ? rows.map((r) => toStaticTokenView(r, true)) : [], totalElements: rows.length } };
    }
    const { rows, total } = await ctx.store.staticTokens.listForOrg(orgId, query.page, query.size);
    return { status: 200, body: { content: rows.map((row) => toStaticTokenView(row, true)), totalElements: total } };
  },
};

const exportQuery = z.object({ batchId: z.string().regex(/^bat_[A-Za-z0-9]{16}$/, 'must be a batch id "bat_…"') });

/** A batch as the console's zip: `static-tokens.csv` and `qr/<AuthToken>.png` per token. */
export const exportStaticTokensRoute: Route = {
  method: 'GET',
  path: '/api/v1/organization/static-tokens/export',
  auth: 'bearer',
  async handle(ctx) {
    const { batchId } = parseInput(exportQuery, queryObject(ctx.url), 'query');
    const batch = await ctx.store.staticTokens.getBatch(batchId);
    if (!batch || !(await ctx.store.orgs.manages(callerOf(ctx).orgId, batch.orgId))) {
      throw new CloudHttpError('NOT_FOUND', 'The batch does not exist in this organisation.');
    }
    const template = (await ctx.store.orgs.getTemplate(batch.templateId))!;
    const tokens = (await ctx.store.staticTokens.batchTokens(batch.id)).filter((t) => t.deletedAt === null);
    const zip = await buildExportZip(template, tokens, ctx.now);
    return {
      status: 200,
      raw: zip,
      contentType: 'application/zip',
      headers: { 'content-disposition': `attachment; filename="static-tokens-${batch.id}.zip"` },
    };
  },
};

const deleteQuery = z.object({ token: qrTokenField });

/**
 * Deletes a static token (creating organisation only): its AuthToken is refused from now on; a
 * claimed device is deleted for good, an unclaimed one can no longer connect.
 */
export const deleteStaticTokenRoute: Route = {
  method: 'DELETE',
  path: '/api/v1/organization/static-tokens',
  auth: 'bearer',
  async handle(ctx) {
    const { token } = parseInput(deleteQuery, queryObject(ctx.url), 'query');
    const outcome = await ctx.store.lifecycle.deleteToken(callerOf(ctx).orgId, token, ctx.now);
    if (outcome.kind !== 'ok') throw new CloudHttpError('NOT_FOUND', 'The static token does not exist or is not accessible.');
    return { status: 200, body: { deleted: true, ...(outcome.value.deletedDeviceId !== null ? { deletedDeviceId: outcome.value.deletedDeviceId } : {}) } };
  },
};
