#!/usr/bin/env bash
# Benchmark: webhook deliveries from one worker (`grc worker`) to a local receiver, on
# PostgreSQL, through the real path: `reminder.due` outbox events fanned out into deliveries by
# the worker's relay, each delivery leased, signed (Standard Webhooks), sent and recorded.
# Target (issue 7): over 500 webhook deliveries per second from one worker on the 2-core
# machine; worker memory under 100 MB RSS.
#   scripts/bench/webhooks.sh [EVENTS]
# EVENTS (default 30,000) outbox events over HOOK_TENANTS tenants (default 50), each tenant with
# one endpoint; each event makes one webhook delivery. For each mode in HOOK_MODES (default
# "streams embedded": with GRC_REDIS_URL, a Redis Streams consumer; without, the embedded
# loop) the database is made afresh, seeded, and one worker started; the script samples the
# worker's /metrics and the database every second until every delivery is delivered (or
# nothing moved for 30 s, or HOOK_TIMEOUT seconds passed, default 900), then reads:
#   - deliveries/s: delivery attempts over the span from the first attempt to the last (from
#     delivery_attempts.attempted_at); "end to end" also counts the time from the worker's
#     start (its fan-out of the first events) to the first attempt;
#   - attempt time p50/p99: the worker's grc_delivery_attempt_duration_seconds histogram (send
#     and record, interpolated within its power-of-two buckets) and the HTTP call alone
#     (delivery_attempts.duration_ms, whole milliseconds);
#   - errors: attempts not delivered, deliveries not delivered at the end, and what the
#     receiver refused or saw twice;
#   - the worker's peak RSS (VmHWM) and CPU time, and the receiver's CPU time.
# The receiver is crates/grc-worker/examples/webhook_sink.rs (tokio, one thread, answers 204
# after verifying the signature). Environment: GRC_REDIS_URL (default
# redis://127.0.0.1:6379), GRC_DATABASE_POOL_SIZE (the worker's pool, default 16),
# GRC_DELIVERY_CONCURRENCY (the worker's attempts in flight, default 64), HOOK_SINK_PORT
# (default 18190).
# Needs: a release build (cargo build --release -p grc), the receiver (cargo build -p grc-worker
# --example webhook_sink; this script builds it), curl, Redis, PostgreSQL with a superuser at
# GRC_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS="${1:-30000}"
TENANTS="${HOOK_TENANTS:-50}"
MODES="${HOOK_MODES:-streams embedded}"
TIMEOUT="${HOOK_TIMEOUT:-900}"
SINK_PORT="${HOOK_SINK_PORT:-18190}"
REDIS_URL="${GRC_REDIS_URL:-redis://127.0.0.1:6379}"
unset GRC_REDIS_URL
TARGET="${CARGO_TARGET_DIR:-target}"
WHSEC="whsec_$(head -c 32 /dev/urandom | base64 -w0)"
HZ=$(getconf CLK_TCK)

echo "== the receiver (cargo build -p grc-worker --example webhook_sink)"
cargo build -q -p grc-worker --example webhook_sink
SINK_LOG=$(mktemp)
"$TARGET/debug/examples/webhook_sink" "$SINK_PORT" "$WHSEC" >"$SINK_LOG" &
SINK=$!
WORKER=
cleanup() {
  [ -n "$WORKER" ] && kill "$WORKER" 2>/dev/null || true
  kill "$SINK" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 50); do grep -q '^ready' "$SINK_LOG" && break; sleep 0.1; done
SINK_URL="http://127.0.0.1:$SINK_PORT/hook"

cpu_seconds() { # utime + stime of a process, in seconds
  awk -v hz="$HZ" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"
}

# The attempt-time quantile q from a /metrics scrape (Prometheus' histogram_quantile: linear
# within the bucket).
quantile() {
  python3 - "$1" "$2" <<'PY'
import re, sys
q, path = float(sys.argv[1]), sys.argv[2]
buckets = []
for line in open(path):
    m = re.match(r'grc_delivery_attempt_duration_seconds_bucket\{(.*)\} (\S+)', line)
    if m and 'channel="webhook"' in m.group(1):
        le = re.search(r'le="([^"]+)"', m.group(1)).group(1)
        buckets.append((float('inf') if le == '+Inf' else float(le), float(m.group(2))))
buckets.sort()
total = buckets[-1][1] if buckets else 0
if total == 0:
    print("-"); sys.exit()
rank, prev_le, prev_n = q * total, 0.0, 0.0
for le, n in buckets:
    if n >= rank:
        if le == float('inf'):
            print(f"> {prev_le * 1000:g} ms"); sys.exit()
        x = prev_le + (le - prev_le) * (rank - prev_n) / max(n - prev_n, 1e-9)
        print(f"{x * 1000:.1f} ms"); sys.exit()
    prev_le, prev_n = le, n
PY
}

RESULTS=$(mktemp)
for MODE in $MODES; do
  echo "== $MODE: fresh database, migrate, seed $EVENTS reminder.due events over $TENANTS tenants"
  source scripts/bench/lib.sh
  export GRC_DELIVERY_CONCURRENCY="${GRC_DELIVERY_CONCURRENCY:-64}"
  SUPER="${PG%/*}/grc_bench"
  $BIN migrate >/dev/null
  /usr/bin/time -f "   seeded in %e s" psql -q -v ON_ERROR_STOP=1 "$GRC_MIGRATION_DATABASE_URL" <<SQL
