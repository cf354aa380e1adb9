-- A host action: lock, remove, ask to mute, hand over, end the meeting, go live or stop, or
-- only the check that the actor is the host (ingest: the relay keeps the device it admits).
-- ARGV: prefix, room, acting peer, action (lock, remove, mute, hand_over, end, live, ingest), target
-- ('1'/'0' for lock, a peer id, or ''; for live: the LiveInfo JSON, '' to stop), and for
-- live: the live_changed message, then the stage's peer ids, one per argument. Returns ok,
-- not_joined, not_host or unknown_peer (for live: 'unknown_peer <id>').
local room, actor, action, target = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local peers = room_peers(room)
if redis.call('HEXISTS', peers, actor) == 0 then return 'not_joined' end
if redis.call('GET', room_host(room)) ~= actor then return 'not_host' end
if action == 'ingest' then return 'ok' end
if action == 'lock' then
  if target == '1' then redis.call('SET', room_locked(room), '1')
  else redis.call('DEL', room_locked(room)) end
  deliver(room, '', cjson.encode({type = 'lock_changed', locked = target == '1'}))
  return 'ok'
end
if action == 'end' then
  deliver(room, '', '{"type":"meeting_ended"}')
  local all = redis.call('HGETALL', peers)
  for i = 1, #all, 2 do redis.call('HDEL', instance_peers(owner_of(all[i + 1])), all[i]) end
  redis.call('DEL', peers)
  forget_room(room)
  return 'ok'
end
if action == 'live' then
  -- The same rules as memory.rs's HostAction::Live.
  for i = 7, #ARGV do
    if redis.call('HEXISTS', peers, ARGV[i]) == 0 then return 'unknown_peer ' .. ARGV[i] end
  end
  if target == '' then
    redis.call('DEL', room_live(room))
  else
    redis.call('SET', room_live(room), target)
    local mesh_max = redis.call('HGET', room_topology(room), 'mesh_max')
    if mesh_max and topology_of(room) == 'mesh' then switch(room, 'sfu') end
  end
  deliver(room, '', ARGV[6])
  return 'ok'
end
if target == actor then return 'unknown_peer' end
local record = redis.call('HGET', peers, target)
if not record then return 'unknown_peer' end
local owner = owner_of(record)
if action == 'mute' then
  post(owner, target, cjson.encode({type = 'mute_requested', by = actor}))
elseif action == 'hand_over' then
  redis.call('SET', room_host(room), target)
  host_changed(room, target)
elseif action == 'remove' then
  redis.call('HDEL', peers, target)
  redis.call('HDEL', instance_peers(owner), target)
  local identity = redis.call('HGET', room_identities(room), target)
  if identity then
    redis.call('SADD', room_removed(room), identity)
    redis.call('HDEL', room_identities(room), target)
  end
  post(owner, target, '{"type":"removed"}')
  deliver(room, '', cjson.encode({type = 'peer_left', peer_id = target, reason = 'removed'}))
  shrank(room)
else
  return 'unknown_action'
end
return 'ok'
