
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(due) do
  local ok, job = pcall(cjson.decode, m)
  if ok and type(job) == 'table' and job.topic and job.id and job.payload then
    local stream = ARGV[3] .. job.topic
    redis.pcall('XGROUP', 'CREATE', stream, ARGV[4], '0', 'MKSTREAM')
    redis.call('SADD', KEYS[2], job.topic)
    redis.call('XADD', stream, '*', 'id', job.id, 'payload', job.payload,
      'attempt', tostring(job.attempt or 1))
  else
    redis.call('XADD', ARGV[5], '*', 'id', '', 'topic', '', 'payload', m, 'attempts', '0',
      'last_error', 'corrupt delayed entry')
  end
  redis.call('ZREM', KEYS[1], m)
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #nxt == 0 then return -1 end
return tonumber(nxt[2])
