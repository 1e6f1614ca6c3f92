-- +goose Up
-- Same data as adapters/postgres/migrations/00025_sheet_newest_first.sql,
-- which also puts the columns in another order for PostgreSQL's WAL.
-- Issue 19: a posting now puts its lines at the front of the sheet's tail,
-- newest first, and a fold moves the tail into entries as a run of lines
-- newest first behind a line '~' (adapters/sqlstore/sheet.go). On
-- PostgreSQL an update that stays on its page then logs about the
-- posting's own lines rather than the whole tail; SQLite keeps the same
-- form, as every reader of either reads it. Tails written before this are
-- oldest first: they are moved into entries here, in their order, so that
-- every tail read from now on is of the new kind.
UPDATE household_points SET entries = entries || tail, tail = '' WHERE tail <> '';

-- +goose Down
-- Every run turned back and the tail moved into entries, which is then
-- oldest first throughout, as before. The split copies what is left of a
-- sheet at each line, so it takes time in the square of a sheet's length:
-- fine for stepping back, which only the tests do.
WITH RECURSIVE split (household_id, rest, line, n) AS (
    SELECT household_id, entries || '~' || char(10) || tail, NULL, 0 FROM household_points
    WHERE tail <> '' OR instr(entries, char(10) || '~' || char(10)) > 0
    UNION ALL
    SELECT household_id, substr(rest, instr(rest, char(10)) + 1), substr(rest, 1, instr(rest, char(10)) - 1), n + 1
    FROM split WHERE rest <> ''
),
lines AS (
    SELECT household_id, line, n, sum(line = '~') OVER (PARTITION BY household_id ORDER BY n) AS run
    FROM split WHERE n > 0
),
turned AS (
    SELECT household_id, group_concat(line || char(10), '' ORDER BY run, CASE WHEN run = 0 THEN n ELSE -n END) AS text
    FROM lines WHERE line <> '~' GROUP BY household_id
)
UPDATE household_points SET entries = (SELECT text FROM turned WHERE turned.household_id = household_points.household_id), tail = ''
WHERE household_id IN (SELECT household_id FROM turned);
