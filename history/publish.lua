-- wsrouter publish script: appends one message to a subscription name's
-- history and publishes it on the name's channel, in one atomic step.
--
-- KEYS[1]  the history list        KEYS[2]  the history meta hash
-- ARGV[1]  the Redis channel       ARGV[2]  the message, a JSON object
-- ARGV[3]  size: messages kept     ARGV[4]  ttl in milliseconds
-- ARGV[5]  optional: "publish" (default) or "spublish" (Redis Cluster)
--
-- The message goes out with "offset" added as its last member, and the
-- script returns that offset. A name's first message, and the first after
-- its history expired, starts a new epoch.
local list, meta = KEYS[1], KEYS[2]
local channel, msg, size, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cmd = ARGV[5] or 'publish'
if not (size and string.find(size, '^[1-9]%d*$')) then
  return redis.error_reply('ERR wsrouter: size must be a positive integer')
end
if not (ttl and string.find(ttl, '^[1-9]%d*$')) then
  return redis.error_reply('ERR wsrouter: ttl must be a positive number of milliseconds')
end
if cmd ~= 'publish' and cmd ~= 'spublish' then
  return redis.error_reply('ERR wsrouter: the publish command must be publish or spublish')
end
local last = string.find(msg, '}%s*$')
if not (last and string.find(msg, '^%s*{')) then
  return redis.error_reply('ERR wsrouter: the message must be a JSON object')
end
local epoch = redis.call('HGET', meta, 'e')
if not epoch then
  local now = redis.call('TIME')
  epoch = now[1] .. string.format('%06d', tonumber(now[2]))
  redis.call('HSET', meta, 'e', epoch)
  redis.call('DEL', list)
end
local seq = redis.call('HINCRBY', meta, 's', 1)
local offset = epoch .. ':' .. seq
local head = string.sub(msg, 1, last - 1)
local sep = ','
if string.find(head, '^%s*{%s*$') then
  sep = ''
end
local out = head .. sep .. '"offset":"' .. offset .. '"}'
redis.call('RPUSH', list, out)
redis.call('LTRIM', list, '-' .. size, '-1')
redis.call('PEXPIRE', list, ttl)
redis.call('PEXPIRE', meta, ttl)
redis.call(cmd, channel, out)
return offset
