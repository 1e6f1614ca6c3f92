-- +goose Up
-- Same schema as adapters/postgres/migrations/00008_lawful_basis.sql.
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
ALTER TABLE consents ADD COLUMN confirm_time TEXT;
UPDATE consents SET state = 'pending' WHERE channel <> 'app';
UPDATE consents SET confirmed_by = recorded_by, confirm_time = grant_time WHERE channel = 'app';

-- Four-eyes overrides: an override is proposed by one bank principal and
-- takes effect when another approves it; the review stays open meanwhile.
-- proposed_by = '' means no proposal.
ALTER TABLE review_requests ADD COLUMN proposed_limit TEXT NOT NULL DEFAULT '0';
ALTER TABLE review_requests ADD COLUMN proposed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE review_requests ADD COLUMN propose_time TEXT;
ALTER TABLE review_requests ADD COLUMN proposal_justification TEXT NOT NULL DEFAULT '';

-- (The PostgreSQL twin also makes its re-assessment trigger upsert marks,
-- for FOR UPDATE SKIP LOCKED claims; SQLite has one writer and needs no
-- change.)

-- +goose Down
ALTER TABLE review_requests DROP COLUMN proposal_justification;
ALTER TABLE review_requests DROP COLUMN propose_time;
ALTER TABLE review_requests DROP COLUMN proposed_by;
ALTER TABLE review_requests DROP COLUMN proposed_limit;
ALTER TABLE consents DROP COLUMN confirm_time;
ALTER TABLE consents DROP COLUMN confirmed_by;
ALTER TABLE consents DROP COLUMN state;
