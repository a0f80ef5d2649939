#!/usr/bin/env bash
# Benchmark: the `viewer` query against a release build on PostgreSQL, under wrk at 64
# connections. Prints throughput, latency percentiles and the server's peak RSS.
#   scripts/bench/viewer.sh [DURATION_SECONDS]
# Needs: a release build (cargo build --release -p grc), wrk, PostgreSQL with a superuser at
# GRC_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-30}"
PORT=18181
source scripts/bench/lib.sh

$BIN migrate >/dev/null
$BIN tenant create --slug bench-hospital --name "Bench Hospital" --kind covered-entity >/dev/null
$BIN user add --tenant bench-hospital --email owner@bench.example --role owner >/dev/null
TOKEN=$($BIN token --tenant bench-hospital --email owner@bench.example --ttl 1h)
export TOKEN

$BIN serve --bind 127.0.0.1:$PORT >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
curl -sf http://127.0.0.1:$PORT/graphql -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
  -d '{"query":"{ viewer { user { email } } }"}' | grep -q owner@bench.example

echo "warm-up (5 s)"; wrk -t2 -c64 -d5s -s scripts/bench/viewer.lua http://127.0.0.1:$PORT/graphql >/dev/null
echo "measured run (${DURATION} s, 64 connections, 2 threads)"
wrk -t2 -c64 -d"${DURATION}s" --latency -s scripts/bench/viewer.lua http://127.0.0.1:$PORT/graphql
echo "server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2/1024 " MiB"}'), current: $(grep VmRSS /proc/$SERVER/status | awk '{print $2/1024 " MiB"}')"
