-- Refreshes a session for its owner. An expired session is not revived.
-- KEYS[1]  session key session:{sessionId}
-- ARGV[1]  userId   ARGV[2] deviceId or '' (any device of the user)
-- ARGV[3]  family set prefix (family_streams:)   ARGV[4] device set prefix (device_streams:)
-- The TTL is written into the source when the store is created: TTL_SECONDS.
-- Returns one integer, the cheapest reply to send and read on the hottest call:
--   the new lastHeartbeat (ms, > 0) | 0 no such session | -1 not the owner's.
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local s = cjson.decode(raw)
if s.userId ~= ARGV[1] or (ARGV[2] ~= '' and s.deviceId ~= ARGV[2]) then return -1 end
local ttl = tonumber('{{TTL_SECONDS}}')
local t = redis.call('TIME')
s.lastHeartbeat = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], cjson.encode(s), 'EX', ttl)
-- The sets must outlive their members: every refresh of a member refreshes them too.
redis.call('EXPIRE', ARGV[3] .. s.familyId, ttl)
redis.call('EXPIRE', ARGV[4] .. s.deviceId, ttl)
return s.lastHeartbeat
