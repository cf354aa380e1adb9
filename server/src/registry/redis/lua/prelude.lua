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
-- Everything about a room but its roster.
local function forget_room(room)
  redis.call('DEL', room_password(room), room_host(room), room_locked(room), room_removed(room),
    room_identities(room))
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
