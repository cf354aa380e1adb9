-- A live that follows the speaker puts `speaker` alone on its stage (the same rules as
-- memory.rs's follow_speaker).
-- ARGV: prefix, room, the live's watch token, speaker, the new LiveInfo JSON, the
-- live_changed message. Returns ok, or unchanged (not live with that token following the
-- speaker, the speaker not in the room, or on the stage already).
local room, token, speaker, live_json, changed = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local current = redis.call('GET', room_live(room))
if not current then return 'unchanged' end
local ok, live = pcall(cjson.decode, current)
if not ok or type(live) ~= 'table' or live.follow_speaker ~= true
  or type(live.watch_token) ~= 'string' or not same(live.watch_token, token) then
  return 'unchanged'
end
if redis.call('HEXISTS', room_peers(room), speaker) == 0 then return 'unchanged' end
if type(live.stage) == 'table' and #live.stage == 1 and live.stage[1] == speaker then
  return 'unchanged'
end
redis.call('SET', room_live(room), live_json)
deliver(room, '', changed)
return 'ok'
