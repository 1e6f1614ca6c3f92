-- +goose Up
-- Same schema as adapters/sqlite/migrations/00024_sheet_newest_first.sql.
-- Issue 19: a posting now puts its lines at the front of the sheet's tail,
-- newest first, and a fold moves the tail into entries as a run of lines
-- newest first behind a line '~' (adapters/sqlstore/sheet.go). An update
-- that stays on its page then logs about the posting's own lines rather
-- than the whole tail. Tails written before this are oldest first: they
-- are moved into entries here, in their order, so that every tail read
-- from now on is of the new kind.
UPDATE household_points SET entries = entries || tail, tail = '' WHERE tail <> '';

-- +goose Down
-- Every run turned back and the tail moved into entries, which is then
-- oldest first throughout, as before.
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
