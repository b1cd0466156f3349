-- members sweeps the expired holders, then lists the members in byte order.
-- KEYS: holders, members, counts.
-- ARGV: now (Unix ms), limit.
-- Returns {number of left members, number of members, left member...,
-- member...}, at most limit members.
local left = sweep(ARGV[1])
local total = redis.call('zcard', KEYS[2])
local list = {}
if total > 0 then
  list = redis.call('zrange', KEYS[2], 0, tonumber(ARGV[2]) - 1)
end
local out = {#left, total}
for _, m in ipairs(left) do
  out[#out + 1] = m
end
for _, m in ipairs(list) do
  out[#out + 1] = m
end
return out
