-- wrk script for the online scan endpoint, POST /api/checkin/v1/scans.
--
--   wrk -t2 -c16 -d30s -s bench/scan.lua http://127.0.0.1:8100 -- PAIRS_FILE [DEVICE_ID] [ORDER] [THREADS]
--
-- PAIRS_FILE has one "captain bearer token<TAB>QR text" per line (bench/scan_bench.py writes it).
-- Every request boards one passenger: a fresh UUID client_event_id, kind "board", 36.5 ℃,
-- scanned_at now, device_id DEVICE_ID (default "wrk-bench").
-- ORDER "sequential" (default): thread i of THREADS takes lines i, i+THREADS, ... of the file
--   (bench/scan_bench.py shuffles it), so no passenger is scanned twice until the file runs out;
--   then it starts over and the repeats come back as already_boarded.
-- ORDER "random": any line, drawn with replacement (repeats are already_boarded).
-- done() prints one line "SCAN_RESULT {json}" with requests/s, latency percentiles and errors.

local counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
end

local function load_pairs(path)
   local list = {}
   local file = assert(io.open(path, "r"), "cannot open pairs file " .. tostring(path))
   for line in file:lines() do
      local token, qr = line:match("^([^\t]+)\t([^\t]+)")
      if token then
         list[#list + 1] = {"Bearer " .. token, qr}
      end
   end
   file:close()
   assert(#list > 0, "no pairs in " .. path)
   return list
end

function init(args)
   pairs_list = load_pairs(args[1])
   device = args[2] or "wrk-bench"
   order = args[3] or "sequential"
   step = tonumber(args[4] or "1")
   id = id or 0
   next_index = (id % #pairs_list) + 1
   math.randomseed(os.time() * 1000 + id * 7919)
   for _ = 1, 10 do math.random() end
end

local function uuid4()
   local r = math.random
   return string.format("%04x%04x-%04x-4%03x-%x%03x-%04x%04x%04x",
      r(0, 65535), r(0, 65535), r(0, 65535), r(0, 4095), r(8, 11), r(0, 4095),
      r(0, 65535), r(0, 65535), r(0, 65535))
end

local function next_pair()
   if order == "random" then
      return pairs_list[math.random(#pairs_list)]
   end
   local pair = pairs_list[next_index]
   next_index = next_index + step
   if next_index > #pairs_list then
      next_index = ((next_index - 1) % #pairs_list) + 1
   end
   return pair
end

function request()
   local pair = next_pair()
   local body = string.format(
      '{"qr":"%s","kind":"board","temperature":36.5,"symptoms":[],"client_event_id":"%s",' ..
      '"scanned_at":"%s","device_id":"%s"}',
      pair[2], uuid4(), os.date("!%Y-%m-%dT%H:%M:%SZ"), device)
   return wrk.format("POST", "/api/checkin/v1/scans",
      {["Content-Type"] = "application/json", ["Authorization"] = pair[1]}, body)
end

function done(summary, latency, requests)
   local e = summary.errors
   local seconds = summary.duration / 1e6
   print(string.format(
      'SCAN_RESULT {"requests":%d,"seconds":%.3f,"rps":%.1f,' ..
      '"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"mean_ms":%.2f,' ..
      '"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}',
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, latency.mean / 1000,
      e.status, e.connect, e.read, e.write, e.timeout))
end
