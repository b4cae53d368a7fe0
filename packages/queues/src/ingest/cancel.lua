-- Marks an ingest cancelled unless it has already finished.
-- KEYS[1]  ingest state key (JSON string)
-- ARGV[1]  TTL in seconds
-- Returns the state JSON after the call, or nil when the ingest does not exist.
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local state = cjson.decode(raw)
if state.status == 'completed' or state.status == 'failed' or state.status == 'cancelled' then
  return raw
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, s in ipairs(state.stages) do
  if s.status == 'pending' or s.status == 'running' then
    s.status = 'skipped'
    s.finishedAt = now
  end
end
state.status = 'cancelled'
state.updatedAt = now
state.finishedAt = now
local out = cjson.encode(state)
redis.call('SET', KEYS[1], out, 'EX', tonumber(ARGV[1]))
return out
