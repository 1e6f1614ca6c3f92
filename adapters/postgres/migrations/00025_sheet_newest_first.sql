-- +goose Up
-- Same data as adapters/sqlite/migrations/00024_sheet_newest_first.sql; the
-- columns are in another order here, which only PostgreSQL's WAL sees.
-- Issue 19: a posting now puts its lines at the front of the sheet's tail,
-- newest first, and a fold moves the tail into entries as a run of lines
-- newest first behind a line '~' (adapters/sqlstore/sheet.go).
--
-- Why: PostgreSQL logs an update that stays on its page as the bytes of the
-- new row between what it shares with the old row at the start and at the
-- end. A posting changes version and entry_count, so the start stops there,
-- and everything after them up to the common end is logged: entries, stored
-- in the row itself while the sheet is small, and the whole tail, which grew
-- at its end. With entries before version, and tail growing at its front, a
-- posting logs about its own lines: 414 bytes in place of 1,121 for a
-- posting to the benchmark's households (BENCHMARKS.md, issue 19). Columns
-- cannot be reordered in place, so the table is made again: the rows are
-- copied with their tails, which are oldest first, moved into entries in
-- their order, so that every tail read from now on is of the new kind.
-- This rewrites every sheet and locks the table while it runs; no sanzhid
-- of an earlier release may run beside it (docs/OPERATIONS.md, "Upgrades").
CREATE TABLE household_points_new (
    household_id TEXT PRIMARY KEY REFERENCES households (id),
    village_code TEXT NOT NULL,
    entries      TEXT NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    entry_count  INTEGER NOT NULL,
    tail         TEXT NOT NULL DEFAULT ''
);
INSERT INTO household_points_new (household_id, village_code, entries, version, entry_count, tail)
    SELECT household_id, village_code, entries || tail, version, entry_count, '' FROM household_points;
DROP TABLE household_points;
ALTER TABLE household_points_new RENAME TO household_points;
ALTER TABLE household_points RENAME CONSTRAINT household_points_new_pkey TO household_points_pkey;
ALTER TABLE household_points RENAME CONSTRAINT household_points_new_household_id_fkey TO household_points_household_id_fkey;
ALTER TABLE household_points RENAME CONSTRAINT household_points_new_version_check TO household_points_version_check;
CREATE TRIGGER household_points_reassess AFTER INSERT OR UPDATE ON household_points
    FOR EACH ROW EXECUTE FUNCTION reassess_mark();

-- +goose Down
-- Every run turned back and the tail moved into entries, which is then
-- oldest first throughout, as before. The columns keep their new order,
-- which nothing reads by position.
UPDATE household_points p SET entries = s.text, tail = ''
FROM (
    SELECT household_id, string_agg(line || E'\n', '' ORDER BY run, CASE WHEN run = 0 THEN n ELSE -n END) AS text
    FROM (
        SELECT household_id, line, n, count(*) FILTER (WHERE line = '~') OVER (PARTITION BY household_id ORDER BY n) AS run
        FROM household_points,
             unnest(string_to_array(rtrim(entries || E'~\n' || tail, E'\n'), E'\n')) WITH ORDINALITY AS l (line, n)
    ) lines
    WHERE line <> '~'
    GROUP BY household_id
) s
WHERE s.household_id = p.household_id AND (p.tail <> '' OR strpos(p.entries, E'\n~\n') > 0);
