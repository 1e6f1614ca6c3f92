package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/shop"
)

// Shop returns the 兑换超市 port. Its writes run as LockTx (READ COMMITTED
// with row locks on PostgreSQL, the one writer on SQLite): a redemption
// locks the household's sheet, then the good, and takes the stock with a
// conditional UPDATE, so concurrent redemptions of the last items queue
// instead of aborting each other.
func (s *Store) Shop() shop.Store { return shopStore{s} }

type shopStore struct{ s *Store }

func (p shopStore) Read(ctx context.Context, fn func(shop.Reader) error) error {
	return p.s.read(ctx, func(tx *Tx) error { return fn(shopTx{tx}) })
}

func (p shopStore) Write(ctx context.Context, fn func(shop.Writer) error) error {
	return p.s.writeWith(ctx, p.s.conn.LockTx, func(tx *Tx) error { return fn(shopTx{tx}) })
}

// shopTx is a transaction seen through the shop's port; Household,
// Record and AppendEntries are the Tx's own.
type shopTx struct{ *Tx }

const goodColumns = `village_code, code, name_zh, name_en, unit, price, stock, archived, version, created_by, create_time, update_time`

func scanGood(r interface{ Scan(...any) error }) (*shop.Good, error) {
	g := &shop.Good{}
	err := r.Scan(&g.Village, &g.Code, &g.NameZH, &g.NameEN, &g.Unit, money{&g.Price}, &g.Stock, &g.Archived, &g.Version,
		&g.CreatedBy, ts{&g.CreateTime}, ts{&g.UpdateTime})
	return g, err
}

func goodNotFound(village, code string) error {
	return fault.New(fault.NotFound, "GOOD_NOT_FOUND", "good %s not found", shop.GoodName(village, code))
}

func (tx shopTx) good(ctx context.Context, village, code, lock string) (*shop.Good, error) {
	g, err := scanGood(tx.q.QueryRow(ctx, `SELECT `+goodColumns+` FROM shop_goods WHERE village_code = $1 AND code = $2`+lock, village, code))
	if errors.Is(err, ErrNoRows) {
		return nil, goodNotFound(village, code)
	}
	return g, internal(err, "reading a good")
}

// Good implements shop.Reader.
func (tx shopTx) Good(ctx context.Context, village, code string) (*shop.Good, error) {
	return tx.good(ctx, village, code, "")
}

// LockGood implements shop.Writer.
func (tx shopTx) LockGood(ctx context.Context, village, code string) (*shop.Good, error) {
	return tx.good(ctx, village, code, tx.d.ForUpdate)
}

// Goods implements shop.Reader.
func (tx shopTx) Goods(ctx context.Context, village string, archived bool) ([]*shop.Good, error) {
	rows, err := tx.q.Query(ctx, `SELECT `+goodColumns+` FROM shop_goods WHERE village_code = $1 AND archived = $2 ORDER BY code`,
		village, archived)
	if err != nil {
		return nil, internal(err, "listing goods")
	}
	defer rows.Close()
	var out []*shop.Good
	for rows.Next() {
		g, err := scanGood(rows)
		if err != nil {
			return nil, internal(err, "listing goods")
		}
		out = append(out, g)
	}
	return out, internal(rows.Err(), "listing goods")
}

