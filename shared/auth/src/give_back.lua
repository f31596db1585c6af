-- Gives one charge back to a GCRA limiter key, as gcra.lua (urr-ratelimit) writes it. The login
-- throttle charges every attempt before the password is checked; an attempt whose password was
-- right, or that never reached the check, returns its charge here.
--
-- KEYS[1]  the limiter key: the theoretical arrival time (TAT) in ms, expiring with it
-- ARGV[1]  emission interval in ms (what one charge added)
-- Returns  {1} when a charge was given back, {0} when the key had nothing left to give
--
-- Redis' own clock decides (TIME), as in gcra.lua. A TAT at or before now means nothing is owed:
-- the key is gone or harmless. A TAT that falls to now or below is deleted, never left behind.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat <= now then
  return {0}
end
local new_tat = tat - tonumber(ARGV[1])
if new_tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
end
return {1}
