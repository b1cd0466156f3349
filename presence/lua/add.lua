-- add records one holder of a member and reports whether the member joined.
-- KEYS: holders, members, counts.
-- ARGV: holder, member, expiry (Unix ms), key TTL (ms).
-- Returns 1 when this holder is the member's first, else 0.
local joined = 0
if redis.call('zadd', KEYS[1], ARGV[3], ARGV[1]) == 1 then
  if redis.call('hincrby', KEYS[3], ARGV[2], 1) == 1 then
    redis.call('zadd', KEYS[2], 0, ARGV[2])
    joined = 1
  end
end
keep(ARGV[4])
return joined
