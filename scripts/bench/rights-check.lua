-- wrk script for POST /v1/rights/check: random recordings from ids.txt (one id per line), a
-- random territory, 1 to 4 inputs (remix for one, mashup for more) in the mix given by INPUTS
-- (e.g. INPUTS=1 or INPUTS=1,2,3,4). DELAY_MS pauses each connection between requests, to
-- offer a steady rate instead of saturating the server (connections / (latency + delay)). Prints percentiles and every error count, non-2xx
-- included, so failures cannot pass for speed.
local ids = {}
local inputs = {}
local territories = {"US", "GB", "DE", "FR", "JP", "BR", "CA", "AU", "SE", "NL", "MX", "KR", "WW"}

function init(args)
  for line in io.lines(os.getenv("IDS") or "ids.txt") do ids[#ids + 1] = line end
  for n in string.gmatch(os.getenv("INPUTS") or "1", "%d+") do inputs[#inputs + 1] = tonumber(n) end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")
end

local pause = tonumber(os.getenv("DELAY_MS") or "")
if pause then
  function delay() return pause end
end

function request()
  local n = inputs[math.random(#inputs)]
  local picked = {}
  for i = 1, n do picked[i] = '"' .. ids[math.random(#ids)] .. '"' end
  local use = n == 1 and "remix" or "mashup"
  local body = '{"use":"' .. use .. '","recordings":[' .. table.concat(picked, ",") ..
    '],"territory":"' .. territories[math.random(#territories)] .. '"}'
  return wrk.format(nil, "/v1/rights/check", nil, body)
end

function done(summary, latency, requests)
  io.write(string.format("p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000))
  io.write(string.format("errors: connect %d, read %d, write %d, timeout %d, non-2xx %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.errors.status))
end
