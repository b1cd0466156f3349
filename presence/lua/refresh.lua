-- refresh pushes the expiry of one node's holders forward, then sweeps the
-- expired holders of every node.
-- KEYS: holders, members, counts.
-- ARGV: now (Unix ms), expiry (Unix ms), key TTL (ms), holder...
-- Returns {number of left members, left member..., missing holder...}:
-- the members that left in the sweep, then the given holders that were not
-- there (swept while this node was away) and must be added again.
local missing = {}
for i = 4, #ARGV do
  if redis.call('zscore', KEYS[1], ARGV[i]) then
    redis.call('zadd', KEYS[1], ARGV[2], ARGV[i])
  else
    missing[#missing + 1] = ARGV[i]
  end
end
local left = sweep(ARGV[1])
keep(ARGV[3])
local out = {#left}
for _, m in ipairs(left) do
  out[#out + 1] = m
end
for _, h in ipairs(missing) do
  out[#out + 1] = h
end
return out
