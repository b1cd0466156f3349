-- wsrouter history read: the epoch and newest offset of a subscription
-- name, the number of messages kept, and the messages after an offset.
--
-- KEYS[1]  the history list        KEYS[2]  the history meta hash
-- ARGV[1]  ttl in milliseconds, for a meta hash this read creates
-- ARGV[2]  the epoch of the offset to read after ("" reads no message)
-- ARGV[3]  the sequence number of that offset
-- ARGV[4]  at most this many messages (0: all)
--
-- Returns {epoch, newest sequence number, messages kept, {messages}}. A
-- name without history gets its epoch now, so that an offset handed out
-- while it is empty never matches a later epoch.
local list, meta = KEYS[1], KEYS[2]
local m = redis.call('HMGET', meta, 'e', 's')
local epoch, top = m[1], tonumber(m[2]) or 0
if not epoch then
  local now = redis.call('TIME')
  epoch = now[1] .. string.format('%06d', tonumber(now[2]))
  redis.call('HSET', meta, 'e', epoch, 's', '0')
  redis.call('PEXPIRE', meta, ARGV[1])
  redis.call('DEL', list)
  return {epoch, 0, 0, {}}
end
local kept = redis.call('LLEN', list)
local messages = {}
local since, limit = tonumber(ARGV[3]), tonumber(ARGV[4]) or 0
if ARGV[2] == epoch and since and since < top and since >= top - kept then
  local from = since - (top - kept)
  local to = -1
  if limit > 0 then
    to = from + limit - 1
  end
  messages = redis.call('LRANGE', list, from, to)
end
return {epoch, top, kept, messages}
