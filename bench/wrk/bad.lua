-- A misbehaving sender for POST /api/v1/events, in turn: an unknown category on a new key, a
-- default dedup key longer than the columns hold, a timestamp far in the future.
local key = os.getenv("VIGIL_BENCH_KEY")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
local n = 0
request = function()
  n = n + 1
  local body
  if n % 3 == 0 then
    body = string.format('{"resource":"bad%d","status":"stuck","category":"NO_SUCH_CATEGORY"}', n)
  elseif n % 3 == 1 then
    body = string.format('{"resource":"late%d","status":"stuck","timestamp":"2999-01-01T00:00:00Z"}', n)
  else
    body = string.format('{"resource":"%s%d","component":"%s","status":"stuck"}',
      string.rep("r", 199), n % 10, string.rep("c", 199))
  end
  return wrk.format(nil, "/api/v1/events", nil, body)
end
