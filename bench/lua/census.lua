-- wrk script for the Census read cases (benchmark tool, not part of syncrun).
--   wrk … -s census.lua -- TOKEN list PER_PAGE NCONN   random connection 1..NCONN, page 1
--   wrk … -s census.lua -- TOKEN run MAXID             random run id 1..MAXID
--   wrk … -s census.lua -- TOKEN fixed PATH            one path
-- Random ids are seeded per thread, so every contender gets the same sequence.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local mode, a, b, path
function init(args)
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  mode, a, b = args[2], args[3], args[4]
  if mode == "fixed" then path = a end
  math.randomseed(20241123 + (tid or 0))
end

function request()
  if mode == "list" then
    return wrk.format("GET", "/api/v1/syncs/" .. math.random(1, tonumber(b)) .. "/sync_runs?page=1&per_page=" .. a)
  elseif mode == "run" then
    return wrk.format("GET", "/api/v1/sync_runs/" .. math.random(1, tonumber(a)))
  end
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
