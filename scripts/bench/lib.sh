# Shared set-up for the benchmark scripts (source it): a fresh PostgreSQL database `grc_bench`
# with an owner and an application role (row-level security on), and the environment for the
# release build to use it. Needs PostgreSQL with a superuser at GRC_TEST_PG_URL (default
# postgres://postgres@127.0.0.1:5432/postgres).
BIN=target/release/grc
PG="${GRC_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

psql -q "$PG" <<'SQL'
DROP DATABASE IF EXISTS grc_bench WITH (FORCE);
DO $$ BEGIN CREATE ROLE grc_bench_owner LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE grc_bench_app LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE DATABASE grc_bench OWNER grc_bench_owner;
SQL
HOSTPART="${PG#postgres://*@}"; HOSTPART="${HOSTPART%%/*}"
export GRC_DATABASE_URL="postgres://grc_bench_app@${HOSTPART}/grc_bench"
export GRC_MIGRATION_DATABASE_URL="postgres://grc_bench_owner@${HOSTPART}/grc_bench"
export GRC_JWT_SECRET="bench-secret-0123456789abcdef0123456789abcdef"
export GRC_DATA_DIR="$(mktemp -d)"
export GRC_RATE_LIMIT_PER_MINUTE=1000000000
export RUST_LOG=warn
