-- Vendor compliance of the whole register on one date (scripts/bench/vendors.sh): $VENDOR_TOKEN
-- is the compliance manager's token; every answer must carry the summary.
local query = '{"query":"query { vendorCompliance(on: \\"2026-06-01\\") { vendors compliant atRisk nonCompliant ephiWithoutBaa requirementsExpired } }"}'
local bad = 0

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("VENDOR_TOKEN")
  wrk.body = query
end

function response(status, headers, body)
  if status ~= 200 or not body:find('"vendors":2000', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("bad answers: %d\n", bad))
end
