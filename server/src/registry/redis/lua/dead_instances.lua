-- Lists the relays that stopped sending heartbeats.
-- ARGV: prefix. Returns the relays whose heartbeat key is gone.
local dead = {}
for _, id in ipairs(redis.call('SMEMBERS', p .. ':instances')) do
  if redis.call('EXISTS', instance_key(id)) == 0 then dead[#dead + 1] = id end
end
return dead
