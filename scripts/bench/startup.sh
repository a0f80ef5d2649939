#!/usr/bin/env bash
# Measures `grc serve --demo` from launch to the first healthy answer, on a fresh embedded
# (SQLite) data directory, with the release build. Prints milliseconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=target/release/grc
DIR=$(mktemp -d)
start=$(date +%s%N)
GRC_DATA_DIR="$DIR" RUST_LOG=warn $BIN serve --demo --bind 127.0.0.1:18182 >/dev/null 2>&1 &
PID=$!
until curl -sf http://127.0.0.1:18182/healthz >/dev/null 2>&1; do sleep 0.005; done
end=$(date +%s%N)
kill $PID; wait $PID 2>/dev/null || true
echo "fresh start with demo seeding: $(( (end - start) / 1000000 )) ms"
start=$(date +%s%N)
GRC_DATA_DIR="$DIR" RUST_LOG=warn $BIN serve --demo --bind 127.0.0.1:18182 >/dev/null 2>&1 &
PID=$!
until curl -sf http://127.0.0.1:18182/healthz >/dev/null 2>&1; do sleep 0.005; done
end=$(date +%s%N)
kill $PID; wait $PID 2>/dev/null || true
echo "restart on the seeded directory: $(( (end - start) / 1000000 )) ms"
rm -rf "$DIR"
