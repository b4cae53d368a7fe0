-- Atomically updates one stage of an ingest and recomputes the ingest's
-- status and overall progress from the stage bands stored in the state.
-- KEYS[1]  ingest state key (JSON string)
-- ARGV[1]  stage name
-- ARGV[2]  new stage status, or '' to keep it
-- ARGV[3]  stage progress 0-100, or '' to keep it
-- ARGV[4]  error text, or ''
-- ARGV[5]  job id, or ''
-- ARGV[6]  stage result as a JSON string (stored as a string), or ''
-- ARGV[7]  TTL in seconds, refreshed on every update
-- ARGV[8]  '1' when the ingest's output can be played from now on (its growing playlists were
--          published, or a stage the pipeline declares playable completed), else ''
-- ARGV[9]  the failure's stable code (`NO_VIDEO`, `NOT_MEDIA`…), or ''
-- Returns {state JSON, ended}: the new state, or the unchanged one when the ingest
-- is already finished or the stage already ended; `ended` is the ingest's final
-- status ('completed' or 'failed') when this very update finished it, else ''.
-- nil when the ingest does not exist.
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local state = cjson.decode(raw)
if state.status == 'completed' or state.status == 'failed' or state.status == 'cancelled' then
  return {raw, ''}
end

local function ended(status)
  return status == 'completed' or status == 'failed' or status == 'skipped'
end

local stage
for _, s in ipairs(state.stages) do
  if s.name == ARGV[1] then stage = s end
end
if not stage then return redis.error_reply('ERR unknown ingest stage ' .. ARGV[1]) end
if ended(stage.status) then return {raw, ''} end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local status = ARGV[2]
if status ~= '' then
  if status == 'running' and stage.startedAt == nil then stage.startedAt = now end
  stage.status = status
  if ended(status) then
    stage.finishedAt = now
    if status == 'completed' then stage.progress = 100 end
  end
end
if ARGV[3] ~= '' and stage.status == 'running' then
  local p = tonumber(ARGV[3])
  if p < 0 then p = 0 end
  if p > 100 then p = 100 end
  if p > (stage.progress or 0) then stage.progress = p end
end
if ARGV[4] ~= '' then stage.error = ARGV[4] end
if ARGV[9] ~= '' then stage.code = ARGV[9] end
-- Seconds left, from the stage's pace so far (its parts finish at a steady rate).
if stage.status == 'running' and stage.startedAt and (stage.progress or 0) > 0 then
  stage.etaSeconds = math.floor((now - stage.startedAt) * (100 - stage.progress) / stage.progress / 1000 + 0.5)
elseif ended(stage.status) then
  stage.etaSeconds = nil
end
if state.playableAt == nil and ARGV[8] == '1' then
  state.playableAt = now
end
if ARGV[5] ~= '' then stage.jobId = ARGV[5] end
if ARGV[6] ~= '' then stage.result = ARGV[6] end

local overall, allEnded, fatal, started = 0, true, nil, false
for _, s in ipairs(state.stages) do
  if s.startedAt or s.finishedAt then started = true end
  local width = s.to - s.from
  if ended(s.status) then
    overall = overall + width
  else
    allEnded = false
    if s.status == 'running' then overall = overall + width * (s.progress or 0) / 100 end
  end
  if s.status == 'failed' and s.fatal and not fatal then fatal = s end
end

state.progress = math.floor(overall * 10 + 0.5) / 10
state.updatedAt = now
if fatal then
  state.status = 'failed'
  state.error = fatal.name .. ': ' .. (fatal.error or 'failed')
  state.code = fatal.code
  state.finishedAt = now
  -- Nothing waits for the stages that have not ended: they will not run, and say so.
  for _, s in ipairs(state.stages) do
    if s.status == 'pending' or s.status == 'running' then
      s.status = 'skipped'
      s.error = 'not run: ' .. fatal.name .. ' failed'
      s.etaSeconds = nil
      s.finishedAt = now
    end
  end
elseif allEnded then
  state.status = 'completed'
  state.progress = 100
  state.finishedAt = now
elseif started then
  state.status = 'running'
else
  state.status = 'pending'
end

local out = cjson.encode(state)
redis.call('SET', KEYS[1], out, 'EX', tonumber(ARGV[7]))
if state.status == 'completed' or state.status == 'failed' then return {out, state.status} end
return {out, ''}
