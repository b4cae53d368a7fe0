import { MAX_ID_LENGTH, SAFE_ID_PATTERN } from '@nself-tv/redis-keys';
import { z } from 'zod';

/** An id that may go into a key (the redis-keys rule). */
export const safeIdSchema = z
  .string()
  .max(MAX_ID_LENGTH)
  .regex(SAFE_ID_PATTERN, "allowed are letters, digits, '-', '_' and '.'");
