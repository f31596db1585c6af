-- Whether a user's active slot in an event's waiting room is still live.
--
-- KEYS[1]  the event's active set (ZSET user -> slot expiry ms)  <prefix>:queue:{evt:<event>}:active
-- ARGV[1]  user id
-- Returns  {1} live, {0} missing or expired (Redis' clock decides)
local score = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
if not score then
  return {0}
end
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if score > now_ms then
  return {1}
end
return {0}
