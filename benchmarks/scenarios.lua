-- wrk script: one random OGC API - Features request per call.
--   wrk -t2 -c4 -d20s --timeout 60s -s scenarios.lua http://127.0.0.1:PORT \
--       -- SCENARIO ITEMS_PATH N CITIES_TSV [FORMAT_PARAM]
-- SCENARIO: bbox   items in a 500 m box near a city centre, limit=100. CITIES_TSV is then
--                  either serve.py's file of pre-drawn boxes (one "minlon,minlat,maxlon,maxlat"
--                  a line, benchmarks/.data/bbox-500m-2000-seed<S>.txt: the published way) or
--                  the cities file (a box drawn at random per request: --random-boxes, the
--                  method of the figures before 2026-12-07). With a boxes file, thread t of T
--                  (T = the 6th argument, default 2) requests lines t, t + T, t + 2T, ... and
--                  starts over at the end: every box is asked as often, in the same order for
--                  every server, and plain wrk reproduces the run:
--                    wrk -t2 -c4 -d20s --timeout 60s -s benchmarks/scenarios.lua URL -- \
--                        bbox /collections/buildings/items 1000000 BOXES_FILE f=json 2
--           item   one feature by a random id in 1..N
--           offset a deep page: offset random in [0.8N, 0.9N], limit=100
--           cql    a CQL2 attribute filter: kind = <one of 10> AND floors BETWEEN a AND b
--                  (a in 1..12, b in a..25: 1,500 different filters), limit=100
--           crs    bbox, answered in Pulkovo 1942 / Gauss-Kruger zone 5 (crs=EPSG:28405)
--           tiles, tiles-cached
--                  vector tiles from a list: ITEMS_PATH is then the server's tile path with
--                  {z}, {x} and {y} to fill in, CITIES_TSV a file of "z x y" lines and
--                  FORMAT_PARAM the number of wrk threads. Thread t requests lines t, t + T,
--                  t + 2T, ... (T threads), so the threads walk the list together without
--                  repeats. At the end of its share a thread starts over (tiles-cached) or
--                  stops (tiles: a repeat could come from the server's cache; serve.py sizes
--                  -d so that this does not happen in a timed run, as a stopped thread's
--                  freshly opened connection holds a gunicorn sync worker until wrk exits);
--                  wrk still sleeps the whole -d, so done() reports the time the threads
--                  were answered in (first request to last response, a monotonic clock) as
--                  "active_s", and "stopped" when every thread used up its share.
-- ITEMS_PATH: /collections/<id>/items. CITIES_TSV: lon lat cumulative_weight sigma_m per line.
-- FORMAT_PARAM: the query parameter asking for GeoJSON (default f=json).
-- done() prints one JSON line: requests/s, latency percentiles (ms), errors, the bytes of the
-- 2xx bodies (the mean tile size) and, for tiles, how many distinct list entries were requested.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local scenario, items, n, fmt
local cities = {}
local tiles = {}
local boxes = {}     -- pre-drawn bboxes ("minlon,minlat,maxlon,maxlat"), if given
local next_box = 0
local nthreads = 1
local next_tile = 0
issued = 0   -- requests built by this thread (globals: done() reads them with thread:get)
t_first = 0  -- microseconds: this thread's first request, its last response
t_last = 0
stopped = 0  -- 1 once this thread has used up its share of the tiles and stopped

local ffi = require("ffi")  -- wrk runs LuaJIT
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end
local M_PER_DEG = 111320.0
local HALF_BOX_M = 250.0

