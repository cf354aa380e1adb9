-- Refreshes this relay's heartbeat key, if it still has one.
-- ARGV: prefix, relay, ttl ms, value. Returns 0 if the relay is not registered.
if not redis.call('SET', instance_key(ARGV[2]), ARGV[4], 'XX', 'PX', ARGV[3]) then return 0 end
redis.call('SADD', p .. ':instances', ARGV[2])
return 1
