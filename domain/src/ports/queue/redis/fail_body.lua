
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if ARGV[5] == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[7])
else
  redis.call('XADD', KEYS[3], '*', 'id', ARGV[8], 'topic', ARGV[9], 'payload', ARGV[10],
    'attempts', ARGV[11], 'last_error', ARGV[12])
end
return 1