// InsertGood implements shop.Writer. ON CONFLICT DO NOTHING keeps the
// transaction usable when the code is taken (PostgreSQL aborts a
// transaction on a unique violation).
func (tx shopTx) InsertGood(ctx context.Context, g *shop.Good) error {
	n, err := tx.q.Exec(ctx, `INSERT INTO shop_goods (`+goodColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11) ON CONFLICT DO NOTHING`,
		g.Village, g.Code, g.NameZH, g.NameEN, g.Unit, moneyArg(g.Price), g.Stock, g.Archived, g.CreatedBy,
		tsArg(g.CreateTime), tsArg(g.UpdateTime))
	if err != nil {
		return internal(err, "storing a good")
	}
	if n == 0 {
		return fault.New(fault.AlreadyExists, "GOOD_EXISTS", "good %s already exists", g.Name())
	}
	g.Version = 1
	return nil
}

// UpdateGood implements shop.Writer.
func (tx shopTx) UpdateGood(ctx context.Context, g *shop.Good) error {
	n, err := tx.q.Exec(ctx, `UPDATE shop_goods SET name_zh = $1, name_en = $2, unit = $3, price = $4, archived = $5,
		version = $6, update_time = $7 WHERE village_code = $8 AND code = $9 AND version = $10`,
		g.NameZH, g.NameEN, g.Unit, moneyArg(g.Price), g.Archived, g.Version+1, tsArg(g.UpdateTime), g.Village, g.Code, g.Version)
	if err != nil {
		return internal(err, "updating a good")
	}
	if n == 0 {
		if _, err := tx.Good(ctx, g.Village, g.Code); err != nil {
			return err
		}
		return concurrentChange("good %s is no longer at version %d", g.Name(), g.Version)
	}
	g.Version++
	return nil
}

// AddStock implements shop.Writer.
func (tx shopTx) AddStock(ctx context.Context, a *shop.Arrival) error {
	var after int64
	err := tx.q.QueryRow(ctx, `UPDATE shop_goods SET stock = stock + $1
		WHERE village_code = $2 AND code = $3 AND stock + $1 <= $4 RETURNING stock`,
		a.Quantity, a.Village, a.Code, int64(shop.MaxStock)).Scan(&after)
	if errors.Is(err, ErrNoRows) {
		if _, err := tx.Good(ctx, a.Village, a.Code); err != nil {
			return err
		}
		return fault.New(fault.FailedPrecondition, "STOCK_LIMIT", "the stock of %s would pass %d", shop.GoodName(a.Village, a.Code), shop.MaxStock)
	}
	if err != nil {
		return internal(err, "adding stock")
	}
	a.StockAfter = after
	_, err = tx.q.Exec(ctx, `INSERT INTO shop_arrivals (`+arrivalColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		a.ID, a.Village, a.Code, a.Quantity, a.Note, a.RequestID, a.RequestHash, a.RecordedBy, tsArg(a.Time), string(a.Day), a.StockAfter)
	if err != nil && tx.d.IsUniqueViolation(err) {
		return fault.Wrap(err, fault.AlreadyExists, "REQUEST_ID_REUSED", "an arrival with request id %q is already recorded", a.RequestID)
	}
	return internal(err, "recording an arrival")
}

// TakeStock implements shop.Writer: one conditional statement, so that no
// interleaving of redemptions can take what is not there. Where fewer
// than n are left it changes nothing (no row matched) and the stock left
// is read for the refusal.
func (tx shopTx) TakeStock(ctx context.Context, village, code string, n int64) (int64, error) {
	var left int64
	err := tx.q.QueryRow(ctx, `UPDATE shop_goods SET stock = stock - $1
		WHERE village_code = $2 AND code = $3 AND stock >= $1 RETURNING stock`, n, village, code).Scan(&left)
	if errors.Is(err, ErrNoRows) {
		g, err := tx.Good(ctx, village, code)
		if err != nil {
			return 0, err
		}
		return g.Stock, shop.InsufficientStock(g, n, g.Stock)
	}
	return left, internal(err, "taking stock")
}

// LockSheet implements shop.Writer.
func (tx shopTx) LockSheet(ctx context.Context, householdID string) (*evidence.Sheet, error) {
	s := &evidence.Sheet{Household: householdID}
	var entries string
	err := tx.q.QueryRow(ctx, `SELECT p.village_code, p.version, `+sheetText("p")+` FROM household_points p WHERE p.household_id = $1`+tx.d.ForUpdate,
		householdID).Scan(&s.Village, &s.Version, &entries)
	if errors.Is(err, ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return nil, internal(err, "locking a points sheet")
	}
	s.Entries, err = decodeEntries(entries)
	return s, internal(err, "reading a points sheet")
}

const arrivalColumns = `id, village_code, code, quantity, note, request_id, request_hash, recorded_by, time, day, stock_after`

func scanArrival(r interface{ Scan(...any) error }) (*shop.Arrival, error) {
	a := &shop.Arrival{}
	err := r.Scan(&a.ID, &a.Village, &a.Code, &a.Quantity, &a.Note, &a.RequestID, &a.RequestHash, &a.RecordedBy,
		ts{&a.Time}, date[household.Date]{&a.Day}, &a.StockAfter)
	return a, err
}

// ArrivalByRequest implements shop.Reader.
func (tx shopTx) ArrivalByRequest(ctx context.Context, village, requestID string) (*shop.Arrival, error) {
	a, err := scanArrival(tx.q.QueryRow(ctx, `SELECT `+arrivalColumns+` FROM shop_arrivals WHERE village_code = $1 AND request_id = $2`,
		village, requestID))
	if errors.Is(err, ErrNoRows) {
		return nil, nil
	}
	return a, internal(err, "reading an arrival")
}

// Arrivals implements shop.Reader.
func (tx shopTx) Arrivals(ctx context.Context, village, code string, from, to household.Date) ([]*shop.Arrival, error) {
	args := []any{village, string(from), string(to)}
	where := `village_code = $1 AND day >= $2 AND day <= $3`
	if code != "" {
		args = append(args, code)
		where += ` AND code = $4`
	}
	rows, err := tx.q.Query(ctx, `SELECT `+arrivalColumns+` FROM shop_arrivals WHERE `+where+` ORDER BY day, id`, args...)
	if err != nil {
		return nil, internal(err, "listing arrivals")
	}
	defer rows.Close()
	var out []*shop.Arrival
	for rows.Next() {
		a, err := scanArrival(rows)
		if err != nil {
			return nil, internal(err, "listing arrivals")
		}
		out = append(out, a)
	}
	return out, internal(rows.Err(), "listing arrivals")
}

const receiptColumns = `id, village_code, household_id, code, name_zh, name_en, unit, quantity, price, points,
	redeemable_after, stock_after, entry_id, note, request_id, request_hash, clerk, time, day`

func scanReceipt(r interface{ Scan(...any) error }) (*shop.Receipt, error) {
	x := &shop.Receipt{}
	err := r.Scan(&x.ID, &x.Village, &x.Household, &x.Code, &x.NameZH, &x.NameEN, &x.Unit, &x.Quantity, money{&x.Price},
		money{&x.Points}, money{&x.RedeemableAfter}, &x.StockAfter, &x.EntryID, &x.Note, &x.RequestID, &x.RequestHash,
		&x.Clerk, ts{&x.Time}, date[household.Date]{&x.Day})
	return x, err
}

// InsertReceipt implements shop.Writer.
func (tx shopTx) InsertReceipt(ctx context.Context, r *shop.Receipt) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO shop_receipts (`+receiptColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		r.ID, r.Village, r.Household, r.Code, r.NameZH, r.NameEN, r.Unit, r.Quantity, exactDecimal(r.Price),
		exactDecimal(r.Points), exactDecimal(r.RedeemableAfter), r.StockAfter, r.EntryID, r.Note, r.RequestID, r.RequestHash,
		r.Clerk, tsArg(r.Time), string(r.Day))
	if err != nil && tx.d.IsUniqueViolation(err) {
		return fault.Wrap(err, fault.AlreadyExists, "RECEIPT_EXISTS", "household %s already has a receipt of request id %q", r.Household, r.RequestID)
	}
	return internal(err, "storing a receipt")
}

