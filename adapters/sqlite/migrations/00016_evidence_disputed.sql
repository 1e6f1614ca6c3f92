-- +goose Up
-- Same schema as adapters/postgres/migrations/00015_evidence_disputed.sql.
-- The 公示 board lists what is on notice: posted entries whose notice has
-- not ended (evidence_board_idx finds them) and disputed ones, newest
-- first. Disputed entries are few; without an index of their own, ordered
-- by id, the board read every entry of the village to find them.
CREATE INDEX evidence_disputed_idx ON evidence (village_code, id DESC) WHERE state = 'disputed';

-- +goose Down
DROP INDEX evidence_disputed_idx;
