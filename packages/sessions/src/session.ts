import { z } from 'zod';

/** A playback session as stored under `Keyspace.session(id)` (JSON). Times are Redis server time in ms. */
export const sessionSchema = z.object({
  sessionId: z.string(),
  userId: z.string(),
  mediaId: z.string(),
  deviceId: z.string(),
  familyId: z.string(),
  startedAt: z.number(),
  lastHeartbeat: z.number(),
  clientRequestId: z.string().optional(),
});
export type Session = z.infer<typeof sessionSchema>;

/** Outcome of an admission. */
export type AdmitResult =
  | {
      ok: true;
      session: Session;
      /** True when the same clientRequestId was admitted before: no second slot was taken. */
      replayed: boolean;
      /** The session ended to make room, with `evictOldestOnFamilyLimit`. */
      evicted: Session | undefined;
    }
  | {
      ok: false;
      reason: 'family_limit' | 'device_limit';
      /** The sessions holding the slots, oldest first, so a client can offer to stop one. */
      active: Session[];
    };

/** Outcome of a heartbeat. */
export type HeartbeatResult =
  | {
      ok: true;
      /** The session's new `lastHeartbeat` (ms, Redis's clock). Read the whole session with `get()`. */
      lastHeartbeat: number;
      /** When the session lapses without another heartbeat (ms). */
      expiresAt: number;
    }
  | { ok: false; reason: 'session_not_found' | 'not_owner' };

/** Outcome of ending a session. Ending one that is already gone succeeds. */
export type EndResult = { ok: true; ended: Session | undefined } | { ok: false; reason: 'not_owner' };

export const parseSession = (raw: string): Session => sessionSchema.parse(JSON.parse(raw));
export const parseSessions = (raw: string): Session[] => z.array(sessionSchema).parse(JSON.parse(raw));
