-- +goose Up
-- Same schema as adapters/sqlite/migrations/00008_lawful_basis.sql.
--
-- Consent states (issue 11): a counter or paper authorisation a bank
-- records is pending until the household confirms it or its village clerk
-- countersigns it; only a granted consent is live. Consents recorded before
-- this migration by a bank were never checked by anyone: they become
-- pending too (a bank keeps post-loan monitoring of a drawn line on the
-- contract basis meanwhile); the household's own app consents stay granted.
ALTER TABLE consents ADD COLUMN state TEXT NOT NULL DEFAULT 'granted'
    CHECK (state IN ('pending', 'granted', 'refused'));
ALTER TABLE consents ADD COLUMN confirmed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE consents ADD COLUMN confirm_time TIMESTAMPTZ;
UPDATE consents SET state = 'pending' WHERE channel <> 'app';
UPDATE consents SET confirmed_by = recorded_by, confirm_time = grant_time WHERE channel = 'app';

-- Four-eyes overrides: an override is proposed by one bank principal and
-- takes effect when another approves it; the review stays open meanwhile.
-- proposed_by = '' means no proposal.
ALTER TABLE review_requests ADD COLUMN proposed_limit NUMERIC(17, 2) NOT NULL DEFAULT 0;
ALTER TABLE review_requests ADD COLUMN proposed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE review_requests ADD COLUMN propose_time TIMESTAMPTZ;
ALTER TABLE review_requests ADD COLUMN proposal_justification TEXT NOT NULL DEFAULT '';

-- Re-assessment marks are claimed FOR UPDATE SKIP LOCKED and cleared in the
-- assessment's own transaction. A change marking a household now upserts
-- its mark (a no-op update that takes the row lock) instead of skipping an
-- existing one: while a re-assessor holds the mark the change waits and
-- marks the household anew after it, and while the change is uncommitted
-- the re-assessor skips the household; either way the change is assessed.
-- (SQLite has one writer: its transactions never interleave.)
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION reassess_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM credit_lines WHERE household_id = NEW.household_id AND status <> 'closed') THEN
        INSERT INTO reassess_due (household_id, since) VALUES (NEW.household_id, now())
        ON CONFLICT (household_id) DO UPDATE SET since = reassess_due.since;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION reassess_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM credit_lines WHERE household_id = NEW.household_id AND status <> 'closed') THEN
        INSERT INTO reassess_due (household_id, since) VALUES (NEW.household_id, now())
        ON CONFLICT (household_id) DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
ALTER TABLE review_requests DROP COLUMN proposal_justification;
ALTER TABLE review_requests DROP COLUMN propose_time;
ALTER TABLE review_requests DROP COLUMN proposed_by;
ALTER TABLE review_requests DROP COLUMN proposed_limit;
ALTER TABLE consents DROP COLUMN confirm_time;
ALTER TABLE consents DROP COLUMN confirmed_by;
ALTER TABLE consents DROP COLUMN state;
