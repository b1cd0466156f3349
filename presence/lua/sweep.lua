-- sweep removes the holders whose expiry is at or before now and returns
-- the members that lost their last holder. It is prepended to the scripts
-- that use it. KEYS: holders, members, counts.
local function sweep(now)
  local left = {}
  local expired = redis.call('zrangebyscore', KEYS[1], '-inf', now, 'LIMIT', 0, 1000)
  for _, holder in ipairs(expired) do
    redis.call('zrem', KEYS[1], holder)
    local cut = string.find(holder, '\n', 1, true)
    if cut then
      local member = string.sub(holder, cut + 1)
      if redis.call('hincrby', KEYS[3], member, -1) <= 0 then
        redis.call('hdel', KEYS[3], member)
        redis.call('zrem', KEYS[2], member)
        left[#left + 1] = member
      end
    end
  end
  return left
end

local function keep(ttl)
  for i = 1, 3 do
    redis.call('pexpire', KEYS[i], ttl)
  end
end
