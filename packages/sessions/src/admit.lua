-- Admits a playback session under the family and device limits, atomically.
-- KEYS[1]  family set      family_streams:{familyId}
-- KEYS[2]  device set      device_streams:{deviceId}
-- KEYS[3]  new session key session:{sessionId}
-- ARGV[1]  sessionId        ARGV[2] userId     ARGV[3] mediaId
-- ARGV[4]  deviceId         ARGV[5] familyId   ARGV[6] clientRequestId or ''
-- ARGV[7]  session key prefix (session:)   ARGV[8] device set prefix (device_streams:)
--          In cluster mode both carry the family's hash tag (session:{tag}:), so every key
--          this script reaches is in the family's slot.
-- The store's settings are written into the source when it is created (see
-- session-store.ts), so they cost no arguments on every call:
--   TTL_SECONDS, FAMILY_LIMIT, DEVICE_LIMIT, EVICT_OLDEST ('1' or '0')
-- Returns {status, a, b}:
--   {'admitted', now (ms, the session's startedAt), evicted session JSON or ''}
--   {'replayed', session JSON, ''}               same clientRequestId again: no second slot
--   {'device_limit', JSON array of the device's sessions, ''}
--   {'family_limit', JSON array of the family's sessions, ''}
local famKey, devKey, sessKey = KEYS[1], KEYS[2], KEYS[3]
local sessionId, userId, deviceId, crid = ARGV[1], ARGV[2], ARGV[4], ARGV[6]
local ttl = tonumber('{{TTL_SECONDS}}')
local familyLimit, deviceLimit = tonumber('{{FAMILY_LIMIT}}'), tonumber('{{DEVICE_LIMIT}}')
local evictOldest = '{{EVICT_OLDEST}}' == '1'
local sessPrefix, devPrefix = ARGV[7], ARGV[8]

-- Ids of a set whose session still exists; the others are removed from the set.
-- Sessions are only read (and decoded) when they are needed.
local function prune(setKey)
  local ids = {}
  for _, id in ipairs(redis.call('SMEMBERS', setKey)) do
    if redis.call('EXISTS', sessPrefix .. id) == 1 then
      ids[#ids + 1] = id
    else
      redis.call('SREM', setKey, id)
    end
  end
  return ids
end

local function load(ids)
  local out = {}
  for _, id in ipairs(ids) do out[#out + 1] = cjson.decode(redis.call('GET', sessPrefix .. id)) end
  table.sort(out, function(a, b) return a.startedAt < b.startedAt end)
  return out
end

local family = prune(famKey)
local device = prune(devKey)

if crid ~= '' then
  for _, s in ipairs(load(family)) do
    if s.clientRequestId == crid and s.userId == userId and s.deviceId == deviceId then
      return {'replayed', cjson.encode(s), ''}
    end
  end
end

if #device >= deviceLimit then
  return {'device_limit', cjson.encode(load(device)), ''}
end

local evicted = ''
if #family >= familyLimit then
  if not evictOldest then
    return {'family_limit', cjson.encode(load(family)), ''}
  end
  local sessions = load(family)
  local oldest = sessions[1]
  for _, s in ipairs(sessions) do
    if s.lastHeartbeat < oldest.lastHeartbeat then oldest = s end
  end
  redis.call('DEL', sessPrefix .. oldest.sessionId)
  redis.call('SREM', famKey, oldest.sessionId)
  redis.call('SREM', devPrefix .. oldest.deviceId, oldest.sessionId)
  evicted = cjson.encode(oldest)
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local session = {
  sessionId = sessionId,
  userId = userId,
  mediaId = ARGV[3],
  deviceId = deviceId,
  familyId = ARGV[5],
  startedAt = now,
  lastHeartbeat = now,
}
if crid ~= '' then session.clientRequestId = crid end
redis.call('SET', sessKey, cjson.encode(session), 'EX', ttl)
redis.call('SADD', famKey, sessionId)
redis.call('EXPIRE', famKey, ttl)
redis.call('SADD', devKey, sessionId)
redis.call('EXPIRE', devKey, ttl)
return {'admitted', now, evicted}
