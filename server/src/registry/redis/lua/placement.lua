-- Reads, or claims, the SFU placement of a room's epoch for a participant of the room (one
-- placement holds per epoch; only the one being replaced can be overwritten).
-- ARGV: prefix, room, peer, epoch, then to claim: Janus room id ('' = only read), placement
-- JSON, id of the placement it replaces ('' = none). Returns {'ok', placement JSON or ''},
-- {'not_joined'} or {'wrong_topology', mode, epoch}.
local room, peer, id, replacing = ARGV[2], ARGV[3], ARGV[5], ARGV[7]
if redis.call('HEXISTS', room_peers(room), peer) == 0 then return {'not_joined'} end
local mode, epoch = topology_of(room)
if mode ~= 'sfu' or tostring(epoch) ~= ARGV[4] then
  return {'wrong_topology', mode, tostring(epoch)}
end
local key = room_sfu(room)
if id ~= '' then
  local current = redis.call('HGET', key, 'id')
  if not current or current == replacing then
    redis.call('HSET', key, 'epoch', ARGV[4], 'id', id, 'json', ARGV[6])
  end
end
return {'ok', redis.call('HGET', key, 'json') or ''}
