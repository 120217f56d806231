
for i = 2, #KEYS do
  redis.pcall('XGROUP', 'CREATE', KEYS[i], ARGV[1], '0', 'MKSTREAM')
  redis.call('SADD', KEYS[1], ARGV[i])
end
return 1
