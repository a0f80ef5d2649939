#!/usr/bin/env bash
# Benchmark: vendor compliance for a tenant with 2,000 vendors and 10,000 attestations (issue 5:
# under 50 ms), through GraphQL on PostgreSQL: load the register (3 queries), compute every
# attestation's validity, each vendor's compliance and the summary.
#   scripts/bench/vendors.sh [DURATION_SECONDS]
# Needs: a release build (cargo build --release -p grc), wrk, curl, PostgreSQL with a superuser
# at GRC_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-20}"
PORT=18184
source scripts/bench/lib.sh
WORK="$GRC_DATA_DIR"

$BIN migrate >/dev/null
$BIN tenant create --slug vendor-bench --name "Vendor Bench" --kind covered-entity >/dev/null
$BIN user add --tenant vendor-bench --email cm@vendor.bench.example --role compliance_manager \
  --name "Compliance Manager" >/dev/null
VENDOR_TOKEN=$($BIN token --tenant vendor-bench --email cm@vendor.bench.example --ttl 2h)
export VENDOR_TOKEN

echo "== seed (scripts/bench/vendors-seed.sql), VACUUM (ANALYZE)"
/usr/bin/time -f "   %e s" psql -q -v ON_ERROR_STOP=1 "$GRC_MIGRATION_DATABASE_URL" -f scripts/bench/vendors-seed.sql >/dev/null
psql -q "${PG%/*}/grc_bench" -c "VACUUM (ANALYZE)"
psql -At "${PG%/*}/grc_bench" -c "SELECT format('vendors %s, attestations %s, baas %s', (SELECT count(*) FROM vendors), (SELECT count(*) FROM attestations), (SELECT count(*) FROM baas))" | sed 's/^/   /'

$BIN serve --bind 127.0.0.1:$PORT >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done

Q='{"query":"query { vendorCompliance(on: \"2026-06-01\") { vendors compliant atRisk nonCompliant notAssessed ephiWithoutBaa baaMissingTerms requirementsValid requirementsExpiring requirementsExpired requirementsMissing } }"}'
echo "== the answer"
curl -sf http://127.0.0.1:$PORT/graphql -H 'Content-Type: application/json' -H "Authorization: Bearer $VENDOR_TOKEN" -d "$Q" | sed 's/^/   /'
echo
echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
wrk -t1 -c1 -d3s -s scripts/bench/vendors.lua http://127.0.0.1:$PORT/graphql >/dev/null
echo "== one connection, ${DURATION} s (latency of one computation)"
wrk -t1 -c1 -d"${DURATION}s" --latency -s scripts/bench/vendors.lua http://127.0.0.1:$PORT/graphql | grep -E '^ +(50|75|90|99)%|Requests/sec|bad answers|requests in'
echo "== four connections, ${DURATION} s"
wrk -t2 -c4 -d"${DURATION}s" --latency -s scripts/bench/vendors.lua http://127.0.0.1:$PORT/graphql | grep -E '^ +(50|75|90|99)%|Requests/sec|bad answers|requests in'
echo "server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2/1024 " MiB"}')"
