-- +goose Up
-- Same schema as adapters/sqlite/migrations/00015_bank_console.sql.
-- The bank console (issue 15): a line's history and a bank's inbox read
-- line events newest first, by line; and a review may be opened by a
-- bank officer as well as asked for by the household ('household' or
-- 'bank'), which decides whether an open one is the household's own ask.
CREATE INDEX line_events_line_idx ON line_events (bank, line_id, seq);
ALTER TABLE review_requests ADD COLUMN requester TEXT NOT NULL DEFAULT 'household'
    CHECK (requester IN ('household', 'bank'));

-- +goose Down
ALTER TABLE review_requests DROP COLUMN requester;
DROP INDEX line_events_line_idx;
