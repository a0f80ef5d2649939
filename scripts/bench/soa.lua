-- The SoA page of one management system (93 entries with status, owner, linked risk and evidence
-- counts), rotating over the tenants: $SOA_TARGETS names a file of "TOKEN ISMS_ID" lines, one a
-- tenant; each request takes the next line (each thread starts at its own offset). $SOA_QUERY
-- replaces the query (to measure what a part of the page costs); it must select riskCount or
-- name the check with $SOA_EXPECT.
local query = os.getenv("SOA_QUERY")
  or "query($id: ID!) { managementSystem(id: $id) { soa { entries { controlRef status applicable owner { displayName } riskCount evidenceCount } } } }"
local expect = os.getenv("SOA_EXPECT") or '"riskCount"'
-- $SOA_RATE (requests/s over all connections) paces each connection: it waits
-- connections / rate between its requests, so the run offers a fixed rate and the latency is
-- the service time at that rate (wrk measures from sending, not from the planned start).
local rate = tonumber(os.getenv("SOA_RATE") or "")
local connections = tonumber(os.getenv("SOA_CONNECTIONS") or "64")

function delay()
  if rate then
    return math.floor(1000 * connections / rate)
  end
  return 0
end

local targets = {}
local next_target = 1
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter)
  table.insert(threads, thread)
end

function init(args)
  local path = os.getenv("SOA_TARGETS")
  for line in io.lines(path) do
    local token, id = line:match("^(%S+)%s+(%S+)$")
    if token then
      targets[#targets + 1] = {
        headers = {
          ["Content-Type"] = "application/json",
          ["Authorization"] = "Bearer " .. token,
        },
        body = '{"query":"' .. query .. '","variables":{"id":"' .. id .. '"}}',
      }
    end
  end
  if #targets == 0 then
    error("no targets in " .. tostring(path))
  end
  -- Threads start half the list apart.
  next_target = 1 + ((offset or 1) - 1) * math.floor(#targets / 2) % #targets
  errors = 0
end

function request()
  local t = targets[next_target]
  next_target = next_target % #targets + 1
  return wrk.format("POST", nil, t.headers, t.body)
end

function response(status, headers, body)
  -- A GraphQL error comes with status 200: count answers without the entries as errors too.
  if status ~= 200 or not body:find(expect, 1, true) or body:find('"errors"', 1, true) then
    errors = errors + 1
    if errors <= 3 then
      io.stderr:write("bad answer " .. status .. ": " .. body:sub(1, 300) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("errors") or 0)
  end
  io.write(string.format("bad answers (non-200 or without entries): %d\n", bad))
end
