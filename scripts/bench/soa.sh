#!/usr/bin/env bash
# Benchmark: the SoA page (93 entries with status, owner, linked risk and evidence counts) on
# PostgreSQL, 100 tenants each with one ISMS, 200 risks, 300 assets and 500 evidence records,
# under wrk at 64 connections rotating over the tenants. Targets (issue 4): p50 under 3 ms, p99
# under 20 ms, over 1,500 requests/s.
#   scripts/bench/soa.sh [DURATION_SECONDS]
# Environment: SOA_TENANTS (default 100), GRC_DATABASE_POOL_SIZE (the server's pool, default 16),
# SOA_SSLMODE (added to the application's database URL, e.g. disable; by default the driver
# prefers TLS, which the local PostgreSQL offers), SOA_KEEP=1 to leave the server running.
# Needs: a release build (cargo build --release -p grc), wrk, curl, PostgreSQL with a superuser
# at GRC_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-30}"
TENANTS="${SOA_TENANTS:-100}"
PORT=18183
source scripts/bench/lib.sh
if [ -n "${SOA_SSLMODE:-}" ]; then GRC_DATABASE_URL="$GRC_DATABASE_URL?sslmode=$SOA_SSLMODE"; fi
WORK="$GRC_DATA_DIR"
export SOA_TARGETS="$WORK/targets.txt"
: >"$SOA_TARGETS"

echo "== migrate, $TENANTS tenants with a compliance manager each (grc tenant create, grc user add)"
$BIN migrate >/dev/null
for n in $(seq -f '%03g' 1 "$TENANTS"); do
  $BIN tenant create --slug "soa-bench-$n" --name "SoA Bench $n" --kind covered-entity >/dev/null
  $BIN user add --tenant "soa-bench-$n" --email "cm@t$((10#$n)).bench.example" \
    --role compliance_manager --name "Compliance Manager $n" >/dev/null
  echo "$($BIN token --tenant "soa-bench-$n" --email "cm@t$((10#$n)).bench.example" --ttl 2h)" >>"$WORK/tokens.txt"
done

$BIN serve --bind 127.0.0.1:$PORT >"$WORK/server.log" 2>&1 &
SERVER=$!
if [ "${SOA_KEEP:-0}" != 1 ]; then trap 'kill $SERVER 2>/dev/null || true' EXIT; fi
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done

gql() { # TOKEN JSON-BODY
  curl -sf http://127.0.0.1:$PORT/graphql -H 'Content-Type: application/json' -H "Authorization: Bearer $1" -d "$2"
}

echo "== one ISMS per tenant through the API (createManagementSystem: 93 SoA entries each)"
CREATE='mutation($input: CreateManagementSystemInput!) { createManagementSystem(input: $input) { managementSystem { id soa { progress { total } } } userErrors { code message } } }'
while read -r token; do
  answer=$(gql "$token" "{\"query\":\"$CREATE\",\"variables\":{\"input\":{\"name\":\"Hospital ISMS\",\"scopeStatement\":\"All clinical and administrative systems\"}}}")
  id=$(sed -n 's/.*"managementSystem":{"id":"\([^"]*\)".*/\1/p' <<<"$answer")
  grep -q '"total":93' <<<"$answer" && [ -n "$id" ] || { echo "createManagementSystem failed: $answer" >&2; exit 1; }
  echo "$token $id" >>"$SOA_TARGETS"
done <"$WORK/tokens.txt"

echo "== bulk data as the owner role (scripts/bench/soa-seed.sql), VACUUM (ANALYZE)"
/usr/bin/time -f "   %e s" psql -q -v ON_ERROR_STOP=1 "$GRC_MIGRATION_DATABASE_URL" -f scripts/bench/soa-seed.sql >/dev/null
# Counted as the superuser (row-level security hides every tenant's rows from the owner role).
psql -At "${PG%/*}/grc_bench" <<'SQL' | sed 's/^/   /'
SELECT format('tenants %s, isms %s, soa_entries %s (with owner %s), risks %s, risk_controls %s, assets %s, evidence %s (archived %s), evidence_links %s (to controls %s)',
  (SELECT count(*) FROM tenants), (SELECT count(*) FROM isms), (SELECT count(*) FROM soa_entries),
  (SELECT count(*) FROM soa_entries WHERE owner_id IS NOT NULL), (SELECT count(*) FROM risks),
  (SELECT count(*) FROM risk_controls), (SELECT count(*) FROM assets), (SELECT count(*) FROM evidence),
  (SELECT count(*) FROM evidence WHERE archived_at IS NOT NULL), (SELECT count(*) FROM evidence_links),
  (SELECT count(*) FROM evidence_links WHERE target_kind = 'control'));
SQL

read -r token id <"$SOA_TARGETS"
PAGE='query($id: ID!) { managementSystem(id: $id) { soa { entries { controlRef status applicable owner { displayName } riskCount evidenceCount } } } }'
answer=$(gql "$token" "{\"query\":\"$PAGE\",\"variables\":{\"id\":\"$id\"}}")
entries=$(grep -o '"controlRef"' <<<"$answer" | wc -l)
owners=$(grep -o '"displayName"' <<<"$answer" | wc -l)
risks=$(grep -o '"riskCount":[0-9]*' <<<"$answer" | awk -F: '{s+=$2} END {print s}')
evidence=$(grep -o '"evidenceCount":[0-9]*' <<<"$answer" | awk -F: '{s+=$2} END {print s}')
echo "== the page of the first tenant: ${#answer} bytes, $entries entries, $owners owners, risk links $risks, current evidence links $evidence"
[ "$entries" = 93 ] && [ "$owners" = 93 ] && [ "$risks" -gt 0 ] && [ "$evidence" -gt 0 ] || { echo "unexpected page: ${answer:0:500}" >&2; exit 1; }

xacts() { psql -At "$PG" -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'grc_bench'"; }

echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
echo "warm-up (5 s)"; wrk -t2 -c64 -d5s -s scripts/bench/soa.lua http://127.0.0.1:$PORT/graphql >/dev/null
sleep 1
before=$(xacts)
echo "== measured run (${DURATION} s, 64 connections, 2 threads, pool ${GRC_DATABASE_POOL_SIZE:-16})"
wrk -t2 -c64 -d"${DURATION}s" --latency -s scripts/bench/soa.lua http://127.0.0.1:$PORT/graphql | tee "$WORK/wrk.txt"
sleep 1 # pg_stat_database is reported at most every 500 ms
after=$(xacts)
requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$WORK/wrk.txt")
echo "database transactions per request: $(awk -v a="$after" -v b="$before" -v r="$requests" 'BEGIN {printf "%.2f", (a-b)/r}')"
echo "== a fixed offered rate: 1,500 requests/s over 64 connections (SOA_RATE), 30 s"
SOA_RATE=1500 SOA_CONNECTIONS=64 wrk -t2 -c64 -d30s --latency -s scripts/bench/soa.lua http://127.0.0.1:$PORT/graphql | grep -E '^ +(50|75|90|99)%|Requests/sec|bad answers|requests in'
echo "== one connection (service time without queueing), 10 s"
wrk -t1 -c1 -d10s --latency -s scripts/bench/soa.lua http://127.0.0.1:$PORT/graphql | grep -E '^ +(50|75|90|99)%|Requests/sec|bad answers'
echo "server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2/1024 " MiB"}')"
if [ "${SOA_KEEP:-0}" = 1 ]; then
  echo "server $SERVER left running on 127.0.0.1:$PORT; SOA_TARGETS=$SOA_TARGETS"
fi
