-- GCRA (generic cell rate algorithm) rate limiter: one key per (category, identity).
--
-- KEYS[1]  the limiter key: holds the theoretical arrival time (TAT) in ms, expiring with it
-- ARGV[1]  emission interval in ms (window / limit)
-- ARGV[2]  burst: how many requests may arrive at once
-- ARGV[3]  cost of this request (1; 0 never consumes)
-- ARGV[4]  "1" to consume on success, "0" to only ask (peek)
-- Returns  {allowed (1|0), retry_after_ms, remaining}
--
-- Redis' own clock decides (TIME), so fleet clocks never disagree about a window. The key gets its
-- TTL in the same step that writes it: an idle identity leaves nothing behind.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local commit = ARGV[4] == '1'

local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
local new_tat = tat + cost * interval
local allow_at = new_tat - burst * interval
if now < allow_at then
  return {0, allow_at - now, 0}
end
if commit and new_tat > now then
  redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
end
return {1, 0, math.floor((now - allow_at) / interval)}
