-- +goose Up
-- Same schema as adapters/postgres/migrations/00019_loan_status.sql.
-- Issue 16: what happened to the loans, and who borrows.
--
-- The banks' loan status reports (ReportLoanStatus), one row each, never
-- changed: as of a day, the days past due, principal and interest
-- overdue (TEXT yuan, whole fen, never negative), the 五级分类 and the
-- default, write-off and settlement flags. seq numbers a line's reports
-- in the order they were recorded (taken under the line's lock), so the
-- latest of a day is well defined; (bank, event_id) is the bank's
-- idempotency key. lending/loanstatus.go holds the rules; the CHECKs
-- below are only what a row alone must satisfy.
CREATE TABLE loan_status_reports (
    line_id           TEXT NOT NULL REFERENCES credit_lines (id),
    seq               INTEGER NOT NULL CHECK (seq > 0),
    bank              TEXT NOT NULL,
    event_id          TEXT NOT NULL,
    village_code      TEXT NOT NULL,
    household_id      TEXT NOT NULL,
    as_of             TEXT NOT NULL,
    days_past_due     INTEGER NOT NULL CHECK (days_past_due BETWEEN 0 AND 36500),
    overdue_principal TEXT NOT NULL CHECK (substr(overdue_principal, 1, 1) <> '-'),
    overdue_interest  TEXT NOT NULL CHECK (substr(overdue_interest, 1, 1) <> '-'),
    classification    TEXT NOT NULL CHECK (classification IN ('normal', 'special_mention', 'substandard', 'doubtful', 'loss')),
    defaulted         INTEGER NOT NULL,
    written_off       INTEGER NOT NULL,
    settled           INTEGER NOT NULL,
    request_hash      TEXT NOT NULL,
    recorded_by       TEXT NOT NULL,
    time              TEXT NOT NULL,
    PRIMARY KEY (line_id, seq),
    UNIQUE (bank, event_id)
) STRICT;
-- An assessment reads a household's reports; a re-assessment page a
-- range of households.
CREATE INDEX loan_status_reports_household_idx ON loan_status_reports (household_id, line_id, seq);

-- Who borrows: the member an assessment names (1, the head, for every
-- decision and line before this), and when a decision is due for review
-- (a policy's line.review_months; NULL under decision_valid_days).
ALTER TABLE credit_decisions ADD COLUMN applicant_member INTEGER NOT NULL DEFAULT 1 CHECK (applicant_member > 0);
ALTER TABLE credit_decisions ADD COLUMN review_on TEXT;
ALTER TABLE credit_lines ADD COLUMN applicant_member INTEGER NOT NULL DEFAULT 1 CHECK (applicant_member > 0);
ALTER TABLE credit_lines ADD COLUMN review_on TEXT;
-- The re-assessor's sweep finds the lines whose review has come.
CREATE INDEX credit_lines_review_idx ON credit_lines (review_on) WHERE review_on IS NOT NULL;

-- +goose Down
DROP INDEX credit_lines_review_idx;
ALTER TABLE credit_lines DROP COLUMN review_on;
ALTER TABLE credit_lines DROP COLUMN applicant_member;
ALTER TABLE credit_decisions DROP COLUMN review_on;
ALTER TABLE credit_decisions DROP COLUMN applicant_member;
DROP TABLE loan_status_reports;
