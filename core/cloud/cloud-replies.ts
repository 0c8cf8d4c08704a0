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
    }),
  ),
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
