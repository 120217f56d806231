
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('XADD', KEYS[1], '*', 'id', ARGV[3], 'payload', ARGV[4], 'attempt', ARGV[5])
return 1
