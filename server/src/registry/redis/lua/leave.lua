-- Removes a participant; the earliest joiner left becomes host (a person before an encoder:
-- identities starting 'ingest:', registry::ENCODER_IDENTITY_PREFIX).
-- ARGV: prefix, room, peer, peer_left JSON, dead relay ('' = a normal leave). Returns 1 if
-- the peer was removed.
local room, peer, dead = ARGV[2], ARGV[3], ARGV[5]
if dead ~= '' and redis.call('EXISTS', instance_key(dead)) == 1 then return 0 end
local peers = room_peers(room)
local record = redis.call('HGET', peers, peer)
local owner = record and owner_of(record)
if not record or (dead ~= '' and owner ~= dead) then
  if dead ~= '' then redis.call('HDEL', instance_peers(dead), peer) end
  return 0
end
redis.call('HDEL', peers, peer)
redis.call('HDEL', instance_peers(owner), peer)
redis.call('HDEL', room_identities(room), peer)
if redis.call('HLEN', peers) == 0 then
  forget_room(room)
  return 1
end
deliver(room, peer, ARGV[4])
shrank(room)
if redis.call('GET', room_host(room)) == peer then
  -- The earliest joiner left becomes host.
  local all = redis.call('HGETALL', peers)
  local identities = room_identities(room)
  local next_host, lowest, next_is_encoder = nil, nil, true
  for i = 1, #all, 2 do
    local seq = tonumber(string.match(all[i + 1], '^%S+ (%d+) '))
    local identity = redis.call('HGET', identities, all[i]) or ''
    local encoder = string.sub(identity, 1, 7) == 'ingest:'
    local better = lowest == nil or (next_is_encoder and not encoder)
      or (encoder == next_is_encoder and seq < lowest)
    if seq and better then next_host, lowest, next_is_encoder = all[i], seq, encoder end
  end
  if next_host then
    redis.call('SET', room_host(room), next_host)
    host_changed(room, next_host)
  end
end
return 1
