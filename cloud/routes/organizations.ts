import { z } from 'zod';
import { CloudHttpError } from '../http/http-error.js';
import { readJsonBody } from '../http/request-body.js';
import type { Route } from '../http/route.js';
import { parseInput, queryObject } from '../http/validate.js';
import { CLOUD_LIMITS } from '../limits.js';
import { newClientId, newClientSecret } from '../secrets.js';
import { DEFAULT_QR_PAYLOAD_FORMAT } from '../store/org-store.js';
import { actingOrg, orgNotFound } from './access.js';
import { toOrgView, toTemplateView, toUserView } from './views.js';
import {
  blynkTemplateIdField,
  displayNameField,
  idQueryParam,
  metadataFieldNameField,
  pagingQuery,
  positiveIdField,
} from './wire-fields.js';

const orgQuery = z.object({ orgId: idQueryParam().optional() });

/** Blynk's `GET /api/v1/organization`: the caller's organisation, or one it manages. */
export const getOrganizationRoute: Route = {
  method: 'GET',
  path: '/api/v1/organization',
  auth: 'bearer',
  async handle(ctx) {
    const { orgId } = parseInput(orgQuery, queryObject(ctx.url), 'query');
    const org = await ctx.store.orgs.getOrg(await actingOrg(ctx, orgId));
    if (!org) throw orgNotFound();
    return { status: 200, body: toOrgView(org) };
  },
};

const createOrgRequest = z.object({ name: displayNameField, parentId: positiveIdField.optional() });

/** Blynk's `POST /api/v1/organization/create`: a sub-organisation of the caller's (or of one it manages). */
export const createOrganizationRoute: Route = {
  method: 'POST',
  path: '/api/v1/organization/create',
  auth: 'bearer',
  async handle(ctx) {
    const input = parseInput(createOrgRequest, await readJsonBody(ctx.req, CLOUD_LIMITS.jsonBodyBytes), 'request body');
    const parentId = await actingOrg(ctx, input.parentId);
    const org = await ctx.store.orgs.createOrg({ name: input.name, parentId }, ctx.now);
    return { status: 201, body: toOrgView(org) };
  },
};

/** Blynk's `GET /api/v1/organization/sub-organizations`: the direct sub-organisations. */
export const listSubOrganizationsRoute: Route = {
  method: 'GET',
  path: '/api/v1/organization/sub-organizations',
  auth: 'bearer',
  async handle(ctx) {
    const { orgId } = parseInput(orgQuery, queryObject(ctx.url), 'query');
    const rows = await ctx.store.orgs.subOrgs(await actingOrg(ctx, orgId));
    return { status: 200, body: rows.map(toOrgView) };
  },
};

