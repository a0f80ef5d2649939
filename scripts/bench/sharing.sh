#!/usr/bin/env bash
# Benchmark: `sharedWithMe` (the first 50 of 3,000 live grants, each with its artifacts' live
# status) for a covered entity with 500 connected vendors, on PostgreSQL. Target (issue 6): p50
# under 5 ms and p99 under 30 ms at 64 connections on the 2-core machine.
#   scripts/bench/sharing.sh [DURATION_SECONDS]
# Runs, after a 5 s warm-up: 64 connections in a closed loop (wrk keeps 64 requests in flight, so
# the mean latency is 64 / throughput), SHARE_RATE requests/s offered over 64 connections (each
# connection waits a random time, exponential with mean 64 / SHARE_RATE s, between its requests;
# wrk measures from sending), and one connection (service time without queueing).
# Environment: SHARE_RATE (default 50: about half of what the closed loop reached with the first
# version on the 2-core machine, 111 requests/s; raise it as the page gets faster),
# GRC_DATABASE_POOL_SIZE (the server's pool, default 16), SHARE_KEEP=1 to leave the server running.
# Needs: a release build (cargo build --release -p grc), wrk, curl, PostgreSQL with a superuser
# at GRC_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-30}"
RATE="${SHARE_RATE:-50}"
unset SHARE_RATE SHARE_CONNECTIONS SHARE_THREADS # only the paced run sets them
PORT=18185
source scripts/bench/lib.sh
WORK="$GRC_DATA_DIR"

echo "== migrate, the covered entity share-bench with an owner (grc tenant create, grc user add)"
$BIN migrate >/dev/null
$BIN tenant create --slug share-bench --name "Share Bench Hospital" --kind covered-entity >/dev/null
$BIN user add --tenant share-bench --email owner@share.bench.example --role owner \
  --name "Share Bench Owner" >/dev/null
SHARE_TOKEN=$($BIN token --tenant share-bench --email owner@share.bench.example --ttl 2h)
export SHARE_TOKEN

echo "== seed (scripts/bench/sharing-seed.sql), VACUUM (ANALYZE)"
/usr/bin/time -f "   %e s" psql -q -v ON_ERROR_STOP=1 "$GRC_MIGRATION_DATABASE_URL" -f scripts/bench/sharing-seed.sql >/dev/null
psql -q "${PG%/*}/grc_bench" -c "VACUUM (ANALYZE)"
# Counted as the superuser (row-level security hides every tenant's rows from the owner role).
psql -At "${PG%/*}/grc_bench" <<'SQL' | sed 's/^/   /'
SELECT format('tenants %s, vendors %s, connections %s (active %s), certificates %s, decisions %s, audits %s, attestations %s, baas %s, share_grants %s (%s)',
  (SELECT count(*) FROM tenants), (SELECT count(*) FROM vendors), (SELECT count(*) FROM connections),
  (SELECT count(*) FROM connections WHERE status = 'active'), (SELECT count(*) FROM certificates),
  (SELECT count(*) FROM certificate_decisions), (SELECT count(*) FROM certificate_audits),
  (SELECT count(*) FROM attestations), (SELECT count(*) FROM baas), (SELECT count(*) FROM share_grants),
  (SELECT string_agg(format('%s %s', artifact_kind, n), ', ' ORDER BY artifact_kind)
     FROM (SELECT artifact_kind, count(*) AS n FROM share_grants GROUP BY artifact_kind) k));
SQL

# The load: every request the same page; an answer counts as bad unless it is 200, carries the
# 3,000 grants' total and no "errors". SHARE_RATE and SHARE_CONNECTIONS pace the connections.
cat >"$WORK/sharing.lua" <<'LUA'
local body = '{"query":"{ sharedWithMe(first: 50) { totalCount edges { node { id artifactKind access state owner { slug name } artifacts { kind id title status validUntil } } } } }"}'
local rate = tonumber(os.getenv("SHARE_RATE") or "")
local connections = tonumber(os.getenv("SHARE_CONNECTIONS") or "64")
local per_thread = connections / tonumber(os.getenv("SHARE_THREADS") or "2")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  bad = 0
  primed = 0
  math.randomseed(os.time() * 100 + (id or 0))
end

-- Paced (SHARE_RATE): each connection waits a random time between its requests, exponential
-- with mean connections / rate, so the offered load is a Poisson stream of SHARE_RATE
-- requests/s. wrk sends each connection's first request as soon as it connects, with no delay:
-- the connections' first requests are GET /healthz (answered in microseconds, not counted as
-- answers; their latencies do enter wrk's histogram, 64 samples), else the 64 pages would start
-- as one burst whose queue would dominate the tail.
function request()
  if rate and primed < per_thread then
    primed = primed + 1
    return wrk.format("GET", "/healthz")
  end
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("SHARE_TOKEN"),
  }, body)
