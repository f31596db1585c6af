-- The waiting room's one atomic step for a user at one event: join, status and heartbeat.
--
-- KEYS[1]  active     ZSET user id -> slot expiry (epoch ms)
-- KEYS[2]  waiting    ZSET user id -> arrival sequence (from the `seq` field of KEYS[5])
-- KEYS[3]  seen       ZSET user id -> last seen (epoch ms), waiting and pre-sale pool users
-- KEYS[4]  slots      HASH user id -> admitted at (epoch ms): caps a slot's total lifetime
-- KEYS[5]  state      HASH seq, admit_ms, rate_from_ms, rate_count, rate_milli,
--                          joined, admitted, left, dropped, info
-- KEYS[6]  threshold  STRING max active users (admin-set; missing: ARGV[3])
-- KEYS[7]  presale    ZSET user id -> draw (fair start: first 48 bits of HMAC(seed, user id))
-- KEYS[8]  fair       HASH seed (hex, written by the component with HSETNX), opens_ms
-- ARGV[1]  user id ('' visits nobody: the admin view)
-- ARGV[2]  mode: 'join' enqueues or admits a newcomer; 'status' only looks (and refreshes)
-- ARGV[3]  default threshold
-- ARGV[4]  admission rate, users per second (> 0)
-- ARGV[5]  slot lifetime in ms: granted on admission, renewed by each visit
-- ARGV[6]  maximum slot lifetime in ms, counted from admission
-- ARGV[7]  waiter timeout in ms: a waiter not seen for this long is dropped
-- ARGV[8]  state TTL in ms: every key but the threshold expires after this long without a visit
-- ARGV[9]  event info JSON to remember ('' keeps what is stored)
-- ARGV[10] now in epoch ms: tests only; '0' means Redis TIME (production always passes '0')
-- ARGV[11] the sale opens at, epoch ms ('0': not known to this caller, the stored one counts)
-- ARGV[12] pre-sale pool cap (0: no fair start, joins before the opening are FIFO as after it)
-- ARGV[13] the seed (hex) ARGV[14] was drawn with ('' : no draw)
-- ARGV[14] this user's draw, an integer below 2^48 ('' : no draw)
-- Returns  {outcome, position, active, waiting, threshold, expires_at_ms, now_ms, rate_milli, info,
--           seed, opens_ms, pool, in_pool}
--          outcome 1 = active (expires_at_ms is the slot's end), 2 = waiting (position is
--          1-based), 3 = in the pre-sale pool before the opening (no position yet: the order is
--          drawn), 0 = not in the queue; waiting counts the pool and the FIFO line; info is the
--          stored event info or nil; seed is the stored seed or nil (the component reveals it
--          only once now >= opens_ms); opens_ms 0 = unknown; in_pool 1 = the user is in the pool.
--
-- Order: end expired slots, drop stale waiters, admit lazily from the head of the line (the
-- pre-sale pool in draw order, then the FIFO line; at most min(free slots, rate x elapsed), and
-- nobody before the sale opens while fair start is on), then this user. Only keys in KEYS are
-- touched.
local SWEEP_LIMIT = 1000 -- expired slots / stale waiters removed per call (bounds the work)
-- Users admitted per call, pool and FIFO line together: the opening's bounded chunk. The pool is
-- kept in draw order by its ZSET from each join on, so the opening never reorders anything; it
-- only takes at most this many from the pool's head per call (credit beyond it is kept).
local ADMIT_LIMIT = 1000
local RATE_WINDOW_MS = 10000 -- the measured admission rate is taken over windows this long

local user = ARGV[1]
local join = ARGV[2] == 'join'
local rate = tonumber(ARGV[4])
local slot_ms = tonumber(ARGV[5])
local max_ms = tonumber(ARGV[6])
local waiter_ms = tonumber(ARGV[7])
local ttl_ms = tonumber(ARGV[8])
local now = tonumber(ARGV[10]) or 0
if now <= 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local threshold = tonumber(redis.call('GET', KEYS[6])) or tonumber(ARGV[3])
local pool_cap = tonumber(ARGV[12]) or 0

