import { timingSafeEqual } from 'node:crypto';

/** Whether `given` equals one of `accepted`, compared in constant time. */
export function isAcceptedToken(given: string, accepted: readonly string[]): boolean {
  const a = Buffer.from(given);
  return accepted.some((token) => {
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  });
}
