-- Registers this relay (again): sets its heartbeat key.
-- ARGV: prefix, relay, ttl ms, value.
redis.call('SET', instance_key(ARGV[2]), ARGV[4], 'PX', ARGV[3])
redis.call('SADD', p .. ':instances', ARGV[2])
return 1
