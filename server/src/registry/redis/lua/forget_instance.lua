-- Forgets a stopped relay once its peers are gone.
-- ARGV: prefix, relay. Forgets a dead relay that has no peers left.
if redis.call('EXISTS', instance_key(ARGV[2])) == 1 then return 0 end
if redis.call('HLEN', instance_peers(ARGV[2])) > 0 then return 0 end
redis.call('DEL', inbox(ARGV[2]))
redis.call('SREM', p .. ':instances', ARGV[2])
return 1
