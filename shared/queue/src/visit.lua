-- The waiting room's one atomic step for a user at one event: join, status and heartbeat.
--
-- KEYS[1]  active     ZSET user id -> slot expiry (epoch ms)
-- KEYS[2]  waiting    ZSET user id -> arrival sequence (from the `seq` field of KEYS[5])
-- KEYS[3]  seen       ZSET user id -> last seen (epoch ms), waiting users only
-- KEYS[4]  slots      HASH user id -> admitted at (epoch ms): caps a slot's total lifetime
-- KEYS[5]  state      HASH seq, admit_ms, rate_from_ms, rate_count, rate_milli,
--                          joined, admitted, left, dropped, info
-- KEYS[6]  threshold  STRING max active users (admin-set; missing: ARGV[3])
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
-- Returns  {outcome, position, active, waiting, threshold, expires_at_ms, now_ms, rate_milli, info}
--          outcome 1 = active (expires_at_ms is the slot's end), 2 = waiting (position is
--          1-based), 0 = not in the queue; info is the stored event info or nil.
--
-- Order: end expired slots, drop stale waiters, admit lazily from the head of the waiting set
-- (at most min(free slots, rate x elapsed)), then this user. Only keys in KEYS are touched.
local SWEEP_LIMIT = 1000 -- expired slots / stale waiters removed per call (bounds the work)
local ADMIT_LIMIT = 1000 -- waiters admitted per call (bounds the work; credit is kept)
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

-- 1. Slots past their expiry end (a score equal to now is over).
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, SWEEP_LIMIT)
if #expired > 0 then
  redis.call('ZREM', KEYS[1], unpack(expired))
  redis.call('HDEL', KEYS[4], unpack(expired))
end

-- 2. Waiters who stopped polling leave the line.
local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - waiter_ms, 'LIMIT', 0, SWEEP_LIMIT)
if #stale > 0 then
  redis.call('ZREM', KEYS[2], unpack(stale))
  redis.call('ZREM', KEYS[3], unpack(stale))
  redis.call('HINCRBY', KEYS[5], 'dropped', #stale)
end

-- 3. Lazy admission from the head of the line: rate x elapsed credit, spent only on free slots.
local active = redis.call('ZCARD', KEYS[1])
local active_before = active
local waiting = redis.call('ZCARD', KEYS[2])
local admitted = 0
local last = tonumber(redis.call('HGET', KEYS[5], 'admit_ms'))
if waiting == 0 or not last or last > now then
  -- Nobody to admit: no credit is banked for later.
  redis.call('HSET', KEYS[5], 'admit_ms', now)
else
  local credit = math.floor((now - last) * rate / 1000)
  local n = math.min(credit, threshold - active, waiting, ADMIT_LIMIT)
  if n > 0 then
    local heads = redis.call('ZRANGE', KEYS[2], 0, n - 1)
    for _, id in ipairs(heads) do
      redis.call('ZADD', KEYS[1], now + slot_ms, id)
      redis.call('HSET', KEYS[4], id, now)
    end
    redis.call('ZREM', KEYS[2], unpack(heads))
    redis.call('ZREM', KEYS[3], unpack(heads))
    admitted = #heads
    active = active + admitted
    waiting = waiting - admitted
  end
  if admitted == credit or admitted == ADMIT_LIMIT then
    -- Spend exactly the credit used; the fraction of a user carries over.
    redis.call('HSET', KEYS[5], 'admit_ms', last + math.floor(admitted * 1000 / rate))
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
elseif user ~= '' and join then
  redis.call('HINCRBY', KEYS[5], 'joined', 1)
  if waiting == 0 and active < threshold then
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
    waiting = waiting + 1
    outcome = 2
  end
end
if outcome == 2 then
  position = redis.call('ZRANK', KEYS[2], user) + 1
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

-- 6. Every key expires with the event's activity.
for i = 1, 5 do
  redis.call('PEXPIRE', KEYS[i], ttl_ms)
end

-- 7. Post-condition: this step never admits past the threshold (a threshold lowered below the
-- current count is honoured by admitting nobody until slots end).
local final_active = redis.call('ZCARD', KEYS[1])
if final_active > math.max(threshold, active_before) or final_active ~= active then
  return redis.error_reply('ERR queue invariant broken: ' .. final_active .. ' active, threshold '
    .. threshold .. ', counted ' .. active)
end
return {outcome, position, active, waiting, threshold, expires, now, rate_milli,
  redis.call('HGET', KEYS[5], 'info')}