const createUserRequest = z.object({
  orgId: positiveIdField.optional(),
  email: z
    .string()
    .trim()
    .toLowerCase()
    .max(254)
    .regex(/^[^\s@,"]+@[^\s@,"]+\.[^\s@,"]+$/, 'must be an email address'),
  name: displayNameField,
  role: z.enum(['admin', 'staff', 'user']).default('user'),
});

/** Blynk's `POST /api/v1/organization/users/create`: a user in the caller's organisation or one it manages. */
export const createUserRoute: Route = {
  method: 'POST',
  path: '/api/v1/organization/users/create',
  auth: 'bearer',
  async handle(ctx) {
    const input = parseInput(createUserRequest, await readJsonBody(ctx.req, CLOUD_LIMITS.jsonBodyBytes), 'request body');
    const orgId = await actingOrg(ctx, input.orgId);
    const user = await ctx.store.orgs.createUser({ orgId, email: input.email, name: input.name, role: input.role }, ctx.now);
    if (user === 'email-taken') throw new CloudHttpError('CONFLICT', 'A user with this email already exists.');
    return { status: 201, body: toUserView(user) };
  },
};

const listUsersQuery = z.object({ orgId: idQueryParam().optional(), ...pagingQuery(CLOUD_LIMITS) });

export const listUsersRoute: Route = {
  method: 'GET',
  path: '/api/v1/organization/users',
  auth: 'bearer',
  async handle(ctx) {
    const query = parseInput(listUsersQuery, queryObject(ctx.url), 'query');
    const { rows, total } = await ctx.store.orgs.listUsers(await actingOrg(ctx, query.orgId), query.page, query.size);
    return { status: 200, body: { content: rows.map(toUserView), totalElements: total } };
  },
};

const createClientRequest = z.object({
  orgId: positiveIdField.optional(),
  name: displayNameField,
  kind: z.enum(['api', 'station']).default('api'),
});

/**
 * Blynk's `POST /api/v1/organization/oauth/clients/create`. `kind: "station"` makes credentials
 * for a factory station, good only for the station endpoints. The secret is in this reply only
 * (the service keeps a scrypt hash).
 */
export const createOAuthClientRoute: Route = {
  method: 'POST',
  path: '/api/v1/organization/oauth/clients/create',
  auth: 'bearer',
  async handle(ctx) {
    const input = parseInput(createClientRequest, await readJsonBody(ctx.req, CLOUD_LIMITS.jsonBodyBytes), 'request body');
    const orgId = await actingOrg(ctx, input.orgId);
    const clientId = newClientId();
    const clientSecret = newClientSecret();
    await ctx.store.oauth.upsertClient({ clientId, orgId, secret: clientSecret, kind: input.kind, name: input.name }, ctx.now);
    return { status: 201, body: { clientId, clientSecret, orgId, kind: input.kind, name: input.name } };
  },
};

const metadataFieldsField = z
  .array(z.object({ name: metadataFieldNameField, type: z.enum(['text', 'number']).default('text') }))
  .max(50)
  .refine((fields) => new Set(fields.map((f) => f.name)).size === fields.length, 'field names must be unique');

const createTemplateRequest = z.object({
  orgId: positiveIdField.optional(),
  name: displayNameField,
  blynkTemplateId: blynkTemplateIdField,
  metadataFields: metadataFieldsField.default([]),
  qrPayloadFormat: z
    .string()
    .max(200)
    .refine((s) => s.includes('{qrToken}'), 'must contain {qrToken}')
    .refine((s) => !s.includes('{deviceToken}') && !s.includes('{authToken}'), 'must not put the AuthToken on a label')
    .default(DEFAULT_QR_PAYLOAD_FORMAT),
});

/**
 * Blynk's `POST /api/v1/organization/template/create`, with the template's metadata fields (the
 * names a CSV's headers must equal) and its QR payload format (`{qrToken}+{orgId}` by default).
 */
export const createTemplateRoute: Route = {
  method: 'POST',
  path: '/api/v1/organization/template/create',
  auth: 'bearer',
  async handle(ctx) {
    const input = parseInput(createTemplateRequest, await readJsonBody(ctx.req, CLOUD_LIMITS.jsonBodyBytes), 'request body');
    const orgId = await actingOrg(ctx, input.orgId);
    const template = await ctx.store.orgs.createTemplate(
      {
        orgId,
        name: input.name,
        blynkTemplateId: input.blynkTemplateId,
        metadataFields: input.metadataFields,
        qrPayloadFormat: input.qrPayloadFormat,
      },
      ctx.now,
    );
    if (template === 'blynk-id-taken') throw new CloudHttpError('CONFLICT', 'This organisation already has a template with that blynkTemplateId.');
    return { status: 201, body: toTemplateView(template) };
  },
};

/** Blynk's `GET /api/v1/organization/templates`. */
export const listTemplatesRoute: Route = {
  method: 'GET',
  path: '/api/v1/organization/templates',
  auth: 'bearer',
  async handle(ctx) {
    const { orgId } = parseInput(orgQuery, queryObject(ctx.url), 'query');
    const rows = await ctx.store.orgs.listTemplates(await actingOrg(ctx, orgId));
    return { status: 200, body: rows.map(toTemplateView) };
  },
};
