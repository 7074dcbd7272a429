-- wrk -s bench/tail/post.lua URL -- RUN: a snow report per request, each with its own X-Trace-Id (RUN, thread id,
-- counter), as bench/scenarios/tail.ts sends them. RUN must differ between wrk runs against one server: LuaJIT's
-- math.random is unseeded, so without it a second run repeats the first run's ids (409s on the floor's UNIQUE
-- trace_id, idempotent replays on cantons). Its done() prints what wrk's own summary leaves out, for
-- bench/tail/wrk.ts to parse:
--   tail-wrk summary <runtime µs> <requests> <bytes> <connect> <read> <write> <status> <timeout>
--   tail-wrk stats <count> <min µs> <max µs>      (the latency histogram's header, after wrk's correction)
--   tail-wrk hist <µs>:<count> …                  (its non-empty buckets, in lines of 400)
-- wrk 4.x backfills its latency histogram after the run (stats_correct in src/wrk.c); with the whole
-- corrected histogram the backfill can be undone exactly, giving the latencies wrk really measured.
-- The histogram is read through LuaJIT's ffi from the stats struct of wrk 4.1's src/stats.h
-- ({ uint64 count, limit, min, max; uint64 data[] }): the Lua API has no cheap way to list it
-- (latency(i) scans the whole array for every bucket).
local counter = 0
local run = "wrk"
tid = 0
function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
end
function init(args)
  counter = 0
  if args[1] then run = args[1] end
end
request = function()
  counter = counter + 1
  local id = string.format("%s-%s-%d", run, tostring(tid), counter)
  local body = string.format('{"device_id":"d%d","resort_id":"r1","depth":%d,"timestamp":"2026-01-01T00:00:00Z"}', counter % 5000, counter % 400)
  return wrk.format("POST", "/events/snow-reports", { ["content-type"] = "application/json", ["x-trace-id"] = id }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("tail-wrk summary %d %d %d %d %d %d %d %d\n", summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout))
  local ok, ffi = pcall(require, "ffi")
  if not ok then
    io.write("tail-wrk nohist no ffi\n")
    return
  end
  local s = ffi.cast("uint64_t **", latency)[0]
  local count, min, max = tonumber(s[0]), tonumber(s[2]), tonumber(s[3])
  -- A sanity check on the layout: the mean over the buckets must be wrk's own mean.
  io.write(string.format("tail-wrk stats %d %d %d %.3f\n", count, min, max, latency.mean))
  local line, n = {}, 0
  for v = min, max do
    local c = tonumber(s[4 + v])
    if c > 0 then
      n = n + 1
      line[n] = v .. ":" .. c
      if n == 400 then
        io.write("tail-wrk hist ", table.concat(line, " "), "\n")
        line, n = {}, 0
      end
    end
  end
  if n > 0 then io.write("tail-wrk hist ", table.concat(line, " ", 1, n), "\n") end
end
