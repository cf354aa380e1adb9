-- Returns SFU rooms to the mesh: after the delay when a media server is reachable (never a
-- live room), at once when none is and the mesh can hold them; and moves live rooms that
-- fell back to the mesh meanwhile to the SFU again once one is (settle_topology in
-- memory.rs).
-- ARGV: prefix, mesh max, return delay (ms), whether a media server is reachable ('1'/'0'),
-- the offset (ms) of the relay's time from now. Returns the number of rooms switched.
local mesh_max, delay, reachable = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1'
local now = now_ms(ARGV[5])
local switched = 0
for _, room in ipairs(redis.call('SMEMBERS', p .. ':rooms')) do
  local live = redis.call('EXISTS', room_live(room)) == 1
  if topology_of(room) == 'mesh' then
    -- A live room that fell back while no media server was reachable goes back to the SFU
    -- once one is.
    if reachable and live then
      switch(room, 'sfu')
      switched = switched + 1
    end
  else
    local count = redis.call('HLEN', room_peers(room))
    local mode
    if reachable then
      mode = wanted_mode(room, count, now, mesh_max, delay)
    elseif count <= mesh_max then
      mode = 'mesh'
    end
    if mode then
      switch(room, mode)
      switched = switched + 1
    end
  end
end
return switched
