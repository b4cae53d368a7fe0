// Date#toISOString costs more than half a microsecond, and the gateway formats an expiry on
// every heartbeat: thousands a second, almost all within the same second. The text up to the
// milliseconds is kept for the last second formatted.
const MAX_TIME = 8.64e15; // the largest time a Date holds, either side of 1970
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/** `new Date(ms).toISOString()`, character for character (and it throws where that throws). */
export function isoTime(ms: number): string {
  const t = Math.trunc(ms); // as a Date truncates its time value
  if (!(t >= -MAX_TIME && t <= MAX_TIME)) return new Date(t).toISOString(); // the RangeError
  const second = Math.floor(t / 1000);
  if (second !== cachedSecond) {
    cachedPrefix = new Date(t).toISOString().slice(0, -4); // up to "SS."
    cachedSecond = second;
  }
  const millis = t - second * 1000;
  return `${cachedPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}