end

-- Waits are cut at 4 s, under the server's 5 s keep-alive (a longer one would find the
-- connection closed: a read error and a reconnection); at 50/s that shortens 4 % of the waits.
function delay()
  if rate then
    return math.min(4000, math.floor(-math.log(1 - math.random()) * 1000 * connections / rate))
  end
  return 0
end

function response(status, headers, body)
  if body == '{"status":"ok"}' then
    return
  end
  if status ~= 200 or not body:find('"totalCount":3000', 1, true) or body:find('"errors"', 1, true) then
    bad = bad + 1
    if bad <= 3 then
      io.stderr:write("bad answer " .. status .. ": " .. body:sub(1, 300) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, thread in ipairs(threads) do
    n = n + (thread:get("bad") or 0)
  end
  io.write(string.format("bad answers (non-200, errors or not 3,000 grants): %d\n", n))
end
LUA

$BIN serve --bind 127.0.0.1:$PORT >"$WORK/server.log" 2>&1 &
SERVER=$!
if [ "${SHARE_KEEP:-0}" != 1 ]; then trap 'kill $SERVER 2>/dev/null || true' EXIT; fi
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done

Q='{"query":"{ sharedWithMe(first: 50) { totalCount edges { node { id artifactKind access state owner { slug name } artifacts { kind id title status validUntil } } } } }"}'
answer=$(curl -sf http://127.0.0.1:$PORT/graphql -H 'Content-Type: application/json' -H "Authorization: Bearer $SHARE_TOKEN" -d "$Q")
edges=$(grep -o '"artifactKind"' <<<"$answer" | wc -l)
artifacts=$(grep -o '"validUntil"' <<<"$answer" | wc -l)
owners=$(grep -o '"slug":"[^"]*"' <<<"$answer" | sort -u | wc -l)
statuses=$(grep -o '"status":"[^"]*"' <<<"$answer" | sort | uniq -c | awk '{printf "%s%s %s", sep, $2, $1; sep=", "}')
echo "== the page: ${#answer} bytes, $edges grants of $owners owners, $artifacts artifacts ($statuses)"
grep -q '"totalCount":3000' <<<"$answer" && [ "$edges" = 50 ] && ! grep -q '"errors"' <<<"$answer" \
  || { echo "unexpected page: ${answer:0:500}" >&2; exit 1; }

xacts() { psql -At "$PG" -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'grc_bench'"; }
LAT='^ +(50|75|90|99)%|Requests/sec|bad answers|requests in|Socket errors|Non-2xx'

echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
echo "warm-up (5 s)"; wrk -t2 -c64 -d5s -s "$WORK/sharing.lua" http://127.0.0.1:$PORT/graphql >/dev/null
sleep 1
before=$(xacts)
echo "== 64 connections, closed loop, ${DURATION} s, 2 threads, pool ${GRC_DATABASE_POOL_SIZE:-16}"
wrk -t2 -c64 -d"${DURATION}s" --latency -s "$WORK/sharing.lua" http://127.0.0.1:$PORT/graphql | tee "$WORK/wrk.txt" | grep -E "$LAT|^ +Latency +[0-9]"
sleep 1 # pg_stat_database is reported at most every 500 ms
after=$(xacts)
requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$WORK/wrk.txt")
echo "database transactions per request: $(awk -v a="$after" -v b="$before" -v r="$requests" 'BEGIN {printf "%.2f", (a-b)/r}')"
echo "== $RATE requests/s offered over 64 connections (SHARE_RATE), ${DURATION} s"
SHARE_RATE="$RATE" SHARE_CONNECTIONS=64 SHARE_THREADS=2 wrk -t2 -c64 -d"${DURATION}s" --latency -s "$WORK/sharing.lua" http://127.0.0.1:$PORT/graphql | grep -E "$LAT"
echo "== one connection (service time without queueing), 10 s"
wrk -t1 -c1 -d10s --latency -s "$WORK/sharing.lua" http://127.0.0.1:$PORT/graphql | grep -E "$LAT"
echo "server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2/1024 " MiB"}')"
if [ "${SHARE_KEEP:-0}" = 1 ]; then
  echo "server $SERVER left running on 127.0.0.1:$PORT; SHARE_TOKEN is in the environment of this script only"
fi
