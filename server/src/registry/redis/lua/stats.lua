-- Counts rooms and participants across all relays.
-- ARGV: prefix. Returns {rooms, peers}.
local rooms = redis.call('SMEMBERS', p .. ':rooms')
local peers = 0
for _, room in ipairs(rooms) do peers = peers + redis.call('HLEN', room_peers(room)) end
return {#rooms, peers}
