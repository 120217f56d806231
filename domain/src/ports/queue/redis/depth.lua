
local ready, inflight = 0, 0
for _, t in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local s = ARGV[1] .. t
  local len = redis.call('XLEN', s)
  local pend = 0
  local p = redis.pcall('XPENDING', s, ARGV[2])
  if type(p) == 'table' and p.err == nil then pend = tonumber(p[1]) or 0 end
  inflight = inflight + pend
  ready = ready + len - pend
end
return {ready, inflight, redis.call('ZCARD', KEYS[2]), redis.call('XLEN', KEYS[3])}
