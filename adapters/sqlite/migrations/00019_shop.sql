-- +goose Up
-- Same schema as adapters/postgres/migrations/00018_shop.sql.
-- The 兑换超市 (scoring/shop, docs/SHOP.md). A village's goods: the stock
-- is a counter that a redemption lowers with a conditional UPDATE (stock
-- >= n), and the CHECK is the last line that keeps it from going below
-- zero. version counts edits of the catalogue line, not stock changes.
CREATE TABLE shop_goods (
    village_code TEXT NOT NULL CHECK (length(village_code) = 12),
    code         TEXT NOT NULL,
    name_zh      TEXT NOT NULL,
    name_en      TEXT NOT NULL,
    unit         TEXT NOT NULL,
    price        TEXT NOT NULL,
    stock        INTEGER NOT NULL CHECK (stock >= 0),
    archived     INTEGER NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    created_by   TEXT NOT NULL,
    create_time  TEXT NOT NULL,
    update_time  TEXT NOT NULL,
    PRIMARY KEY (village_code, code)
) STRICT;

-- Stock recorded arriving; append-only (triggers below).
CREATE TABLE shop_arrivals (
    id           TEXT PRIMARY KEY,
    village_code TEXT NOT NULL,
    code         TEXT NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    note         TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    recorded_by  TEXT NOT NULL,
    time         TEXT NOT NULL,
    day          TEXT NOT NULL,
    stock_after  INTEGER NOT NULL,
    UNIQUE (village_code, request_id),
    FOREIGN KEY (village_code, code) REFERENCES shop_goods (village_code, code)
) STRICT;
CREATE INDEX shop_arrivals_day_idx ON shop_arrivals (village_code, day);

-- Receipts: one per redemption, with the ledger entry it appended;
-- append-only like the ledger.
CREATE TABLE shop_receipts (
    id               TEXT PRIMARY KEY,
    village_code     TEXT NOT NULL,
    household_id     TEXT NOT NULL REFERENCES households (id),
    code             TEXT NOT NULL,
    name_zh          TEXT NOT NULL,
    name_en          TEXT NOT NULL,
    unit             TEXT NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    price            TEXT NOT NULL,
    points           TEXT NOT NULL,
    redeemable_after TEXT NOT NULL,
    stock_after      INTEGER NOT NULL CHECK (stock_after >= 0),
    entry_id         TEXT NOT NULL UNIQUE REFERENCES ledger_entries (id),
    note             TEXT NOT NULL,
    request_id       TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    clerk            TEXT NOT NULL,
    time             TEXT NOT NULL,
    day              TEXT NOT NULL,
    UNIQUE (household_id, request_id),
    FOREIGN KEY (village_code, code) REFERENCES shop_goods (village_code, code)
) STRICT;
CREATE INDEX shop_receipts_village_idx ON shop_receipts (village_code, id DESC);
CREATE INDEX shop_receipts_household_idx ON shop_receipts (household_id, id DESC);
CREATE INDEX shop_receipts_day_idx ON shop_receipts (village_code, day, id DESC);

-- +goose StatementBegin
CREATE TRIGGER shop_arrivals_no_update BEFORE UPDATE ON shop_arrivals
BEGIN
    SELECT RAISE(ABORT, 'shop_arrivals is append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER shop_arrivals_no_delete BEFORE DELETE ON shop_arrivals
BEGIN
    SELECT RAISE(ABORT, 'shop_arrivals is append-only: DELETE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER shop_receipts_no_update BEFORE UPDATE ON shop_receipts
BEGIN
    SELECT RAISE(ABORT, 'shop_receipts is append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER shop_receipts_no_delete BEFORE DELETE ON shop_receipts
BEGIN
    SELECT RAISE(ABORT, 'shop_receipts is append-only: DELETE refused');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE shop_receipts;
DROP TABLE shop_arrivals;
DROP TABLE shop_goods;
