-- Batch load: 1,000 events per request, same mix as events.lua.
local key = os.getenv("VIGIL_BENCH_KEY")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
request = function()
  local parts = {}
  for i = 1, 1000 do
    if math.random() < 0.8 then
      parts[i] = string.format('{"resource":"r%d","component":"ffmpeg","status":"stuck"}', math.random(0, 999))
    else
      local status = (math.random() < 0.5) and "stopped" or "active"
      parts[i] = string.format('{"resource":"t%d","component":"monitor","status":"%s"}', math.random(0, 199), status)
    end
  end
  return wrk.format(nil, "/api/v1/events", nil, "[" .. table.concat(parts, ",") .. "]")
end
