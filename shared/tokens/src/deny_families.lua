-- Deny-lists revoked refresh families: access tokens carrying one of these family ids are refused
-- until they would have expired anyway.
--
-- KEYS[1..n]  deny keys of one user (`<prefix>:auth:{u:<user>}:deny:fid:<family>`: one slot)
-- ARGV[1]     TTL in seconds (the access-token lifetime plus leeway)
-- Returns     the number of keys written
--
-- One script so a logout of every session deny-lists all of them or none.
for _, key in ipairs(KEYS) do
  redis.call('SET', key, '1', 'EX', ARGV[1])
end
return #KEYS
