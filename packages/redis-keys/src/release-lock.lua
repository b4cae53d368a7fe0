-- Releases a lock only if this caller still holds it, so a holder whose
-- lock expired cannot delete the lock a newer holder took.
-- KEYS[1]  lock key
-- ARGV[1]  the holder's token
-- Returns 1 when released, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
