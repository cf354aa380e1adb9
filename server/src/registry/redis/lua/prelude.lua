-- Prepended to every script (scripts.rs): key names and delivery helpers.
-- The MAXLEN in `post` is filled in from the Rust constant of that name (scripts.rs).
-- ARGV[1] of every script is the key prefix.
local p = ARGV[1]
local function room_peers(room) return p .. ':room:' .. room .. ':peers' end
local function room_password(room) return p .. ':room:' .. room .. ':password' end
local function room_host(room) return p .. ':room:' .. room .. ':host' end
local function room_locked(room) return p .. ':room:' .. room .. ':locked' end
local function room_removed(room) return p .. ':room:' .. room .. ':removed' end
local function room_identities(room) return p .. ':room:' .. room .. ':identities' end
-- Hash: mode ('mesh'/'sfu'), epoch, small_since (ms, while an SFU room is small enough to
-- return), and the rule the room was created with (mesh_max, delay in ms).
local function room_topology(room) return p .. ':room:' .. room .. ':topology' end
-- Hash: the SFU placement of the room's current epoch (epoch, id of the Janus room, json).
local function room_sfu(room) return p .. ':room:' .. room .. ':sfu' end
-- String: the room's LiveInfo JSON while it is live.
local function room_live(room) return p .. ':room:' .. room .. ':live' end
-- String: '1' when the room is end-to-end encrypted (set when it opens, never changed).
local function room_e2ee(room) return p .. ':room:' .. room .. ':e2ee' end
-- Everything about a room but its roster.
local function forget_room(room)
  redis.call('DEL', room_password(room), room_host(room), room_locked(room), room_removed(room),
    room_identities(room), room_topology(room), room_sfu(room), room_live(room),
    room_e2ee(room))
  redis.call('SREM', p .. ':rooms', room)
end
local function instance_key(id) return p .. ':instance:' .. id end
local function instance_peers(id) return p .. ':instance:' .. id .. ':peers' end
local function inbox(id) return p .. ':instance:' .. id .. ':inbox' end
local function owner_of(record) return string.match(record, '^(%S+)') end
local function post(id, targets, msg)
  redis.call('XADD', inbox(id), 'MAXLEN', '~', INBOX_MAX_ENTRIES, '*', 'm', targets .. '\n' .. msg)
end
-- msg to everyone in the room but `except`: one inbox entry per relay.
local function deliver(room, except, msg)
  local all = redis.call('HGETALL', room_peers(room))
  local targets, order = {}, {}
  for i = 1, #all, 2 do
    if all[i] ~= except then
      local id = owner_of(all[i + 1])
      if targets[id] == nil then
        targets[id] = {}
        order[#order + 1] = id
      end
      table.insert(targets[id], all[i])
    end
  end
  for _, id in ipairs(order) do post(id, table.concat(targets[id], ','), msg) end
end
local function host_changed(room, host)
  deliver(room, '', cjson.encode({type = 'host_changed', peer_id = host}))
end
-- Compares every byte whatever the first difference, like the in-memory registry.
local function same(a, b)
  if #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do diff = bit.bor(diff, bit.bxor(string.byte(a, i), string.byte(b, i))) end
  return diff == 0
end
-- Redis's clock in milliseconds, moved by `offset` ms (the relay's `now` minus its present).
local function now_ms(offset)
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + (tonumber(offset) or 0)
end
-- The room's mode and epoch.
local function topology_of(room)
  local mode, epoch = unpack(redis.call('HMGET', room_topology(room), 'mode', 'epoch'))
  return mode or 'mesh', tonumber(epoch) or 0
end
-- RoomTopology::on_count (topology.rs) for a room of `count` people at `now`: the mode the
-- room must switch to, or nil. Only the wait to return is recorded here; `switch` switches.
-- A live room counts as too large for the mesh (memory.rs's `count_for_rule`).
local function wanted_mode(room, count, now, mesh_max, delay)
  local key = room_topology(room)
  local mode = topology_of(room)
  if count > mesh_max or redis.call('EXISTS', room_live(room)) == 1 then
    if mode == 'mesh' then return 'sfu' end
    redis.call('HDEL', key, 'small_since')
    return nil
  end
  if mode == 'mesh' then return nil end
  local since = tonumber(redis.call('HGET', key, 'small_since'))
  if not since then
    since = now
    redis.call('HSET', key, 'small_since', since)
  end
  if now - since >= delay then return 'mesh' end
  return nil
end
-- Switches the room to `mode` with the next epoch and tells everyone in it; a mesh forgets
-- its SFU placement. Returns the new epoch.
local function switch(room, mode)
  local key = room_topology(room)
  local epoch = redis.call('HINCRBY', key, 'epoch', 1)
  redis.call('HSET', key, 'mode', mode)
  redis.call('HDEL', key, 'small_since')
  if mode == 'mesh' then redis.call('DEL', room_sfu(room)) end
  deliver(room, '', cjson.encode({type = 'topology_changed',
    topology = {mode = mode, epoch = epoch}}))
  return epoch
end
-- The room has one participant fewer: with the rule it was created with, an SFU room starts
-- its wait to return to the mesh (or returns at once without a delay).
local function shrank(room)
  local key = room_topology(room)
  local mesh_max, delay = unpack(redis.call('HMGET', key, 'mesh_max', 'delay'))
  if not mesh_max then return end
  local count = redis.call('HLEN', room_peers(room))
  local mode = wanted_mode(room, count, now_ms(0), tonumber(mesh_max), tonumber(delay))
  if mode then switch(room, mode) end
end
