-- +goose Up
-- Same schema as adapters/postgres/migrations/00016_sealed_key_idx.sql.
-- Data-key rotation (sanzhi rekey, docs/OPERATIONS.md) finds sealed
-- 身份证号 by the key that sealed them: sanzhid lists the key ids in use at
-- every start (one index probe per key id), `sanzhi rekey --status` counts
-- the values per key id, and a rekey batch is the next values under an old
-- key in primary-key order (one index range). Without these indexes each
-- of those reads every row. The webhook table has a row per bank and
-- needs none.
CREATE INDEX households_head_id_key_idx ON households (head_id_key, id);
CREATE INDEX household_members_id_key_idx ON household_members (id_key, household_id, version, member_no);

-- +goose Down
DROP INDEX household_members_id_key_idx;
DROP INDEX households_head_id_key_idx;
