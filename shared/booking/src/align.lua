-- Makes seat holds expire with the reservation they became: a pending reservation's seats are
-- free again at its expires_at, in Redis at the same instant as in Postgres. The holds then
-- carry the reservation's own fencing token (a replayed reserve re-takes them under a new one),
-- so whoever later frees the reservation's seats finds them by that token.
--
-- KEYS[1]    the user's held seats (ZSET seat -> expiry ms)
-- KEYS[2..]  one hold key per seat
-- ARGV[1]    user id
-- ARGV[2]    the hold's fencing token (only holds still carrying it are touched)
-- ARGV[3]    the reservation's fencing token (what the holds carry from now on)
-- ARGV[4]    the reservation's expiry, ms since the Unix epoch
-- ARGV[5..]  the seat ids, in the order of KEYS[2..]
-- Returns    {aligned}
local value = ARGV[1] .. ':' .. ARGV[2]
local kept = ARGV[1] .. ':' .. ARGV[3]
local at = tonumber(ARGV[4])
local aligned = 0
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == value then
    if kept ~= value then
      redis.call('SET', KEYS[i], kept)
    end
    redis.call('PEXPIREAT', KEYS[i], at)
    redis.call('ZADD', KEYS[1], at, ARGV[i + 3])
    aligned = aligned + 1
  end
end
if aligned > 0 then
  local t = redis.call('TIME')
  local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if redis.call('PTTL', KEYS[1]) < at - now_ms then
    redis.call('PEXPIREAT', KEYS[1], at)
  end
end
return {aligned}
