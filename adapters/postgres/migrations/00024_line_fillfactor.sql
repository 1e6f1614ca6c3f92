-- +goose Up
-- Issue 19: credit_lines pages are filled only half on insert, so that
-- each line's next version fits beside it on its own page, and an update
-- that changes no indexed column (a re-assessment's new limit, rate and
-- decision; a drawdown's drawn) is a heap-only tuple: no new entry in any
-- of the table's five indexes. Filled to the brim, an update of a million
-- lines moved every line to another page and wrote five index entries for
-- each; 1 % of the updates were heap-only. Half-filled, every one was, the
-- table stopped growing with each run, and a million-line update run took
-- 55-58 s in place of 64-70 s (BENCHMARKS.md, "Issue 19, 2026-12-06,
-- third session"). The price is space before the first update: a million
-- lines and their indexes took 784 MB in place of 534 MB after opening,
-- and after an update 784 MB in place of 1,003 MB.
--
-- The setting applies to pages written from now on. Lines stored before it
-- keep their full pages until the table is rewritten (docs/OPERATIONS.md,
-- "Upgrades").
ALTER TABLE credit_lines SET (fillfactor = 50);

-- +goose Down
ALTER TABLE credit_lines RESET (fillfactor);
