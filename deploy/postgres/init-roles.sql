-- The two roles grc expects, and its database (docs/DATABASE.md, ADR 0001). Run once, as a
-- superuser, with psql 15 or newer (the file uses psql's \getenv, \if and :'var'):
--   GRC_OWNER_PASSWORD=… GRC_APP_PASSWORD=… psql -U postgres -v ON_ERROR_STOP=1 -f init-roles.sql
-- The postgres image runs it from /docker-entrypoint-initdb.d on an empty data directory only.
--
-- Passwords come from GRC_OWNER_PASSWORD and GRC_APP_PASSWORD when they are set, so that they
-- match the URLs in compose.yaml. The fallbacks below are for a laptop: change them anywhere else.

\getenv owner_password GRC_OWNER_PASSWORD
\if :{?owner_password}
\else
\set owner_password grc_owner
\endif
\getenv app_password GRC_APP_PASSWORD
\if :{?app_password}
\else
\set app_password grc_app
\endif

-- The tables' owner: runs `grc migrate` (GRC_MIGRATION_DATABASE_URL). It owns the database and
-- so, on PostgreSQL 15, its public schema. Not a superuser and cannot bypass row-level security.
CREATE ROLE grc_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS
  PASSWORD :'owner_password';

-- The application role: `grc serve`, `grc worker` and the other commands (GRC_DATABASE_URL).
-- It owns nothing, so FORCE'd row-level security policies always apply to it.
CREATE ROLE grc_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS
  PASSWORD :'app_password';

CREATE DATABASE grc OWNER grc_owner;

\connect grc
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT ALL ON SCHEMA public TO grc_owner;

-- Nothing is granted to grc_app here. After migrating, `grc migrate` (as grc_owner) grants the
-- role named in GRC_DATABASE_URL: USAGE on schema public; SELECT, INSERT, UPDATE, DELETE on the
-- tables, except audit_events, where it gets SELECT and INSERT only; SELECT on seaql_migrations;
-- EXECUTE on the row-level security functions.
