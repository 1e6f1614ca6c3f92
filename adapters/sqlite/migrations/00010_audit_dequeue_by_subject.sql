-- +goose Up
-- The dequeue check of 00009 looks for the leaf a queued record became
-- past the tree head. SQLite planned it on audit_leaves_time_idx, so a
-- batch of records sharing one time (a batch re-assessment writes one
-- credit.assess record per decision, all at the page's decision time)
-- made every row's check scan the whole batch: quadratic in the batch,
-- about 2 s to sequence 2,000 such records. The rule is unchanged; the
-- unary + keeps time, actor and action off their indexes so the check
-- searches audit_leaves_subject_idx (subject, seq) from the head.
DROP TRIGGER audit_queue_dequeue_only;
-- +goose StatementBegin
CREATE TRIGGER audit_queue_dequeue_only BEFORE DELETE ON audit_queue
WHEN NOT EXISTS (SELECT 1 FROM audit_leaves
                 WHERE subject = OLD.subject
                   AND seq >= (SELECT size FROM audit_head WHERE id = 1)
                   AND +actor = OLD.actor AND +action = OLD.action AND +time = OLD.time)
BEGIN
    SELECT RAISE(ABORT, 'audit_queue: DELETE refused: only the sequencer removes a record, in the transaction that appends its leaf');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_queue_dequeue_only;
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
