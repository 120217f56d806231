
local out = {}
local budget = tonumber(ARGV[4])
local function take(e)
  if type(e) ~= 'table' or type(e[2]) ~= 'table' then return end
  local entry = e[1]
  local f = {}
  for i = 1, #e[2], 2 do f[e[2][i]] = e[2][i + 1] end
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], entry, entry, 1)
  local count = 1
  if #p > 0 then count = tonumber(p[1][4]) end
  local attempt = (tonumber(f['attempt']) or 1) + count - 1
  if attempt > tonumber(ARGV[5]) then
    redis.call('XADD', KEYS[2], '*', 'id', f['id'] or '', 'topic', ARGV[6],
      'payload', f['payload'] or 'null', 'attempts', tostring(attempt - 1), 'last_error', ARGV[7])
    redis.call('XACK', KEYS[1], ARGV[1], entry)
    redis.call('XDEL', KEYS[1], entry)
  else
    table.insert(out, {entry, f['id'] or '', f['payload'] or 'null', tostring(attempt), tostring(count)})
    budget = budget - 1
  end
end
local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if ok then
  for _, c in ipairs(consumers) do
    local name
    for i = 1, #c, 2 do if c[i] == 'name' then name = c[i + 1] end end
    if name and name ~= ARGV[2] and redis.call('EXISTS', ARGV[8] .. name) == 0 then
      if budget > 0 then
        local ids = {}
        for _, row in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', budget, name)) do
          table.insert(ids, row[1])
        end
        if #ids > 0 then
          for _, e in ipairs(redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, unpack(ids))) do
            take(e)
          end
        end
      end
      if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, name) == 0 then
        redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
      end
    end
  end
end
if budget > 0 then
  local res = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0', 'COUNT', budget)
  for _, e in ipairs(res[2]) do take(e) end
end
return out
