-- Single-event load for POST /api/v1/events: ~80% repeats of an already-open failure.
-- KEY comes from the environment; resources r0..r999 were put in "stuck" before the run.
local key = os.getenv("VIGIL_BENCH_KEY")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
local flip = {}
request = function()
  local body
  if math.random() < 0.8 then
    body = string.format('{"resource":"r%d","component":"ffmpeg","status":"stuck"}', math.random(0, 999))
  else
    local n = math.random(0, 199)
    flip[n] = not flip[n]
    local status = flip[n] and "stopped" or "active"
    body = string.format('{"resource":"t%d","component":"monitor","status":"%s"}', n, status)
  end
  return wrk.format(nil, "/api/v1/events", nil, body)
end
