-- Counts one ingest of a family in the current window, unless the family is over its limit.
-- KEYS[1]  the family's counter (ingest_rate:{familyId}), a STRING
-- ARGV[1]  ingests allowed per window
-- ARGV[2]  window in seconds (the counter's TTL from the window's first ingest)
-- Returns 0 when counted, else the seconds until the window ends (at least 1).
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then
  local ttl = redis.call('TTL', KEYS[1])
  if ttl < 1 then
    -- A counter without a TTL (written by hand) would refuse forever: give it one.
    redis.call('EXPIRE', KEYS[1], ARGV[2])
    ttl = tonumber(ARGV[2])
  end
  return ttl
end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
