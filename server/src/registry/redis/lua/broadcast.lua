-- Delivers a message to everyone else in the sender's room.
-- ARGV: prefix, room, from, message JSON.
if redis.call('HEXISTS', room_peers(ARGV[2]), ARGV[3]) == 0 then return 'not_joined' end
deliver(ARGV[2], ARGV[3], ARGV[4])
return 'ok'