-- 0. Fair start: when the sale opens (a join brings it from the event; status visits use the
-- stored value). Before the opening, while fair start is on, nobody is admitted: the pool's
-- order is drawn with a seed revealed only at the opening, and it goes first.
local opens_ms = tonumber(ARGV[11]) or 0
if opens_ms > 0 then
  redis.call('HSET', KEYS[8], 'opens_ms', opens_ms)
else
  opens_ms = tonumber(redis.call('HGET', KEYS[8], 'opens_ms')) or 0
end
local before_open = pool_cap > 0 and now < opens_ms

-- 1. Slots past their expiry end (a score equal to now is over).
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, SWEEP_LIMIT)
if #expired > 0 then
  redis.call('ZREM', KEYS[1], unpack(expired))
  redis.call('HDEL', KEYS[4], unpack(expired))
end

-- 2. Waiters (in the pool or the line) who stopped polling leave.
local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - waiter_ms, 'LIMIT', 0, SWEEP_LIMIT)
if #stale > 0 then
  redis.call('ZREM', KEYS[2], unpack(stale))
  redis.call('ZREM', KEYS[7], unpack(stale))
  redis.call('ZREM', KEYS[3], unpack(stale))
  redis.call('HINCRBY', KEYS[5], 'dropped', #stale)
end

-- 3. Lazy admission from the head of the line (the pool in draw order, then FIFO): rate x
-- elapsed credit, spent only on free slots, never before the opening.
local active = redis.call('ZCARD', KEYS[1])
local active_before = active
local pool = redis.call('ZCARD', KEYS[7])
local fifo = redis.call('ZCARD', KEYS[2])
local admitted = 0
local last = tonumber(redis.call('HGET', KEYS[5], 'admit_ms'))
-- Admits up to `count` from the head of KEYS[k] (7: the pool, 2: the FIFO line).
local function admit(k, count)
  if count <= 0 then
    return 0
  end
  local heads = redis.call('ZRANGE', KEYS[k], 0, count - 1)
  if #heads == 0 then
    return 0
  end
  for _, id in ipairs(heads) do
    redis.call('ZADD', KEYS[1], now + slot_ms, id)
    redis.call('HSET', KEYS[4], id, now)
  end
  redis.call('ZREM', KEYS[k], unpack(heads))
  redis.call('ZREM', KEYS[3], unpack(heads))
  return #heads
end
if pool + fifo == 0 or before_open or not last or last > now then
  -- Nobody to admit (or not yet): no credit is banked for later.
  redis.call('HSET', KEYS[5], 'admit_ms', now)
else
  -- Credit never counts time before the opening.
  local from = math.max(last, opens_ms)
  local credit = math.floor((now - from) * rate / 1000)
  local n = math.min(credit, threshold - active, pool + fifo, ADMIT_LIMIT)
  if n > 0 then
    local from_pool = admit(7, math.min(n, pool))
    local from_fifo = admit(2, n - from_pool)
    admitted = from_pool + from_fifo
    pool = pool - from_pool
    fifo = fifo - from_fifo
    active = active + admitted
  end
  if admitted == credit or admitted == ADMIT_LIMIT then
    -- Spend exactly the credit used; the fraction of a user carries over.
    redis.call('HSET', KEYS[5], 'admit_ms', from + math.floor(admitted * 1000 / rate))
  else
    -- Credit left unused (no free slot, or the line ran out) is not banked.
    redis.call('HSET', KEYS[5], 'admit_ms', now)
  end
end

-- 4. This user.
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[5], 'info', ARGV[9])
end
local outcome = 0
local position = 0
local expires = 0
local in_pool = 0
local score = user ~= '' and redis.call('ZSCORE', KEYS[1], user)
if score then
  -- Active: activity renews the slot, never past the maximum lifetime from admission.
  local since = tonumber(redis.call('HGET', KEYS[4], user))
  if not since then
    since = now
    redis.call('HSET', KEYS[4], user, now)
  end
  expires = math.max(tonumber(score), math.min(now + slot_ms, since + max_ms))
  redis.call('ZADD', KEYS[1], expires, user)
  outcome = 1