// Receipt implements shop.Reader.
func (tx shopTx) Receipt(ctx context.Context, village, householdID, id string) (*shop.Receipt, error) {
	r, err := scanReceipt(tx.q.QueryRow(ctx, `SELECT `+receiptColumns+` FROM shop_receipts
		WHERE id = $1 AND village_code = $2 AND household_id = $3`, id, village, householdID))
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "RECEIPT_NOT_FOUND", "receipt villages/%s/households/%s/redemptions/%s not found", village, householdID, id)
	}
	return r, internal(err, "reading a receipt")
}

// ReceiptByRequest implements shop.Reader.
func (tx shopTx) ReceiptByRequest(ctx context.Context, householdID, requestID string) (*shop.Receipt, error) {
	r, err := scanReceipt(tx.q.QueryRow(ctx, `SELECT `+receiptColumns+` FROM shop_receipts
		WHERE household_id = $1 AND request_id = $2`, householdID, requestID))
	if errors.Is(err, ErrNoRows) {
		return nil, nil
	}
	return r, internal(err, "reading a receipt")
}

// Receipts implements shop.Reader. Only the filters in use go into the
// query, each parameter once, so PostgreSQL types each from its column.
func (tx shopTx) Receipts(ctx context.Context, q shop.ReceiptQuery) ([]*shop.Receipt, error) {
	args := []any{q.Village}
	where := []string{"village_code = $1"}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if q.Household != "" {
		add("household_id = $%d", q.Household)
	}
	if q.From != "" {
		add("day >= $%d", string(q.From))
	}
	if q.To != "" {
		add("day <= $%d", string(q.To))
	}
	if q.Before != "" {
		add("id < $%d", q.Before)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	rows, err := tx.q.Query(ctx, `SELECT `+receiptColumns+` FROM shop_receipts WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, limit), args...)
	if err != nil {
		return nil, internal(err, "listing receipts")
	}
	defer rows.Close()
	var out []*shop.Receipt
	for rows.Next() {
		r, err := scanReceipt(rows)
		if err != nil {
			return nil, internal(err, "listing receipts")
		}
		out = append(out, r)
	}
	return out, internal(rows.Err(), "listing receipts")
}

var _ shop.Writer = shopTx{}
