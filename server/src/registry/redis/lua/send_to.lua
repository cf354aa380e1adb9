-- Delivers a message to one other participant of the sender's room.
-- ARGV: prefix, room, from, to, message JSON.
local peers = room_peers(ARGV[2])
if redis.call('HEXISTS', peers, ARGV[3]) == 0 then return 'not_joined' end
if ARGV[4] == ARGV[3] then return 'unknown_peer' end
local record = redis.call('HGET', peers, ARGV[4])
if not record then return 'unknown_peer' end
post(owner_of(record), ARGV[4], ARGV[5])
return 'ok'
