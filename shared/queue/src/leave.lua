-- A user leaves the waiting room of one event: out of the line, the pre-sale pool or the slot.
-- Idempotent: leaving twice (a beacon and a click) counts once.
--
-- KEYS[1]  active   ZSET user id -> slot expiry (epoch ms)
-- KEYS[2]  waiting  ZSET user id -> arrival sequence
-- KEYS[3]  seen     ZSET user id -> last seen (epoch ms)
-- KEYS[4]  slots    HASH user id -> admitted at (epoch ms)
-- KEYS[5]  state    HASH (the `left` counter)
-- KEYS[6]  presale  ZSET user id -> draw (the fair start's pool)
-- ARGV[1]  user id
-- Returns  {was_active (1|0), was_waiting (1|0: in the line or the pool)}
local was_active = redis.call('ZREM', KEYS[1], ARGV[1])
local was_waiting = redis.call('ZREM', KEYS[2], ARGV[1]) + redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
if was_active + was_waiting > 0 then
  redis.call('HINCRBY', KEYS[5], 'left', 1)
end
return {was_active, was_waiting}
