-- Least-privilege PostgreSQL roles for sanzhi (docs/OPERATIONS.md,
-- "Production PostgreSQL").
--
--   sanzhi_migrator  owns the schema and everything in it; the only role
--                    with DDL. `sanzhi migrate` runs as it, nothing else.
--   sanzhi_app       what sanzhid runs as: DML on the tables, no DDL, no
--                    TRUNCATE; only INSERT and SELECT on the tables that
--                    are append-only (the audit log, the points ledger,
--                    facts versions, decisions, transactions, the outboxes,
--                    photos).
--   sanzhi_auditor   read-only, and only the audit log: what `sanzhi audit
--                    verify` and `sanzhi audit export` read. It cannot read
--                    households (names, sealed 身份证号).
--
-- Run it as a superuser (the DBA), connected to the service's database,
-- before the first `sanzhi migrate` and again after every migration: it is
-- idempotent, and the second run grants on the tables the migrations made.
--
--   psql -v ON_ERROR_STOP=1 -d sanzhi -f deploy/postgres/roles.sql
--   sanzhi migrate --database 'postgres://sanzhi_migrator@db/sanzhi?sslmode=verify-full&sslrootcert=…'
--   psql -v ON_ERROR_STOP=1 -d sanzhi -f deploy/postgres/roles.sql
--
-- Variables (psql -v NAME=VALUE), with their defaults:
--   schema=sanzhi   the schema the tables live in (public works too)
--   migrator=sanzhi_migrator  app=sanzhi_app  auditor=sanzhi_auditor
--   roles_only=off  on: create the roles and stop (roles are cluster-wide;
--                   restore.sh --roles uses it before pg_restore)
--
-- The roles get LOGIN and no password: set one (\password sanzhi_app) or
-- authenticate them by certificate (pg_hba.conf "hostssl … cert").
-- Each role's search_path is set to the schema, so the service's database
-- URLs need none. Any other role that runs sanzhi (a superuser, say) must
-- name the schema itself: …?options=-csearch_path%3Dsanzhi.

\set ON_ERROR_STOP on
SET client_min_messages = warning;
\if :{?schema}
\else
  \set schema sanzhi
\endif
\if :{?migrator}
\else
  \set migrator sanzhi_migrator
\endif
\if :{?app}
\else
  \set app sanzhi_app
\endif
\if :{?auditor}
\else
  \set auditor sanzhi_auditor
\endif
\if :{?roles_only}
\else
  \set roles_only off
\endif

-- The roles: created when missing, and held to least privilege each run.
SELECT format('CREATE ROLE %I', r)
  FROM unnest(ARRAY[:'migrator', :'app', :'auditor']) AS r
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r)
\gexec
ALTER ROLE :"migrator" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE :"app"      WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE :"auditor"  WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
-- Set on the role, not IN DATABASE: it survives dropping and restoring
-- the database (restore.sh), and a restore under another name.
ALTER ROLE :"migrator" SET search_path = :"schema";
ALTER ROLE :"app"      SET search_path = :"schema";
ALTER ROLE :"auditor"  SET search_path = :"schema";
\if :roles_only
  \quit
\endif

-- The database: only these roles connect (superusers always can).
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database())
\gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I, %I, %I', current_database(), :'migrator', :'app', :'auditor')
\gexec
-- PostgreSQL 14 and older let every role create objects in public.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- The schema belongs to the migrator: it alone creates, alters and drops.
CREATE SCHEMA IF NOT EXISTS :"schema" AUTHORIZATION :"migrator";
ALTER SCHEMA :"schema" OWNER TO :"migrator";
REVOKE ALL ON SCHEMA :"schema" FROM PUBLIC;
GRANT USAGE ON SCHEMA :"schema" TO :"app", :"auditor";

-- Tables the migrator creates from now on: the app's DML comes with them.
-- (An append-only table a new migration adds gets its UPDATE and DELETE
-- taken away below, when this script runs after the migration.)
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrator" IN SCHEMA :"schema"
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrator" IN SCHEMA :"schema"
  GRANT USAGE, SELECT ON SEQUENCES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrator" IN SCHEMA :"schema"
  GRANT EXECUTE ON FUNCTIONS TO :"app";

-- Tables that exist now. Each run starts from the full grant, so a table
-- that leaves a list below gets its rights back.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"schema" TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA :"schema" TO :"app";
-- The trigger functions (append-only guards, re-assessment marks) run as
-- the caller; EXECUTE is PUBLIC's by default, granted here in case a DBA
-- has revoked it.
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA :"schema" TO :"app";

-- Append-only for the app: rows are added, never changed or removed. The
-- triggers of 00004 and 00009 refuse it too; the grants are the second
-- line, and hold for the tables that have no trigger. adapters/postgres
-- TestAppendOnlyTablesAreNeverChanged reads this list and fails if the
-- store's SQL updates, deletes or locks one of them.
-- append-only:
SELECT format('REVOKE UPDATE, DELETE, TRUNCATE ON TABLE %I.%I FROM %I', :'schema', t, :'app')
  FROM unnest(ARRAY['audit_leaves', 'audit_nodes', 'audit_checkpoints', 'ledger_entries',
                    'household_facts', 'credit_decisions', 'line_transactions', 'line_events',
                    'domain_events', 'evidence_photos', 'shop_arrivals', 'shop_receipts', 'dividend_lines',
                    'loan_status_reports', 'policy_gate_reports', 'shadow_decisions']) AS t
 WHERE to_regclass(format('%I.%I', :'schema', t)) IS NOT NULL
\gexec
-- The sequencer's two changes: it deletes the queue rows it has appended
-- to the log, and moves the one head row forward.
SELECT format('REVOKE UPDATE ON TABLE %I.audit_queue FROM %I', :'schema', :'app')
 WHERE to_regclass(format('%I.audit_queue', :'schema')) IS NOT NULL
\gexec
SELECT format('REVOKE INSERT, DELETE ON TABLE %I.audit_head FROM %I', :'schema', :'app')
 WHERE to_regclass(format('%I.audit_head', :'schema')) IS NOT NULL
\gexec
-- The migrations' own record: the app and the auditor read it (sanzhid
-- --no-migrate refuses to start on a schema that is behind), only the
-- migrator writes it.
SELECT format('REVOKE INSERT, UPDATE, DELETE ON TABLE %I.goose_db_version FROM %I', :'schema', :'app')
 WHERE to_regclass(format('%I.goose_db_version', :'schema')) IS NOT NULL
\gexec

-- The auditor reads the log and the migrations' record, nothing else
-- (not even the queue of records not yet in the log).
SELECT format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', :'schema', :'auditor')
\gexec
SELECT format('GRANT SELECT ON TABLE %I.%I TO %I', :'schema', t, :'auditor')
  FROM unnest(ARRAY['audit_leaves', 'audit_nodes', 'audit_checkpoints', 'audit_head',
                    'goose_db_version']) AS t
 WHERE to_regclass(format('%I.%I', :'schema', t)) IS NOT NULL
\gexec