function init(args)
  scenario = args[1] or "bbox"
  items = args[2] or "/collections/buildings/items"
  n = tonumber(args[3] or "1000")
  local cities_file = args[4]
  fmt = args[5] or "f=json"
  -- the same request sequence for every server (seeded per thread)
  math.randomseed(20240611 + 7919 * (tid or 1))
  if scenario == "tiles" or scenario == "tiles-cached" then
    nthreads = tonumber(args[5] or "1")
    for line in io.lines(cities_file) do
      local z, x, y = line:match("^(%d+)%s+(%d+)%s+(%d+)")
      if z then table.insert(tiles, {z, x, y}) end
    end
    next_tile = (tid or 1) - 1
    stride = math.ceil((#tiles - next_tile) / nthreads)  -- entries this thread can walk
    return
  end
  if cities_file then
    for line in io.lines(cities_file) do
      local box = line:match("^%s*([-%d%.]+,[-%d%.]+,[-%d%.]+,[-%d%.]+)%s*$")
      if box then
        table.insert(boxes, box)
      else
        local lon, lat, cum, sigma = line:match("^(%S+)%s+(%S+)%s+(%S+)%s+(%S+)")
        if lon then
          table.insert(cities, {tonumber(lon), tonumber(lat), tonumber(cum), tonumber(sigma)})
        end
      end
    end
  end
  if #boxes > 0 then
    nthreads = tonumber(args[6] or "2")
    next_box = ((tid or 1) - 1) % #boxes
  end
end

local function pick_city()
  local u = math.random()
  for _, c in ipairs(cities) do
    if u <= c[3] then return c end
  end
  return cities[#cities]
end

local function bbox_path()
  if #boxes > 0 then
    local box = boxes[next_box + 1]
    next_box = (next_box + nthreads) % #boxes
    return string.format("%s?bbox=%s&limit=100&%s", items, box, fmt)
  end
  local c = pick_city()
  -- box centre: uniformly within min(sigma / 2, 1.5 km) of the city centre
  local reach = math.min(c[4] / 2, 1500.0)
  local dx = (math.random() * 2 - 1) * reach
  local dy = (math.random() * 2 - 1) * reach
  local coslat = math.cos(math.rad(c[2]))
  local lon = c[1] + dx / (M_PER_DEG * coslat)
  local lat = c[2] + dy / M_PER_DEG
  local hx = HALF_BOX_M / (M_PER_DEG * coslat)
  local hy = HALF_BOX_M / M_PER_DEG
  return string.format("%s?bbox=%.6f,%.6f,%.6f,%.6f&limit=100&%s",
                       items, lon - hx, lat - hy, lon + hx, lat + hy, fmt)
end

local KINDS = {"residential", "apartments", "house", "garage", "commercial", "industrial",
               "school", "public", "retail", "shed"}
local EPSG_28405 = "http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F28405"

local function cql_path()
  local low = math.random(1, 12)
  local cql = string.format("kind = '%s' AND floors BETWEEN %d AND %d",
                            KINDS[math.random(1, #KINDS)], low, math.random(low, 25))
  cql = cql:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end)
  return string.format("%s?filter=%s&filter-lang=cql2-text&limit=100&%s", items, cql, fmt)
end

local function tile_path()
  if next_tile >= #tiles then  -- this thread's share is used up
    -- tiles: stop (the request built here is never answered: the loop ends first)
    if scenario == "tiles" then
      stopped = 1
      wrk.thread:stop()
    end
    next_tile = ((tid or 1) - 1) % nthreads  -- tiles-cached: again
  end
  local t = tiles[next_tile + 1]
  next_tile = next_tile + nthreads
  return (items:gsub("{z}", t[1]):gsub("{x}", t[2]):gsub("{y}", t[3]))
end

function request()
  local path
  issued = issued + 1
  if t_first == 0 then t_first = now_us() end
  if scenario == "tiles" or scenario == "tiles-cached" then
    return wrk.format("GET", tile_path(), {["Accept"] = "application/vnd.mapbox-vector-tile"})
  elseif scenario == "bbox" then
    path = bbox_path()
  elseif scenario == "crs" then
    path = bbox_path() .. "&crs=" .. EPSG_28405
  elseif scenario == "cql" then
    path = cql_path()
  elseif scenario == "item" then
    path = string.format("%s/%d?%s", items, math.random(1, n), fmt)
  elseif scenario == "offset" then
    local lo = math.floor(0.8 * n)
    local hi = math.floor(0.9 * n)
    path = string.format("%s?offset=%d&limit=100&%s", items, math.random(lo, hi), fmt)
  else
    error("unknown scenario " .. tostring(scenario))
  end
  return wrk.format("GET", path, {["Accept"] = "application/geo+json, application/json"})
end

-- count every non-2xx answer (wrk's own errors.status counts only >= 400), with the first one's
-- status per thread for the report
non2xx = 0
first_bad = 0
ok = 0
ok_bytes = 0
empty = 0
function response(status, headers, body)
  t_last = now_us()
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == 0 then first_bad = status end
  else
    ok = ok + 1
    local len = body and #body or 0
    ok_bytes = ok_bytes + len
    if len == 0 then empty = empty + 1 end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local bad, first, oks, okb, empties, built, distinct, listed = 0, 0, 0, 0, 0, 0, 0, 0
  local t0, t1, all_stopped = math.huge, 0, 1
  for _, t in ipairs(threads) do
    if (t:get("stopped") or 0) == 0 then all_stopped = 0 end
    local f0, f1 = t:get("t_first") or 0, t:get("t_last") or 0
    if f0 > 0 and f0 < t0 then t0 = f0 end
    if f1 > t1 then t1 = f1 end
    bad = bad + (t:get("non2xx") or 0)
    local f = t:get("first_bad") or 0
    if first == 0 then first = f end
    oks = oks + (t:get("ok") or 0)
    okb = okb + (t:get("ok_bytes") or 0)
    empties = empties + (t:get("empty") or 0)
    local b = t:get("issued") or 0
    built = built + b
    local s = t:get("stride")
    if s then
      -- a thread's first `stride` requests are distinct entries (one was built by wrk's own
      -- check of request() and never sent: the count is at most one high per thread)
      distinct = distinct + math.min(b, s)
      listed = listed + s
    end
  end
  local secs = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "duration_s": %.3f, "rps": %.2f, "p50_ms": %.3f, "p95_ms": %.3f, ' ..
    '"p99_ms": %.3f, "mean_ms": %.3f, "max_ms": %.3f, "bytes": %d, "non2xx": %d, "first_bad_status": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, ' ..
    '"ok": %d, "ok_body_bytes": %d, "empty": %d, "built": %d, "distinct": %d, "listed": %d, ' ..
    '"active_s": %.3f, "stopped": %d}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000, latency.max / 1000, summary.bytes, bad, first,
    e.connect, e.read, e.write, e.timeout, oks, okb, empties, built, distinct, listed,
    t1 > t0 and (t1 - t0) / 1e6 or 0, all_stopped))
end
