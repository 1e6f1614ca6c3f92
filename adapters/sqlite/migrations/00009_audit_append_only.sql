-- +goose Up
-- Same rules as adapters/postgres/migrations/00008_audit_append_only.sql:
-- the audit tables are append-only; the sequencer may delete a queue row
-- only while its leaf sits past the tree head (the transaction that just
-- appended it), and move the head only forward, to the number of stored
-- leaves. SQLite has no TRUNCATE: a DELETE without WHERE fires these
-- triggers row by row. Anyone who can write the file can drop them; the
-- Merkle tree and signed checkpoints still expose a rewrite.

-- +goose StatementBegin
CREATE TRIGGER audit_leaves_no_update BEFORE UPDATE ON audit_leaves
BEGIN
    SELECT RAISE(ABORT, 'audit_leaves is append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_leaves_no_delete BEFORE DELETE ON audit_leaves
BEGIN
    SELECT RAISE(ABORT, 'audit_leaves is append-only: DELETE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_nodes_no_update BEFORE UPDATE ON audit_nodes
BEGIN
    SELECT RAISE(ABORT, 'audit_nodes is append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_nodes_no_delete BEFORE DELETE ON audit_nodes
BEGIN
    SELECT RAISE(ABORT, 'audit_nodes is append-only: DELETE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only: DELETE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'audit_head is append-only: DELETE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_queue_no_update BEFORE UPDATE ON audit_queue
BEGIN
    SELECT RAISE(ABORT, 'audit_queue is append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_queue_dequeue_only BEFORE DELETE ON audit_queue
WHEN NOT EXISTS (SELECT 1 FROM audit_leaves
                 WHERE subject = OLD.subject
                   AND seq >= (SELECT size FROM audit_head WHERE id = 1)
                   AND actor = OLD.actor AND action = OLD.action AND time = OLD.time)
BEGIN
    SELECT RAISE(ABORT, 'audit_queue: DELETE refused: only the sequencer removes a record, in the transaction that appends its leaf');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_head_advance_only BEFORE UPDATE ON audit_head
WHEN NEW.id <> OLD.id OR NEW.size <= OLD.size
     OR NEW.size - 1 IS NOT (SELECT max(seq) FROM audit_leaves)
BEGIN
    SELECT RAISE(ABORT, 'audit_head: UPDATE refused: the head only moves forward, to the number of stored leaves');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_head_advance_only;
DROP TRIGGER audit_queue_dequeue_only;
DROP TRIGGER audit_queue_no_update;
DROP TRIGGER audit_head_no_delete;
DROP TRIGGER audit_checkpoints_no_delete;
DROP TRIGGER audit_checkpoints_no_update;
DROP TRIGGER audit_nodes_no_delete;
DROP TRIGGER audit_nodes_no_update;
DROP TRIGGER audit_leaves_no_delete;
DROP TRIGGER audit_leaves_no_update;
