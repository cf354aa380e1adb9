-- Changes a participant's record and tells the others.
-- ARGV: prefix, room, peer, new PeerInfo JSON, peer_updated JSON. Returns 1 if updated.
local peers = room_peers(ARGV[2])
local record = redis.call('HGET', peers, ARGV[3])
if not record then return 0 end
local owner, seq = string.match(record, '^(%S+) (%S+) ')
redis.call('HSET', peers, ARGV[3], owner .. ' ' .. seq .. ' ' .. ARGV[4])
deliver(ARGV[2], ARGV[3], ARGV[5])
return 1
