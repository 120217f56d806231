
redis.call('SET', KEYS[3], ARGV[3], 'NX')
local seen = {}
for i = 5, #ARGV, 4 do
  local topic, due = ARGV[i], tonumber(ARGV[i + 3])
  if due > tonumber(ARGV[4]) then
    redis.call('SADD', KEYS[1], topic)
    redis.call('ZADD', KEYS[2], due, ARGV[i + 2])
  else
    local stream = ARGV[2] .. topic
    if not seen[topic] then
      redis.pcall('XGROUP', 'CREATE', stream, ARGV[1], '0', 'MKSTREAM')
      redis.call('SADD', KEYS[1], topic)
      seen[topic] = true
    end
    redis.call('XADD', stream, '*', 'id', ARGV[i + 1], 'payload', ARGV[i + 2], 'attempt', '1')
  end
end
return redis.call('GET', KEYS[3])