elseif user ~= '' and redis.call('ZSCORE', KEYS[2], user) then
  redis.call('ZADD', KEYS[3], now, user)
  outcome = 2
elseif user ~= '' and redis.call('ZSCORE', KEYS[7], user) then
  redis.call('ZADD', KEYS[3], now, user)
  in_pool = 1
  outcome = before_open and 3 or 2
elseif user ~= '' and join then
  redis.call('HINCRBY', KEYS[5], 'joined', 1)
  local seed = redis.call('HGET', KEYS[8], 'seed')
  -- The pool takes a pre-sale joiner only while nobody is in the FIFO line: it never grows in
  -- front of someone already queued, so FIFO positions only move forward. The draw must come
  -- from the stored seed (the one whose hash is published).
  if before_open and ARGV[14] ~= '' and seed and seed == ARGV[13] and fifo == 0
      and pool < pool_cap then
    redis.call('ZADD', KEYS[7], ARGV[14], user)
    redis.call('ZADD', KEYS[3], now, user)
    pool = pool + 1
    in_pool = 1
    outcome = 3
  elseif pool + fifo == 0 and active < threshold and not before_open then
    -- Nobody ahead and a slot free: in at once.
    expires = now + slot_ms
    redis.call('ZADD', KEYS[1], expires, user)
    redis.call('HSET', KEYS[4], user, now)
    admitted = admitted + 1
    active = active + 1
    outcome = 1
  else
    local seq = redis.call('HINCRBY', KEYS[5], 'seq', 1)
    redis.call('ZADD', KEYS[2], seq, user)
    redis.call('ZADD', KEYS[3], now, user)
    fifo = fifo + 1
    outcome = 2
  end
end
if outcome == 2 then
  -- The pool goes first: a FIFO user stands behind all of it.
  if in_pool == 1 then
    position = redis.call('ZRANK', KEYS[7], user) + 1
  else
    position = pool + redis.call('ZRANK', KEYS[2], user) + 1
  end
end

-- 5. Bookkeeping: counters and the measured admission rate (users/s x 1000).
if admitted > 0 then
  redis.call('HINCRBY', KEYS[5], 'admitted', admitted)
end
local rate_from = tonumber(redis.call('HGET', KEYS[5], 'rate_from_ms'))
local counted = redis.call('HINCRBY', KEYS[5], 'rate_count', admitted)
if not rate_from or rate_from > now then
  redis.call('HSET', KEYS[5], 'rate_from_ms', now, 'rate_count', admitted)
elseif now - rate_from >= RATE_WINDOW_MS then
  local measured = math.floor(counted * 1000000 / (now - rate_from))
  redis.call('HSET', KEYS[5], 'rate_milli', measured, 'rate_from_ms', now, 'rate_count', 0)
end
local rate_milli = tonumber(redis.call('HGET', KEYS[5], 'rate_milli')) or 0

-- 6. Every key expires with the event's activity (the threshold, configuration, does not).
for i = 1, 8 do
  if i ~= 6 then
    redis.call('PEXPIRE', KEYS[i], ttl_ms)
  end
end

-- 7. Post-condition: this step never admits past the threshold (a threshold lowered below the
-- current count is honoured by admitting nobody until slots end), and nobody before the opening.
local final_active = redis.call('ZCARD', KEYS[1])
if final_active > math.max(threshold, active_before) or final_active ~= active
    or (before_open and admitted > 0) then
  return redis.error_reply('ERR queue invariant broken: ' .. final_active .. ' active, threshold '
    .. threshold .. ', counted ' .. active .. ', admitted ' .. admitted)
end
return {outcome, position, active, pool + fifo, threshold, expires, now, rate_milli,
  redis.call('HGET', KEYS[5], 'info'), redis.call('HGET', KEYS[8], 'seed'), opens_ms, pool, in_pool}
