-- wrk script for the online certificate check, POST /api/checkin/v1/certificates/verify.
--
--   wrk -t2 -c16 -d30s -s bench/certificate.lua http://127.0.0.1:8100 -- PAIRS_FILE [FIELD]
--
-- PAIRS_FILE has one "checkpoint staff bearer token<TAB>certificate QR text" per line
-- (bench/certificate_bench.py writes it: this deployment's certificates and a partner's, mixed).
-- Every request checks one certificate, drawn in turn per thread; FIELD is the body's field for
-- the QR text (default "qr"). Nothing is stored by a check, so repeats cost the same as firsts,
-- except that each worker keeps the signatures it already checked (an LRU of 4,096): the file
-- holds more certificates than that.
-- done() prints one line "CERT_RESULT {json}" with requests/s, latency percentiles and errors.

local counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
end

function init(args)
   pairs_list = {}
   local file = assert(io.open(args[1], "r"), "cannot open pairs file " .. tostring(args[1]))
   for line in file:lines() do
      local token, qr = line:match("^([^\t]+)\t([^\t]+)")
      if token then
         pairs_list[#pairs_list + 1] = {"Bearer " .. token, qr}
      end
   end
   file:close()
   assert(#pairs_list > 0, "no pairs in " .. args[1])
   field = args[2] or "qr"
   id = id or 0
   next_index = ((id * 7919) % #pairs_list) + 1
end

function request()
   local pair = pairs_list[next_index]
   next_index = (next_index % #pairs_list) + 1
   local body = string.format('{"%s":"%s"}', field, pair[2])
   return wrk.format("POST", "/api/checkin/v1/certificates/verify",
      {["Content-Type"] = "application/json", ["Authorization"] = pair[1]}, body)
end

function done(summary, latency, requests)
   local e = summary.errors
   local seconds = summary.duration / 1e6
   print(string.format(
      'CERT_RESULT {"requests":%d,"seconds":%.3f,"rps":%.1f,' ..
      '"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,' ..
      '"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}',
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, e.status, e.connect, e.read, e.write, e.timeout))
end
