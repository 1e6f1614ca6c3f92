-- +goose Up
-- Issue 19: a credit line names the decision that set it
-- (credit_lines.decision_id). The foreign key checked that row by row: for
-- each line written, a query of credit_decisions and a KEY SHARE lock on
-- the decision's row, written to the WAL. A batch re-assessment writes a
-- million lines, and the check was about a third of its line upserts'
-- time in PostgreSQL (BENCHMARKS.md, "Issue 19, 2026-12-06, second
-- session"). The check is now made once per statement, over the
-- statement's new rows, by the triggers below; an INSERT … ON CONFLICT DO
-- UPDATE fires both. The error is the foreign key's: SQLSTATE 23503,
-- constraint credit_lines_decision_id_fkey.
--
-- What the lock protected against, a decision removed under a line, cannot
-- happen to the app: credit_decisions is append-only for it
-- (deploy/postgres/roles.sql revokes UPDATE, DELETE and TRUNCATE). For a
-- role that may delete, credit_decisions_named refuses to delete a
-- decision a line still names. SQLite keeps its foreign key: there it
-- costs an index probe and no lock.
-- +goose StatementBegin
CREATE FUNCTION credit_lines_decision_stored() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  missing text;
BEGIN
  SELECT n.decision_id INTO missing FROM new_lines n
   WHERE NOT EXISTS (SELECT 1 FROM credit_decisions d WHERE d.id = n.decision_id)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'insert or update on table "credit_lines" violates foreign key constraint "credit_lines_decision_id_fkey"'
      USING ERRCODE = 'foreign_key_violation', TABLE = 'credit_lines', CONSTRAINT = 'credit_lines_decision_id_fkey',
            DETAIL = format('Key (decision_id)=(%s) is not present in table "credit_decisions".', missing);
  END IF;
  RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION credit_decisions_named() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  named text;
BEGIN
  -- As the foreign key did: a decision's id may not go (deleted, or
  -- changed by an update) while a line names it.
  IF TG_OP = 'DELETE' THEN
    SELECT o.id INTO named FROM old_decisions o
     WHERE EXISTS (SELECT 1 FROM credit_lines l WHERE l.decision_id = o.id)
     LIMIT 1;
  ELSE
    SELECT o.id INTO named FROM old_decisions o
     WHERE NOT EXISTS (SELECT 1 FROM new_decisions n WHERE n.id = o.id)
       AND EXISTS (SELECT 1 FROM credit_lines l WHERE l.decision_id = o.id)
     LIMIT 1;
  END IF;
  IF FOUND THEN
    RAISE EXCEPTION 'update or delete on table "credit_decisions" violates foreign key constraint "credit_lines_decision_id_fkey" on table "credit_lines"'
      USING ERRCODE = 'foreign_key_violation', TABLE = 'credit_decisions', CONSTRAINT = 'credit_lines_decision_id_fkey',
            DETAIL = format('Key (id)=(%s) is still referenced from table "credit_lines".', named);
  END IF;
  RETURN NULL;
END $$;
-- +goose StatementEnd
-- Transition tables take one event per trigger, hence two per table.
CREATE TRIGGER credit_lines_decision_inserted AFTER INSERT ON credit_lines
  REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION credit_lines_decision_stored();
CREATE TRIGGER credit_lines_decision_updated AFTER UPDATE ON credit_lines
  REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION credit_lines_decision_stored();
CREATE TRIGGER credit_decisions_named_deleted AFTER DELETE ON credit_decisions
  REFERENCING OLD TABLE AS old_decisions FOR EACH STATEMENT EXECUTE FUNCTION credit_decisions_named();
CREATE TRIGGER credit_decisions_named_updated AFTER UPDATE ON credit_decisions
  REFERENCING OLD TABLE AS old_decisions NEW TABLE AS new_decisions FOR EACH STATEMENT EXECUTE FUNCTION credit_decisions_named();
ALTER TABLE credit_lines DROP CONSTRAINT credit_lines_decision_id_fkey;

-- +goose Down
ALTER TABLE credit_lines ADD CONSTRAINT credit_lines_decision_id_fkey
  FOREIGN KEY (decision_id) REFERENCES credit_decisions (id);
DROP TRIGGER credit_decisions_named_updated ON credit_decisions;
DROP TRIGGER credit_decisions_named_deleted ON credit_decisions;
DROP TRIGGER credit_lines_decision_updated ON credit_lines;
DROP TRIGGER credit_lines_decision_inserted ON credit_lines;
DROP FUNCTION credit_decisions_named();
DROP FUNCTION credit_lines_decision_stored();
