-- Admits a participant to a room, or refuses it. The same admission rules, in the same
-- order, are in memory.rs's `join`; server/tests/registry_suite.rs holds the two equal.
-- ARGV: prefix, room, peer, relay, password ('' = none), max participants, max rooms,
-- record JSON, peer_joined JSON, vouched ('1': no password is checked or set), identity
-- ('' = none), then the topology policy: mesh max ('' = none: the room stays as it is),
-- return delay (ms), whether a media server is reachable ('1'/'0'), the offset (ms) of the
-- relay's time of the join from now, whether a room it opens is end-to-end encrypted
-- ('1'/'0'). Returns {'ok', host, mode, epoch, live JSON ('' when not live), e2ee ('1'/'0'),
-- records of the others…} or {refusal}.
local room, peer, me, password = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local vouched, identity = ARGV[10] == '1', ARGV[11]
local mesh_max, delay = tonumber(ARGV[12]), tonumber(ARGV[13])
if redis.call('EXISTS', instance_key(me)) == 0 then return {'unregistered'} end
local peers = room_peers(room)
local count = redis.call('HLEN', peers)
if count > 0 then
  local expected = redis.call('GET', room_password(room))
  if expected and not vouched and not same(expected, password) then return {'wrong_password'} end
  if identity ~= '' and redis.call('SISMEMBER', room_removed(room), identity) == 1 then
    return {'removed'}
  end
  if redis.call('EXISTS', room_locked(room)) == 1 then return {'room_locked'} end
  if count >= tonumber(ARGV[6]) then return {'room_full'} end
else
  if redis.call('SCARD', p .. ':rooms') >= tonumber(ARGV[7])
     and redis.call('SISMEMBER', p .. ':rooms', room) == 0 then
    return {'too_many_rooms'}
  end
  forget_room(room)
  if password ~= '' and not vouched then redis.call('SET', room_password(room), password) end
  redis.call('SET', room_host(room), peer)
  if ARGV[16] == '1' then redis.call('SET', room_e2ee(room), '1') end
  redis.call('SADD', p .. ':rooms', room)
  if mesh_max then redis.call('HSET', room_topology(room), 'mesh_max', mesh_max, 'delay', delay) end
end
-- The newcomer may be the one too many for a mesh: without a media server to take the room,
-- it is refused and the room stays as it is.
if mesh_max then
  local mode = wanted_mode(room, count + 1, now_ms(ARGV[15]), mesh_max, delay)
  if mode == 'sfu' and ARGV[14] ~= '1' then
    if count == 0 then forget_room(room) end
    return {'sfu_unavailable'}
  end
  -- Those already in the room learn it first; the newcomer reads it in its welcome.
  if mode then switch(room, mode) end
end
local roster = redis.call('HVALS', peers)
deliver(room, peer, ARGV[9])
local seq = redis.call('INCR', p .. ':seq')
redis.call('HSET', peers, peer, me .. ' ' .. seq .. ' ' .. ARGV[8])
redis.call('HSET', instance_peers(me), peer, room)
if identity ~= '' then redis.call('HSET', room_identities(room), peer, identity) end
local mode, epoch = topology_of(room)
table.insert(roster, 1, redis.call('GET', room_e2ee(room)) or '0')
table.insert(roster, 1, redis.call('GET', room_live(room)) or '')
table.insert(roster, 1, tostring(epoch))
table.insert(roster, 1, mode)
table.insert(roster, 1, redis.call('GET', room_host(room)) or '')
table.insert(roster, 1, 'ok')
return roster
