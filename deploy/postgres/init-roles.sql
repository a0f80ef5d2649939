-- The two roles grc expects (docs/DATABASE.md). Change the passwords.
CREATE ROLE grc_owner LOGIN PASSWORD 'grc_owner' NOSUPERUSER NOCREATEROLE NOBYPASSRLS;
CREATE ROLE grc_app   LOGIN PASSWORD 'grc_app'   NOSUPERUSER NOCREATEROLE NOBYPASSRLS;
CREATE DATABASE grc OWNER grc_owner;
\connect grc
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT ALL ON SCHEMA public TO grc_owner;
-- `grc migrate` (as grc_owner) creates the tables and grants grc_app what it needs:
-- SELECT, INSERT, UPDATE, DELETE on the tables; only SELECT, INSERT on audit_events.
