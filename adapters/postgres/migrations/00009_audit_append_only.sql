-- +goose Up
-- The audit log is append-only in the database too, as the points ledger
-- is (00004): UPDATE, DELETE and TRUNCATE are refused on every audit
-- table. The sequencer's two legitimate changes are allowed as precise
-- transitions, not by a switch anyone could flip:
--   * a queue row may be deleted only while its leaf (same time, actor,
--     action, subject) sits past the tree head, i.e. in the transaction
--     that has just appended it and not yet moved the head;
--   * the head row may only move forward, to exactly the number of
--     stored leaves.
-- A role with DDL rights can still drop these triggers; the Merkle tree
-- and the signed checkpoints then still expose any rewrite (docs/AUDIT.md).

-- +goose StatementBegin
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_leaves_no_change BEFORE UPDATE OR DELETE ON audit_leaves
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_leaves_no_truncate BEFORE TRUNCATE ON audit_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_nodes_no_change BEFORE UPDATE OR DELETE ON audit_nodes
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_nodes_no_truncate BEFORE TRUNCATE ON audit_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_queue_no_update BEFORE UPDATE ON audit_queue
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_queue_no_truncate BEFORE TRUNCATE ON audit_queue
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- One set-based check per DELETE statement (the sequencer deletes its
-- batch in one statement, and its leaves are exactly [head, head + n)):
-- a per-row check, or a join the planner cannot size inside the
-- transaction, cost the sequencer 3-4x.
-- +goose StatementBegin
CREATE FUNCTION audit_queue_dequeue() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head BIGINT := (SELECT size FROM audit_head WHERE id = 1);
    n    BIGINT := (SELECT count(*) FROM gone);
BEGIN
    IF EXISTS (SELECT subject, actor, action, time FROM gone
               EXCEPT
               SELECT subject, actor, action, time FROM audit_leaves
               WHERE seq >= head AND seq < head + n) THEN
        RAISE EXCEPTION 'audit_queue: DELETE refused: only the sequencer removes a record, in the transaction that appends its leaf';
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_queue_dequeue_only AFTER DELETE ON audit_queue
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION audit_queue_dequeue();

-- +goose StatementBegin
CREATE FUNCTION audit_head_advance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.size <= OLD.size
       OR NEW.size - 1 IS DISTINCT FROM (SELECT max(seq) FROM audit_leaves) THEN
        RAISE EXCEPTION 'audit_head: UPDATE refused: the head only moves forward, to the number of stored leaves';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_head_advance_only BEFORE UPDATE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_advance();

-- +goose Down
DROP TRIGGER audit_head_advance_only ON audit_head;
DROP FUNCTION audit_head_advance();
DROP TRIGGER audit_queue_dequeue_only ON audit_queue;
DROP FUNCTION audit_queue_dequeue();
DROP TRIGGER audit_queue_no_truncate ON audit_queue;
DROP TRIGGER audit_queue_no_update ON audit_queue;
DROP TRIGGER audit_head_no_truncate ON audit_head;
DROP TRIGGER audit_head_no_delete ON audit_head;
DROP TRIGGER audit_checkpoints_no_truncate ON audit_checkpoints;
DROP TRIGGER audit_checkpoints_no_change ON audit_checkpoints;
DROP TRIGGER audit_nodes_no_truncate ON audit_nodes;
DROP TRIGGER audit_nodes_no_change ON audit_nodes;
DROP TRIGGER audit_leaves_no_truncate ON audit_leaves;
DROP TRIGGER audit_leaves_no_change ON audit_leaves;
DROP FUNCTION audit_append_only();
