#!/usr/bin/env bash
# Benchmark: the ISO 27001:2022 Annex A -> HIPAA crosswalk through the API on PostgreSQL (p50
# target under 5 ms), and importing the NIST SP 800-53r5 HIGH resolved catalog with
# `grc catalog import` (target under 1 s).
#   scripts/bench/crosswalk.sh [DURATION_SECONDS]
# Needs: a release build (cargo build --release -p grc), wrk, PostgreSQL with a superuser at
# GRC_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-20}"
PORT=18182
HIGH=tests/fixtures/reference-data/nist-sp800-53r5/NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json
source scripts/bench/lib.sh

echo "== grc migrate (schema + shipped catalogs) on an empty database"
/usr/bin/time -f "   %e s, peak RSS %M KiB" $BIN migrate >/dev/null
echo "== grc catalog import of the HIGH resolved catalog (2.1 MB, 370 controls), 5 runs"
for i in 1 2 3 4 5; do
  /usr/bin/time -f "   run $i: %e s, peak RSS %M KiB" \
    env GRC_DATABASE_URL="$GRC_MIGRATION_DATABASE_URL" $BIN catalog import "$HIGH" --key "nist-high-$i" >/dev/null
done
$BIN tenant create --slug bench-hospital --name "Bench Hospital" --kind covered-entity >/dev/null
$BIN user add --tenant bench-hospital --email owner@bench.example --role owner >/dev/null
echo "== tenant import of the same catalog (one transaction, audited)"
/usr/bin/time -f "   %e s, peak RSS %M KiB" $BIN catalog import "$HIGH" --key nist-high --tenant bench-hospital >/dev/null
TOKEN=$($BIN token --tenant bench-hospital --email owner@bench.example --ttl 1h)
export TOKEN

$BIN serve --bind 127.0.0.1:$PORT >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
curl -sf http://127.0.0.1:$PORT/graphql -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
  -d '{"query":"{ crosswalk(from: \"iso27001-2022\", to: \"hipaa-sr\", group: \"A\") { count } }"}' | tee /dev/stderr | grep -q '"count":307'
echo
echo "warm-up (5 s)"; wrk -t1 -c1 -d5s -s scripts/bench/crosswalk.lua http://127.0.0.1:$PORT/graphql >/dev/null
for script in crosswalk crosswalk-full; do
  size=$(curl -s http://127.0.0.1:$PORT/graphql -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
    -d "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" scripts/bench/$script.lua | sed 's/\\\\/\\/g')" | wc -c)
  echo "== $script.lua ($size bytes an answer): ${DURATION} s, 1 connection (one request at a time)"
  wrk -t1 -c1 -d"${DURATION}s" --latency -s scripts/bench/$script.lua http://127.0.0.1:$PORT/graphql
done
echo "== crosswalk.lua: ${DURATION} s, 16 connections, 2 threads"
wrk -t2 -c16 -d"${DURATION}s" --latency -s scripts/bench/crosswalk.lua http://127.0.0.1:$PORT/graphql
echo "server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2/1024 " MiB"}')"
