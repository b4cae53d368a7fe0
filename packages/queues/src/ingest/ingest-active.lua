-- Places an ingest among its family's ingests in flight, for the chunk schedule.
-- KEYS[1]  ingest_active:{familyId} (ZSET ingest id -> start ms)
-- ARGV[1]  ingest id
-- ARGV[2]  now, ms
-- ARGV[3]  TTL in seconds (also the age after which a member is taken for gone)
-- Returns the ingest's rank: how many of the family's ingests in flight started before it.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]) * 1000)
redis.call('ZADD', KEYS[1], 'NX', tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return redis.call('ZRANK', KEYS[1], ARGV[1])
