-- Ends a session for its owner; ending one that is already gone succeeds.
-- KEYS[1]  session key session:{sessionId}
-- ARGV[1]  sessionId   ARGV[2] userId   ARGV[3] deviceId or '' (any device of the user)
-- ARGV[4]  family set prefix (family_streams:)   ARGV[5] device set prefix (device_streams:)
-- Returns {'ended', session} | {'already_gone', ''} | {'not_owner', ''}.
local raw = redis.call('GET', KEYS[1])
if not raw then return {'already_gone', ''} end
local s = cjson.decode(raw)
if s.userId ~= ARGV[2] or (ARGV[3] ~= '' and s.deviceId ~= ARGV[3]) then return {'not_owner', ''} end
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[4] .. s.familyId, ARGV[1])
redis.call('SREM', ARGV[5] .. s.deviceId, ARGV[1])
return {'ended', raw}
