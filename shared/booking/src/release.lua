-- Releases seat holds, only those the caller holds with exactly this token.
--
-- KEYS[1]    the user's held seats (ZSET seat -> expiry ms)
-- KEYS[2..]  one hold key per seat
-- ARGV[1]    user id
-- ARGV[2]    the hold's fencing token
-- ARGV[3..]  the seat ids, in the order of KEYS[2..]
-- Returns    {released}
local value = ARGV[1] .. ':' .. ARGV[2]
local released = 0
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == value then
    redis.call('DEL', KEYS[i])
    redis.call('ZREM', KEYS[1], ARGV[i + 1])
    released = released + 1
  end
end
return {released}
