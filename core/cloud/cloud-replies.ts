import { z } from 'zod';

/** Schemas for everything the cloud answers; a reply that does not fit is CLOUD_REJECTED. */
export const oauthTokenReply = z.object({
  access_token: z.string().min(1).max(4096),
  token_type: z.string().regex(/^bearer$/i),
  expires_in: z.number().int().positive(),
  refresh_token: z.string().min(1).max(4096).nullish(),
});

export const generatedBatchReply = z.object({
  batchId: z.string().min(1).max(128),
  templateId: z.number().int().positive(),
  orgId: z.number().int().positive(),
  tokens: z.array(
    z.object({
      deviceToken: z.string().regex(/^[-_a-zA-Z0-9]{32}$/),
      token: z.string().regex(/^sqr_[-_a-zA-Z0-9]{32}$/),
      createdAt: z.number().int().nonnegative(),
      // One CSV row's values (a CSV pull): template field -> value.
      metadata: z.record(z.string().max(256), z.string().max(4096)).optional(),
    }),
  ),
});

/** The cloud's remap step for a CSV batch (creates nothing). Row numbers count data rows from 1. */
export const csvPreviewReply = z.object({
  acceptable: z.boolean(),
  headers: z.array(z.string().max(4096)).max(1000),
  fields: z.array(z.string().max(256)).max(1000),
  mapping: z.record(z.string().max(4096), z.string().max(256).nullable()),
  missing: z.array(z.string().max(256)).max(1000),
  unexpected: z.array(z.string().max(4096)).max(1000),
  remapErrors: z.array(z.string().max(8192)).max(1000),
  rowCount: z.number().int().nonnegative(),
  rowErrors: z
    .array(z.object({ row: z.number().int().positive(), column: z.string().max(4096).optional(), message: z.string().max(1000) }))
    .max(1000),
  syntaxError: z.string().max(1000).nullable(),
});

export const deviceRecordsReply = z.object({
  accepted: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
});

export const tokenVoidsReply = deviceRecordsReply;

const id = z.number().int().positive();

export const claimedDeviceReply = z.object({
  id,
  orgId: id.optional(),
  ownerUserId: id.optional(),
  templateId: id.optional(),
});

export const staticTokenReply = z.object({
  token: z.string().regex(/^sqr_[-_a-zA-Z0-9]{32}$/),
  orgId: id,
  status: z.enum(['CLAIMED', 'UNCLAIMED']),
  ownerId: id.optional(),
  deviceId: id.optional(),
  claimedOrgId: id.optional(),
});

export const deletedTokenReply = z.object({ deleted: z.literal(true), deletedDeviceId: id.optional() });

export const provisionTokenReply = z.object({
  token: z.string().regex(/^[-_a-zA-Z0-9]{32}$/),
  deviceId: id,
});

/** `GET /external/api/isHardwareConnected`: a bare JSON boolean. */
export const hardwareConnectedReply = z.boolean();

/** One page of `GET /api/v1/organization/static-tokens` (the AuthToken field is not read). */
export const staticTokenPageReply = z.object({
  content: z.array(staticTokenReply.passthrough()),
  totalElements: z.number().int().nonnegative(),
});

export const userReply = z.object({ id, orgId: id, email: z.string() }).passthrough();
export const userPageReply = z.object({ content: z.array(userReply), totalElements: z.number().int().nonnegative() });

export const deletedDeviceReply = z.object({ deleted: z.literal(true) }).passthrough();
