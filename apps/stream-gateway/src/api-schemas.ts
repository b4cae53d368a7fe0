import { safeIdSchema } from '@nself-tv/redis-keys';
import { z } from 'zod';

/** Request bodies of the session API, parsed at the edge; the OpenAPI document is generated from them. */
/** What the client says about itself and the title; logged, never used for an access decision. */
const statement = z.string().max(64).nullable().optional();
export const admitBody = z
  .object({
    mediaId: safeIdSchema,
    deviceId: safeIdSchema,
    userId: safeIdSchema.optional(),
    familyId: safeIdSchema.optional(),
    clientRequestId: safeIdSchema.optional(),
    userRole: statement,
    contentRating: statement,
    profileContentRatingLimit: statement,
  })
  .strict();
export const heartbeatBody = z.object({ deviceId: safeIdSchema.optional() }).loose().optional().nullable();
