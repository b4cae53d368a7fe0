-- Lists the live sessions of a family or device set, removing ids whose session expired.
-- KEYS[1]  family_streams:{familyId} or device_streams:{deviceId}
-- ARGV[1]  session key prefix (session:)
-- Returns a JSON array of sessions.
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local raw = redis.call('GET', ARGV[1] .. id)
  if raw then
    out[#out + 1] = raw
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return '[' .. table.concat(out, ',') .. ']'