SET bench.tenants = '$TENANTS'; SET bench.events = '$EVENTS';
SET bench.url = '$SINK_URL'; SET bench.whsec = '$WHSEC';
\i scripts/bench/webhooks-seed.sql
SQL
  psql -q "$SUPER" -c "VACUUM (ANALYZE)"
  PREFIX="grc-bench-hooks-$$-$MODE"
  if [ "$MODE" = streams ]; then export GRC_REDIS_URL="$REDIS_URL" GRC_REDIS_PREFIX="$PREFIX"; fi
  WORKER_LOG=$(mktemp)
  START=$(date +%s.%N)
  GRC_WORKER_BIND=127.0.0.1:0 $BIN worker >"$WORKER_LOG" 2>&1 &
  WORKER=$!
  METRICS=
  for _ in $(seq 100); do
    METRICS=$(sed -n 's/^grc worker: metrics on //p' "$WORKER_LOG")
    [ -n "$METRICS" ] && break
    sleep 0.1
  done
  [ -n "$METRICS" ] || { cat "$WORKER_LOG"; exit 1; }
  echo "   worker $WORKER ($MODE, concurrency $GRC_DELIVERY_CONCURRENCY, pool ${GRC_DATABASE_POOL_SIZE:-16}), metrics on $METRICS"
  last=-1; still=0
  while :; do
    sleep 1
    now=$(date +%s.%N)
    row=$(psql -At -F' ' "$SUPER" -c "SELECT count(*) FILTER (WHERE relayed_at IS NOT NULL) FROM outbox_events" \
      -c "SELECT count(*) FILTER (WHERE status = 'delivered'), count(*) FILTER (WHERE status <> 'delivered') FROM deliveries")
    read -r relayed delivered other <<<"$(echo $row)"
    rss=$(awk '/VmRSS/ { print $2 }' "/proc/$WORKER/status")
    printf '   %5.0f s  fanned out %6s  delivered %6s  other %4s  rss %6s kB\n' \
      "$(echo "$now - $START" | bc)" "$relayed" "$delivered" "$other" "$rss"
    [ "$delivered" -ge "$EVENTS" ] && break
    if [ "$delivered" = "$last" ]; then still=$((still + 1)); else still=0; fi
    last=$delivered
    [ "$still" -ge 30 ] && { echo "   no progress for 30 s"; break; }
    [ "$(echo "$now - $START > $TIMEOUT" | bc)" = 1 ] && { echo "   timed out"; break; }
  done
  SCRAPE=$(mktemp)
  curl -fsS "$METRICS" >"$SCRAPE"
  HWM=$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$WORKER/status")
  WCPU=$(cpu_seconds "$WORKER")
  kill "$WORKER"; wait "$WORKER" 2>/dev/null || true; WORKER=
  P50=$(quantile 0.5 "$SCRAPE"); P99=$(quantile 0.99 "$SCRAPE")
  read -r ATTEMPTS BAD FIRST LAST HTTP50 HTTP99 <<<"$(psql -At -F' ' "$SUPER" -c "
    SELECT count(*), count(*) FILTER (WHERE outcome <> 'delivered'),
           extract(epoch FROM min(attempted_at)), extract(epoch FROM max(attempted_at)),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms),
           percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms)
    FROM delivery_attempts")"
  read -r DELIVERED UNDELIVERED <<<"$(psql -At -F' ' "$SUPER" -c "
    SELECT count(*) FILTER (WHERE status = 'delivered'), count(*) FILTER (WHERE status <> 'delivered')
    FROM deliveries")"
  SPAN=$(echo "$LAST - $FIRST" | bc)
  RATE=$(echo "scale=0; $ATTEMPTS / $SPAN" | bc)
  E2E=$(echo "$LAST - $START" | bc)
  E2E_RATE=$(echo "scale=0; $DELIVERED / $E2E" | bc)
  echo "   scrape: $(grep '^grc_delivery_attempts_total' "$SCRAPE" | tr '\n' ' ')"
  printf '| %s | %s | %s | %.1f s | %s | %.1f s, %s/s | %s / %s | %s / %s ms | %s attempts, %s undelivered | %s MB | %s s |\n' \
    "$MODE" "$GRC_DELIVERY_CONCURRENCY" "$DELIVERED" "$SPAN" "$RATE" "$E2E" "$E2E_RATE" \
    "$P50" "$P99" "$HTTP50" "$HTTP99" "$BAD" "$UNDELIVERED" "$HWM" "$WCPU" | tee -a "$RESULTS"
  if [ "$MODE" = streams ]; then
    redis-cli -u "$REDIS_URL" DEL "$PREFIX:deliveries" >/dev/null || true
    unset GRC_REDIS_URL GRC_REDIS_PREFIX
  fi
done
echo "== receiver: $(curl -fsS "http://127.0.0.1:$SINK_PORT/stats") (cpu $(cpu_seconds "$SINK") s)"
echo "| mode | concurrency | delivered | first to last attempt | deliveries/s | end to end | attempt p50 / p99 (send + record) | HTTP call p50 / p99 | errors | worker peak RSS | worker CPU |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
cat "$RESULTS"
