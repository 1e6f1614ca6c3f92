-- +goose Up
-- Same schema as adapters/sqlite/migrations/00019_shop.sql.
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
    price        NUMERIC NOT NULL CHECK (price > 0),
    stock        BIGINT NOT NULL CHECK (stock >= 0),
    archived     BOOLEAN NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    created_by   TEXT NOT NULL,
    create_time  TIMESTAMPTZ NOT NULL,
    update_time  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (village_code, code)
);

-- Stock recorded arriving; append-only (triggers below, and
-- deploy/postgres/roles.sql takes UPDATE and DELETE from the app).
CREATE TABLE shop_arrivals (
    id           TEXT PRIMARY KEY,
    village_code TEXT NOT NULL,
    code         TEXT NOT NULL,
    quantity     BIGINT NOT NULL CHECK (quantity > 0),
    note         TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    recorded_by  TEXT NOT NULL,
    time         TIMESTAMPTZ NOT NULL,
    day          DATE NOT NULL,
    stock_after  BIGINT NOT NULL,
    UNIQUE (village_code, request_id),
    FOREIGN KEY (village_code, code) REFERENCES shop_goods (village_code, code)
);
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
    quantity         BIGINT NOT NULL CHECK (quantity > 0),
    price            NUMERIC NOT NULL,
    points           NUMERIC NOT NULL CHECK (points > 0),
    redeemable_after NUMERIC NOT NULL CHECK (redeemable_after >= 0),
    stock_after      BIGINT NOT NULL CHECK (stock_after >= 0),
    entry_id         TEXT NOT NULL UNIQUE REFERENCES ledger_entries (id),
    note             TEXT NOT NULL,
    request_id       TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    clerk            TEXT NOT NULL,
    time             TIMESTAMPTZ NOT NULL,
    day              DATE NOT NULL,
    UNIQUE (household_id, request_id),
    FOREIGN KEY (village_code, code) REFERENCES shop_goods (village_code, code)
);
CREATE INDEX shop_receipts_village_idx ON shop_receipts (village_code, id DESC);
CREATE INDEX shop_receipts_household_idx ON shop_receipts (household_id, id DESC);
CREATE INDEX shop_receipts_day_idx ON shop_receipts (village_code, day, id DESC);

-- +goose StatementBegin
CREATE FUNCTION shop_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER shop_arrivals_no_change BEFORE UPDATE OR DELETE ON shop_arrivals
    FOR EACH ROW EXECUTE FUNCTION shop_append_only();
CREATE TRIGGER shop_arrivals_no_truncate BEFORE TRUNCATE ON shop_arrivals
    FOR EACH STATEMENT EXECUTE FUNCTION shop_append_only();
CREATE TRIGGER shop_receipts_no_change BEFORE UPDATE OR DELETE ON shop_receipts
    FOR EACH ROW EXECUTE FUNCTION shop_append_only();
CREATE TRIGGER shop_receipts_no_truncate BEFORE TRUNCATE ON shop_receipts
    FOR EACH STATEMENT EXECUTE FUNCTION shop_append_only();

-- +goose Down
DROP TABLE shop_receipts;
DROP TABLE shop_arrivals;
DROP FUNCTION shop_append_only();
DROP TABLE shop_goods;
