-- wrk script: POSTs one JSON-RPC tools/call body over and over and checks every answer.
-- Arguments (after `--`): <body file> [bearer token] [host header]. The body file holds one JSON-RPC body per line;
-- several lines are sent round-robin (a mix of tools).
-- A response counts as "ok" only if it is HTTP 200 with a JSON-RPC result that is not an isError result;
-- wrk's own "Non-2xx" count covers status codes, this covers what the body says.
-- A body containing the placeholder REQ_ID gets a fresh id per request (unique idempotency keys).
-- done() prints one line `WRK_JSON {...}` with throughput, latency percentiles (µs) and the ok/bad counts.
local threads = {}
local bodies, counter, prefix, cached

function setup(thread)
  thread:set("thread_no", #threads)
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  for line in io.lines(args[1]) do
    if line ~= "" then table.insert(bodies, line) end
  end
  assert(#bodies > 0, "empty body file")
  counter = 0
  prefix = string.format("soak-%d-%d-", os.time(), thread_no or 0)
  wrk.method = "POST"
  wrk.body = bodies[1]
  wrk.headers["Content-Type"] = "application/json"
  -- Without text/event-stream in Accept the SDK answers 406.
  wrk.headers["Accept"] = "application/json, text/event-stream"
  if args[2] and args[2] ~= "" then wrk.headers["Authorization"] = "Bearer " .. args[2] end
  if args[3] and args[3] ~= "" then wrk.headers["Host"] = args[3] end
  ok, bad, first_bad = 0, 0, ""
end

function request()
  if #bodies == 1 and not bodies[1]:find("REQ_ID", 1, true) then
    cached = cached or wrk.format()
    return cached
  end
  counter = counter + 1
  local body = bodies[(counter - 1) % #bodies + 1]
  if body:find("REQ_ID", 1, true) then body = body:gsub("REQ_ID", prefix .. counter) end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 200 and body:find('"result"', 1, true) and not body:find('"isError":true', 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
    if first_bad == "" then first_bad = status .. " " .. body:sub(1, 300) end
  end
end

local function esc(s)
  return (s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end))
end

function done(summary, latency, requests)
  local okTotal, badTotal, firstBad = 0, 0, ""
  for _, t in ipairs(threads) do
    okTotal = okTotal + t:get("ok")
    badTotal = badTotal + t:get("bad")
    if firstBad == "" then firstBad = t:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"ok":%d,"bad":%d,"first_bad":"%s",' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, okTotal, badTotal, esc(firstBad),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
