-- wrk script: POSTs one JSON-RPC tools/call body over and over and checks every answer.
-- Arguments (after `--`): <body file> [bearer token] [host header].
-- A response counts as "ok" only if it is HTTP 200 with a JSON-RPC result that is not an isError result;
-- wrk's own "Non-2xx" count covers status codes, this covers what the body says.
-- Soak mode: a body containing the placeholder REQ_ID gets a fresh id per request (unique idempotency keys).
-- done() prints one line `WRK_JSON {...}` with throughput, latency percentiles (µs) and the ok/bad counts.
local threads = {}
local body_template, unique, counter, prefix

function setup(thread)
  thread:set("thread_no", #threads)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "rb"))
  body_template = f:read("*a")
  f:close()
  unique = body_template:find("REQ_ID", 1, true) ~= nil
  counter = 0
  prefix = string.format("soak-%d-%d-", os.time(), thread_no or 0)
  wrk.method = "POST"
  wrk.body = body_template
  wrk.headers["Content-Type"] = "application/json"
  -- Without text/event-stream in Accept the SDK answers 406.
  wrk.headers["Accept"] = "application/json, text/event-stream"
  if args[2] and args[2] ~= "" then wrk.headers["Authorization"] = "Bearer " .. args[2] end
  if args[3] and args[3] ~= "" then wrk.headers["Host"] = args[3] end
  ok, bad, first_bad = 0, 0, ""
end

function request()
  if not unique then return wrk.format() end
  counter = counter + 1
  return wrk.format(nil, nil, nil, (body_template:gsub("REQ_ID", prefix .. counter)))
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
