-- Refreshes a session for its owner. An expired session is not revived.
-- KEYS[1]  session key session:{sessionId}
-- ARGV[1]  userId   ARGV[2] deviceId or '' (any device of the user)   ARGV[3] TTL in seconds
-- ARGV[4]  family set prefix (family_streams:)   ARGV[5] device set prefix (device_streams:)
-- Returns {'ok', session, lastHeartbeat} | {'session_not_found', ''} | {'not_owner', ''}.
local raw = redis.call('GET', KEYS[1])
if not raw then return {'session_not_found', ''} end
local s = cjson.decode(raw)
if s.userId ~= ARGV[1] or (ARGV[2] ~= '' and s.deviceId ~= ARGV[2]) then return {'not_owner', ''} end
local ttl = tonumber(ARGV[3])
local t = redis.call('TIME')
s.lastHeartbeat = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local json = cjson.encode(s)
redis.call('SET', KEYS[1], json, 'EX', ttl)
-- The sets must outlive their members: every refresh of a member refreshes them too.
redis.call('EXPIRE', ARGV[4] .. s.familyId, ttl)
redis.call('EXPIRE', ARGV[5] .. s.deviceId, ttl)
return {'ok', json, s.lastHeartbeat}
