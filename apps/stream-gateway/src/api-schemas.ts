import { z } from 'zod';

/** Request bodies of the session API, parsed at the edge; the OpenAPI document is generated from them. */
export const safeId = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9._-]{1,128}$/, "must be 1-128 of letters, digits, '-', '_' and '.'");
/** What the client says about itself and the title; logged, never used for an access decision. */
const statement = z.string().max(64).nullable().optional();
export const admitBody = z
  .object({
    mediaId: safeId,
    deviceId: safeId,
    userId: safeId.optional(),
    familyId: safeId.optional(),
    clientRequestId: safeId.optional(),
    userRole: statement,
    contentRating: statement,
    profileContentRatingLimit: statement,
  })
  .strict();
export const heartbeatBody = z.object({ deviceId: safeId.optional() }).loose().optional().nullable();
