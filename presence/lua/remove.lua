-- remove drops one holder of a member and reports whether the member left.
-- KEYS: holders, members, counts.
-- ARGV: holder, member.
-- Returns 1 when this holder was the member's last, else 0.
if redis.call('zrem', KEYS[1], ARGV[1]) == 0 then
  return 0
end
if redis.call('hincrby', KEYS[3], ARGV[2], -1) > 0 then
  return 0
end
redis.call('hdel', KEYS[3], ARGV[2])
redis.call('zrem', KEYS[2], ARGV[2])
return 1
