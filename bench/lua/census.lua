-- wrk script for the read cases (benchmark tool, not part of syncrun).
--   wrk … -s census.lua -- TOKEN list PER_PAGE NCONN [HEADER]   random connection 1..NCONN, page 1
--   wrk … -s census.lua -- TOKEN run MAXID [-] [HEADER]          random run id 1..MAXID
--   wrk … -s census.lua -- TOKEN fixed PATH [-] [HEADER]         one path
--   wrk … -s census.lua -- TOKEN uuid FILE FORMAT [HEADER]       FORMAT with its %s replaced by a
--                                                               random line of FILE (a connection UUID)
-- HEADER is "Name: value", sent with every request (e.g. "Prefer: return=representation").
-- Every request says "Host: bench", so that answers that embed the host (iTwin's links) are the
-- same bytes from every contender. Random ids are seeded per thread, so every contender gets the
-- same sequence.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local mode, a, b, path
local lines = {}
function init(args)
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  wrk.headers["Host"] = "bench"
  mode, a, b = args[2], args[3], args[4]
  if args[5] and args[5] ~= "" then
    local name, value = args[5]:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
  if mode == "fixed" then path = a end
  if mode == "uuid" then
    for line in io.lines(a) do
      if line ~= "" then table.insert(lines, line) end
    end
  end
  math.randomseed(20241123 + (tid or 0))
end

function request()
  if mode == "list" then
    return wrk.format("GET", "/api/v1/syncs/" .. math.random(1, tonumber(b)) .. "/sync_runs?page=1&per_page=" .. a)
  elseif mode == "run" then
    return wrk.format("GET", "/api/v1/sync_runs/" .. math.random(1, tonumber(a)))
  elseif mode == "uuid" then
    return wrk.format("GET", (b:gsub("%%s", lines[math.random(1, #lines)])))
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
