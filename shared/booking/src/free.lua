-- Frees the seat holds of reservations Postgres has just moved out of a live status (cancelled,
-- refunded, expired), so the hold script never refuses a seat the seat map shows available.
-- Only a hold that still carries the reservation's own `<user>:<token>` goes: a newer hold of
-- the seat (anybody's, the same buyer's included) carries another token and stays.
--
-- KEYS       pairs, one per seat: the hold key, then its holder's held seats (ZSET seat ->
--            expiry ms); every key of one event (hash tag {evt:<event>})
-- ARGV       pairs in the same order: the hold's value `<user>:<token>`, then the seat id
-- Returns    {freed}
local freed = 0
for i = 1, #KEYS, 2 do
  if redis.call('GET', KEYS[i]) == ARGV[i] then
    redis.call('DEL', KEYS[i])
    redis.call('ZREM', KEYS[i + 1], ARGV[i + 1])
    freed = freed + 1
  end
end
return {freed}
