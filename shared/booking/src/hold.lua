-- Holds 1..4 seats of one event for one user, all or none, and issues the hold's fencing token.
--
-- KEYS[1]    the event's fencing-token counter          <prefix>:seat:{evt:<event>}:fence
-- KEYS[2]    the user's held seats (ZSET seat -> expiry ms) <prefix>:seat:{evt:<event>}:user:<user>
-- KEYS[3]    the user's hold calls this minute          <prefix>:seat:{evt:<event>}:rate:<user>
-- KEYS[4]    the event's hold counters (HASH granted, seats_granted, refused_taken,
--            refused_rate, refused_cap)                 <prefix>:seat:{evt:<event>}:stats
-- KEYS[5..]  one hold key per seat, in seat id order    <prefix>:seat:{evt:<event>}:<seat>
-- ARGV[1]    user id
-- ARGV[2]    hold TTL in ms
-- ARGV[3]    most seats one user may hold at once for this event
-- ARGV[4]    most hold calls one user may make per minute for this event
-- ARGV[5]    token floor: the highest token the caller knows was written (0: none)
-- ARGV[6..]  the seat ids, in the order of KEYS[5..]
-- Returns    {1, token, expires_at_ms}  held: new holds, and the caller's own ones extended
--            {2, i, ...}                taken: 1-based positions of seats another user holds
--            {3, retry_after_ms}        too many hold calls this minute
--            {4, held_now}              too many seats held at once
--
-- A hold key's value is `<user>:<token>`. Tokens are a hybrid clock: greater than the counter,
-- than Redis TIME in microseconds and than the floor. So a Redis that lost the counter (restart
-- without persistence, failover to a lagging replica) still issues tokens above every one it
-- issued before, as long as its clock is not behind the one that issued them; the floor covers
-- that case too when the caller knows a written token. Redis' own clock decides expiry.
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local user = ARGV[1]
local ttl_ms = tonumber(ARGV[2])
local max_held = tonumber(ARGV[3])
local max_per_minute = tonumber(ARGV[4])
local floor = tonumber(ARGV[5]) or 0
local owner_prefix = user .. ':'
local first_seat = 5

-- Business counters, in the same step as the outcome they count (kept a day after last use).
local function count(field, by)
  redis.call('HINCRBY', KEYS[4], field, by)
  redis.call('PEXPIRE', KEYS[4], 86400000)
end

-- Check everything before changing anything.
local taken = {2}
local fresh = 0
for i = first_seat, #KEYS do
  local value = redis.call('GET', KEYS[i])
  if value and string.sub(value, 1, #owner_prefix) ~= owner_prefix then
    taken[#taken + 1] = i - first_seat + 1
  elseif not value then
    fresh = fresh + 1
  end
end
if #taken > 1 then
  count('refused_taken', 1)
  return taken
end
local calls = tonumber(redis.call('GET', KEYS[3])) or 0
if calls >= max_per_minute then
  local wait = redis.call('PTTL', KEYS[3])
  if wait < 1 then wait = 1 end
  count('refused_rate', 1)
  return {3, wait}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms)
local held = redis.call('ZCARD', KEYS[2])
if held + fresh > max_held then
  count('refused_cap', 1)
  return {4, held}
end

if redis.call('INCR', KEYS[3]) == 1 then
  redis.call('PEXPIRE', KEYS[3], 60000)
end
local current = tonumber(redis.call('GET', KEYS[1])) or 0
local target = math.max(current + 1, now_us, floor + 1)
-- INCRBY with an exact integer: Lua would print a large number in exponent form.
local token = redis.call('INCRBY', KEYS[1], string.format('%d', target - current))
-- The counter is a cache of the clock: it may expire (see above), one day after its last use.
redis.call('PEXPIRE', KEYS[1], 86400000)
local value = owner_prefix .. string.format('%d', token)
local expires_at = now_ms + ttl_ms
for i = first_seat, #KEYS do
  redis.call('SET', KEYS[i], value, 'PX', ttl_ms)
  redis.call('ZADD', KEYS[2], expires_at, ARGV[i - first_seat + 6])
end
if redis.call('PTTL', KEYS[2]) < ttl_ms then
  redis.call('PEXPIRE', KEYS[2], ttl_ms)
end
count('granted', 1)
count('seats_granted', #KEYS - first_seat + 1)
return {1, token, expires_at}
