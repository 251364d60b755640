-- Alerta's POST /alert with the same de-duplication mix as events.lua.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local flip = {}
request = function()
  local body
  if math.random() < 0.8 then
    body = string.format('{"resource":"r%d","event":"ffmpeg","environment":"Production","severity":"major","service":["cams"]}', math.random(0, 999))
  else
    local n = math.random(0, 199)
    flip[n] = not flip[n]
    local severity = flip[n] and "critical" or "normal"
    body = string.format('{"resource":"t%d","event":"monitor","environment":"Production","severity":"%s","service":["cams"]}', n, severity)
  end
  return wrk.format(nil, "/alert", nil, body)
end
