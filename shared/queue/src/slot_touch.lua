-- Does this user hold a live active slot at this event? If so, activity renews it.
-- No route calls it today: the seat routes only read a slot, with `shared/booking/src/slot.lua`.
-- Its store test (tests/tests/all/queue_store.rs) pins the renewal rule the visit script shares.
-- Keys from `urr_queue::keys::EventKeys` (`active` and `slots`).
--
-- KEYS[1]  active  ZSET user id -> slot expiry (epoch ms): `<prefix>:queue:{evt:<id>}:active`
-- KEYS[2]  slots   HASH user id -> admitted at (epoch ms): `<prefix>:queue:{evt:<id>}:slots`
-- ARGV[1]  user id (lower-case UUID)
-- ARGV[2]  extend by, ms: the slot then ends no sooner than now + this
-- ARGV[3]  maximum slot lifetime in ms, counted from admission: never renewed past it
-- ARGV[4]  now in epoch ms: tests only; '0' (or absent) means Redis TIME
-- Returns  {live (1|0), expires_at_ms}: 0 and 0 when the user holds no live slot (never
--          admitted, left, purchased, or expired); nothing is written then.
local now = tonumber(ARGV[4]) or 0
if now <= 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local score = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
if not score or score <= now then
  return {0, 0}
end
local since = tonumber(redis.call('HGET', KEYS[2], ARGV[1]))
if not since then
  since = now
  redis.call('HSET', KEYS[2], ARGV[1], now)
end
local expires = math.max(score, math.min(now + tonumber(ARGV[2]), since + tonumber(ARGV[3])))
if expires > score then
  redis.call('ZADD', KEYS[1], 'XX', expires, ARGV[1])
end
return {1, expires}
