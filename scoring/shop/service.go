package shop

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// Catalogues gives the service the points catalogue a village uses (its
// precision and base). scoring/catalogue.Service implements it.
type Catalogues interface {
	Effective(ctx context.Context, village string) (*points.Catalogue, error)
}

// Service runs the 兑换超市. Who may call which method for which village
// or household has already been checked by the caller (access.Authorise);
// Service checks the business rules (rules.go) and writes each change with
// its audit record in one transaction.
type Service struct {
	store Store
	cats  Catalogues
	now   func() time.Time
}

// NewService returns a Service. now is the clock (time.Now in production).
func NewService(store Store, cats Catalogues, now func() time.Time) *Service {
	return &Service{store: store, cats: cats, now: now}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Today is today's date in Asia/Shanghai by the service's clock.
func (s *Service) Today() household.Date { return household.Today(s.clock()) }

// ParseGoodName splits villages/{village}/goods/{code}, reporting problems
// against field.
func ParseGoodName(name, field string) (village, code string, err error) {
	var v fault.Violations
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "villages" || parts[2] != "goods" {
		bad(&v, field, "NAME", fmt.Sprintf("must be villages/{village_code}/goods/{code}, got %q", name),
			fmt.Sprintf("须为 villages/{村代码}/goods/{物品编码}，现为“%s”", name))
		return "", "", v.Err()
	}
	household.ParseVillageParent(resource.Village(parts[1]), field, &v)
	CheckCode(&v, field, parts[3])
	return parts[1], parts[3], v.Err()
}

// ParseReceiptName splits
// villages/{village}/households/{household}/redemptions/{id}.
func ParseReceiptName(name, field string) (village, hh, id string, err error) {
	i := strings.LastIndex(name, "/redemptions/")
	if i < 0 {
		return "", "", "", fault.InvalidField(field, "must be villages/{village_code}/households/{household_id}/redemptions/{id}, got %q", name)
	}
	village, hh, err = household.ParseName(name[:i], field)
	if err != nil {
		return "", "", "", err
	}
	id = name[i+len("/redemptions/"):]
	if _, perr := uuid.Parse(id); perr != nil || len(id) != 36 {
		return "", "", "", fault.InvalidField(field, "redemption id %q is not a UUID", id)
	}
	return village, hh, id, nil
}

// Goods returns the goods of the village named by parent, by code: those
// on offer, or with archived also those no longer offered.
func (s *Service) Goods(ctx context.Context, parent string, archived bool) ([]*Good, error) {
	var v fault.Violations
	village := household.ParseVillageParent(parent, "parent", &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out []*Good
	err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		if out, err = tx.Goods(ctx, village, false); err != nil || !archived {
			return err
		}
		old, err := tx.Goods(ctx, village, true)
		out = append(out, old...)
		return err
	})
	return out, err
}

// Good returns the good named villages/{village}/goods/{code}.
func (s *Service) Good(ctx context.Context, name string) (*Good, error) {
	village, code, err := ParseGoodName(name, "name")
	if err != nil {
		return nil, err
	}
	var g *Good
	err = s.store.Read(ctx, func(tx Reader) error {
		g, err = tx.Good(ctx, village, code)
		return err
	})
	return g, err
}

// GoodInput is a new line of the goods catalogue.
type GoodInput struct {
	Parent string // villages/{village}
	Code   string
	NameZH string
	NameEN string
	Unit   string
	Price  string // points per unit, decimal
}

// CreateGood adds a good to the village's catalogue, with no stock (stock
// comes by RecordArrival). The same good again is answered with the stored
// one (created false); a code taken by another good is ALREADY_EXISTS.
func (s *Service) CreateGood(ctx context.Context, p *access.Principal, in GoodInput) (g *Good, created bool, err error) {
	now := s.clock()
	var v fault.Violations
	village := household.ParseVillageParent(in.Parent, "parent", &v)
	code := strings.TrimSpace(in.Code)
	CheckCode(&v, "good.code", code)
	in.NameZH, in.NameEN, in.Unit = strings.TrimSpace(in.NameZH), strings.TrimSpace(in.NameEN), strings.TrimSpace(in.Unit)
	CheckLabels(&v, "good.", in.NameZH, in.NameEN, in.Unit)
	// The price's precision is the village catalogue's; without a village
	// the price is still checked (at the most precision any has), so that
	// every bad field is named at once.
	precision := int32(2)
	if village != "" {
		cat, err := s.cats.Effective(ctx, village)
		if err != nil {
			return nil, false, err
		}
		precision = cat.Precision
	}
	price := ParsePrice(&v, "good.price", in.Price, precision)
	if err := v.Err(); err != nil {
		return nil, false, err
	}
	g = &Good{Village: village, Code: code, NameZH: in.NameZH, NameEN: in.NameEN, Unit: in.Unit, Price: price,
		CreatedBy: p.ID, CreateTime: now, UpdateTime: now}
	err = s.store.Write(ctx, func(tx Writer) error {
		g.Version, created = 0, false
		err := tx.InsertGood(ctx, g)
		if fault.Is(err, fault.AlreadyExists) {
			old, rerr := tx.Good(ctx, village, code)
			if rerr != nil {
				return rerr
			}
			if old.NameZH == g.NameZH && old.NameEN == g.NameEN && old.Unit == g.Unit && old.Price.Equal(g.Price) && !old.Archived {
				g = old
				return nil
			}
			return fault.New(fault.AlreadyExists, "GOOD_EXISTS", "the village already has a good %q (%s); change it with UpdateGood", code, old.NameZH)
		}
		if err != nil {
			return err
		}
		created = true
		return tx.Record(ctx, s.goodRecord(p, now, "shop.good_create", g))
	})
	if err != nil {
		return nil, false, err
	}
	return g, created, nil
}

func (s *Service) goodRecord(p *access.Principal, now time.Time, action string, g *Good) audit.Record {
	return audit.Record{
		Time: now, Actor: p.ID, Action: action, Subject: g.Name(),
		ResultHash: audit.HashBytes([]byte(g.Code + "\x00" + g.NameZH + "\x00" + g.NameEN + "\x00" + g.Unit + "\x00" +
			g.Price.String() + "\x00" + strconv.FormatBool(g.Archived) + "\x00" + strconv.Itoa(g.Version))),
		Payload: map[string]string{
			"village": g.Village, "good": g.Code, "name_zh": g.NameZH, "unit": g.Unit, "price": g.Price.String(),
			"archived": strconv.FormatBool(g.Archived), "version": strconv.Itoa(g.Version),
		},
	}
}

// UpdateInput changes a good's catalogue line. Empty strings and a nil
// Archived leave a field as it is; Version, when not 0, must be the
// stored version (a form shown before someone else's change is refused
// rather than overwriting it).
type UpdateInput struct {
	Name     string // villages/{village}/goods/{code}
	NameZH   string
	NameEN   string
	Unit     string
	Price    string
	Archived *bool
	Version  int
}

// UpdateGood changes a good's names, unit, price or whether it is offered.
// The stock is not changed here (RecordArrival and Redeem change it), and
// receipts keep the price they were made at.
func (s *Service) UpdateGood(ctx context.Context, p *access.Principal, in UpdateInput) (*Good, error) {
	now := s.clock()
	village, code, err := ParseGoodName(in.Name, "name")
	if err != nil {
		return nil, err
	}
	if in.Version < 0 {
		return nil, fault.InvalidField("version", "must not be negative, got %d", in.Version)
	}
	in.NameZH, in.NameEN, in.Unit, in.Price = strings.TrimSpace(in.NameZH), strings.TrimSpace(in.NameEN), strings.TrimSpace(in.Unit), strings.TrimSpace(in.Price)
	if in.NameZH == "" && in.NameEN == "" && in.Unit == "" && in.Price == "" && in.Archived == nil {
		return nil, fault.InvalidField("price", "nothing to change: give a price, a name, a unit or archived")
	}
	cat, err := s.cats.Effective(ctx, village)
	if err != nil {
		return nil, err
	}
	var out *Good
	err = s.store.Write(ctx, func(tx Writer) error {
		g, err := tx.LockGood(ctx, village, code)
		if err != nil {
			return err
		}
		if in.Version != 0 && in.Version != g.Version {
			return fault.New(fault.FailedPrecondition, "CONCURRENT_CHANGE",
				"changed concurrently: %s is at version %d, the change was made to version %d; reload and try again", g.Name(), g.Version, in.Version)
		}
		var v fault.Violations
		next := *g
		if in.NameZH != "" {
			next.NameZH = in.NameZH
		}
		if in.NameEN != "" {
			next.NameEN = in.NameEN
		}
		if in.Unit != "" {
			next.Unit = in.Unit
		}
		CheckLabels(&v, "", next.NameZH, next.NameEN, next.Unit)
		if in.Price != "" {
			next.Price = ParsePrice(&v, "price", in.Price, cat.Precision)
		}
		if in.Archived != nil {
			next.Archived = *in.Archived
		}
		if err := v.Err(); err != nil {
			return err
		}
		if next.NameZH == g.NameZH && next.NameEN == g.NameEN && next.Unit == g.Unit && next.Price.Equal(g.Price) && next.Archived == g.Archived {
			out = g // nothing changes: nothing to write or record
			return nil
		}
		next.UpdateTime = now
		if err := tx.UpdateGood(ctx, &next); err != nil {
			return err
		}
		action := "shop.good_update"
		if next.Archived != g.Archived {
			action = map[bool]string{true: "shop.good_archive", false: "shop.good_unarchive"}[next.Archived]
		}
		rec := s.goodRecord(p, now, action, &next)
		rec.Payload["price_before"] = g.Price.String()
		out = &next
		return tx.Record(ctx, rec)
	})
	return out, err
}

// ArrivalInput is stock arriving for one good.
type ArrivalInput struct {
	Good      string // villages/{village}/goods/{code}
	Quantity  int64
	Note      string // e.g. the supplier's delivery note number
	RequestID string
}

// RecordArrival adds arriving stock to a good. Repeating a request id
// returns the first arrival (duplicate true) and adds nothing; the same id
// for a different arrival is ALREADY_EXISTS.
func (s *Service) RecordArrival(ctx context.Context, p *access.Principal, in ArrivalInput) (a *Arrival, g *Good, duplicate bool, err error) {
	now := s.clock()
	var v fault.Violations
	village, code, perr := ParseGoodName(in.Good, "good")
	if perr != nil {
		var fe *fault.Error
		if errors.As(perr, &fe) {
			v = append(v, fe.Violations...)
		}
	}
	CheckQuantity(&v, "quantity", in.Quantity, MaxArrival)
	in.Note = strings.TrimSpace(in.Note)
	CheckNote(&v, "note", in.Note)
	CheckRequestID(&v, "request_id", in.RequestID)
	if err := v.Err(); err != nil {
		return nil, nil, false, err
	}
	reqHash := audit.HashBytes([]byte("shop.arrival\x00" + in.Good + "\x00" + strconv.FormatInt(in.Quantity, 10) + "\x00" + in.Note))
	id := uuid.Must(uuid.NewV7()).String()
	err = s.store.Write(ctx, func(tx Writer) error {
		duplicate = false
		var err error
		// The good's lock first: two recordings of one request id queue
		// on it, and the second finds the first.
		if g, err = tx.LockGood(ctx, village, code); err != nil {
			return err
		}
		prior, err := tx.ArrivalByRequest(ctx, village, in.RequestID)
		if err != nil {
			return err
		}
		if prior != nil {
			if prior.RequestHash != reqHash {
				return fault.New(fault.AlreadyExists, "REQUEST_ID_REUSED",
					"request id %q was already used for an arrival of %d of %s", in.RequestID, prior.Quantity, prior.Code)
			}
			a, duplicate = prior, true
			return nil
		}
		if err := Arrive(g, in.Quantity); err != nil {
			return err
		}
		a = &Arrival{ID: id, Village: village, Code: code, Quantity: in.Quantity, Note: in.Note, RequestID: in.RequestID,
			RequestHash: reqHash, RecordedBy: p.ID, Time: now, Day: household.Today(now)}
		if err := tx.AddStock(ctx, a); err != nil {
			return err
		}
		g.Stock = a.StockAfter
		return tx.Record(ctx, audit.Record{
			Time: now, Actor: p.ID, Action: "shop.arrival", Subject: g.Name(), RequestHash: reqHash,
			ResultHash: audit.HashBytes([]byte(a.ID + "\x00" + strconv.FormatInt(a.StockAfter, 10))),
			Payload: map[string]string{
				"village": village, "good": code, "arrival": a.ID,
				"quantity": strconv.FormatInt(a.Quantity, 10), "stock_after": strconv.FormatInt(a.StockAfter, 10),
			},
		})
	})
	if err != nil {
		return nil, nil, false, err
	}
	return a, g, duplicate, nil
}

// RedeemInput is a household taking goods at the counter.
type RedeemInput struct {
	Household string // villages/{village}/households/{id}
	Good      string // the good's code in the household's village
	Quantity  int64
	Note      string
	// RequestID makes a retry harmless (unique per household).
	RequestID string
}

// Redemption is the outcome of Redeem.
type Redemption struct {
	Receipt *Receipt
	// Balance is the household's points today, after the redemption (for
	// a duplicate, as they are now).
	Balance points.Balance
	// Good is the good as it is now (its stock after).
	Good *Good
	// Duplicate is true when the request id had been redeemed already:
	// nothing new was written.
	Duplicate bool
}

// entryNS derives a shop redemption's ledger entry id from the household
// and the request id (distinct from the bare RedeemPoints' namespace).
var entryNS = uuid.MustParse("b1e5a0d2-7f0c-4e7a-9a55-3c2f9d1e8b47")

// Redeem gives a household quantity units of a good for its redeemable
// points. In one transaction it locks the household's points sheet and
// the good, refuses what the rules refuse (Redeem in rules.go: stock,
// balance, archived), takes the stock with a conditional update, appends
// the redemption to the ledger, stores the receipt and its audit record.
// A refusal writes nothing. Repeating a request id returns the first
// receipt (Duplicate) and takes nothing; the same id for a different
// redemption is ALREADY_EXISTS (REQUEST_ID_REUSED).
func (s *Service) Redeem(ctx context.Context, p *access.Principal, in RedeemInput) (Redemption, error) {
	now := s.clock()
	today := household.Today(now)
	var v fault.Violations
	village, hh, err := household.ParseName(in.Household, "household")
	if err != nil {
		var fe *fault.Error
		if errors.As(err, &fe) {
			v = append(v, fe.Violations...)
		}
	}
	code := strings.TrimSpace(in.Good)
	CheckCode(&v, "good", code)
	CheckQuantity(&v, "quantity", in.Quantity, MaxQuantity)
	in.Note = strings.TrimSpace(in.Note)
	CheckNote(&v, "note", in.Note)
	CheckRequestID(&v, "request_id", in.RequestID)
	if err := v.Err(); err != nil {
		return Redemption{}, err
	}
	cat, err := s.cats.Effective(ctx, village)
	if err != nil {
		return Redemption{}, err
	}
	reqHash := audit.HashBytes([]byte("shop.redeem\x00" + in.Household + "\x00" + code + "\x00" +
		strconv.FormatInt(in.Quantity, 10) + "\x00" + in.Note))
	receiptID := uuid.Must(uuid.NewV7()).String()
	entryID := uuid.NewSHA1(entryNS, []byte(hh+"\x00"+in.RequestID)).String()
	var out Redemption
	err = s.store.Write(ctx, func(tx Writer) error {
		out = Redemption{}
		if _, err := tx.Household(ctx, village, hh); err != nil {
			return err
		}
		// The sheet's lock first, always: redemptions of one household
		// (and so two sends of one request id) queue on it, then on the
		// good's. Every shop write takes the two in this order.
		sh, err := tx.LockSheet(ctx, hh)
		if err != nil {
			return err
		}
		sh.Household, sh.Village = hh, village
		prior, err := tx.ReceiptByRequest(ctx, hh, in.RequestID)
		if err != nil {
			return err
		}
		if prior != nil {
			if prior.RequestHash != reqHash {
				return fault.New(fault.AlreadyExists, "REQUEST_ID_REUSED",
					"request id %q was already used for a redemption of %d %s", in.RequestID, prior.Quantity, prior.Code)
			}
			g, err := tx.Good(ctx, village, prior.Code)
			if err != nil {
				return err
			}
			out = Redemption{Receipt: prior, Balance: points.Balances(cat.BasePoints, sh.Entries, today), Good: g, Duplicate: true}
			return nil
		}
		g, err := tx.LockGood(ctx, village, code)
		if err != nil {
			return err
		}
		entry, err := Redeem(g, points.Balances(cat.BasePoints, sh.Entries, today), in.Quantity, today, cat.Precision)
		if err != nil {
			return err
		}
		entry.ID, entry.Household = entryID, hh
		left, err := tx.TakeStock(ctx, village, code, in.Quantity)
		if err != nil {
			return err
		}
		g.Stock = left
		sh.Entries = append(sh.Entries, entry)
		if err := tx.AppendEntries(ctx, sh, []points.Entry{entry}); err != nil {
			return err
		}
		after := points.Balances(cat.BasePoints, sh.Entries, today)
		rc := &Receipt{
			ID: receiptID, Village: village, Household: hh, Code: code, NameZH: g.NameZH, NameEN: g.NameEN, Unit: g.Unit,
			Quantity: in.Quantity, Price: g.Price, Points: entry.Points.Neg(), RedeemableAfter: after.Redeemable,
			StockAfter: left, EntryID: entry.ID, Note: in.Note, RequestID: in.RequestID, RequestHash: reqHash,
			Clerk: p.ID, Time: now, Day: today,
		}
		if err := tx.InsertReceipt(ctx, rc); err != nil {
			return err
		}
		out = Redemption{Receipt: rc, Balance: after, Good: g}
		return tx.Record(ctx, audit.Record{
			Time: now, Actor: p.ID, Action: "shop.redeem", Subject: rc.HouseholdName(), RequestHash: reqHash,
			ResultHash: audit.HashBytes([]byte(rc.ID + "\x00" + entry.ID + "\x00" + rc.Points.String() + "\x00" +
				after.Redeemable.String() + "\x00" + strconv.FormatInt(left, 10))),
			Payload: map[string]string{
				"village": village, "household": rc.HouseholdName(), "receipt": rc.ID, "entry": entry.ID,
				"good": code, "quantity": strconv.FormatInt(in.Quantity, 10), "points": rc.Points.String(),
				"redeemable_after": after.Redeemable.String(), "stock_after": strconv.FormatInt(left, 10),
			},
		})
	})
	return out, err
}

// Receipt returns the receipt named
// villages/{village}/households/{household}/redemptions/{id}.
func (s *Service) Receipt(ctx context.Context, name string) (*Receipt, error) {
	village, hh, id, err := ParseReceiptName(name, "name")
	if err != nil {
		return nil, err
	}
	var r *Receipt
	err = s.store.Read(ctx, func(tx Reader) error {
		r, err = tx.Receipt(ctx, village, hh, id)
		return err
	})
	return r, err
}

// ReceiptPage is one page of receipts.
type ReceiptPage struct {
	Receipts  []*Receipt
	NextToken string
}

// Receipts lists receipts, newest first: of a village (parent
// villages/{v}) or of one household (villages/{v}/households/{h}), in one
// month (2026-03) or in all.
func (s *Service) Receipts(ctx context.Context, parent, month string, pageSize int32, pageToken string) (ReceiptPage, error) {
	var v fault.Violations
	q := ReceiptQuery{}
	if strings.Count(parent, "/") == 1 {
		q.Village = household.ParseVillageParent(parent, "parent", &v)
	} else if village, hh, err := household.ParseName(parent, "parent"); err != nil {
		v.Add("parent", "must be villages/{village_code} or villages/{village_code}/households/{household_id}, got %q", parent)
	} else {
		q.Village, q.Household = village, hh
	}
	if month != "" {
		from, to, err := ParseMonth("month", month, s.Today())
		var fe *fault.Error
		if errors.As(err, &fe) {
			v = append(v, fe.Violations...)
		}
		q.From, q.To = from, to
	}
	scope := "receipts|" + parent + "|" + month
	q.Before = paging.Cursor(pageToken, scope, &v)
	limit := paging.Limit(pageSize, &v)
	if err := v.Err(); err != nil {
		return ReceiptPage{}, err
	}
	q.Limit = limit + 1
	var list []*Receipt
	err := s.store.Read(ctx, func(tx Reader) error {
		if q.Household != "" {
			if _, err := tx.Household(ctx, q.Village, q.Household); err != nil {
				return err
			}
		}
		var err error
		list, err = tx.Receipts(ctx, q)
		return err
	})
	if err != nil {
		return ReceiptPage{}, err
	}
	page := ReceiptPage{Receipts: list}
	if len(list) > limit {
		page.Receipts = list[:limit]
		page.NextToken = paging.Token(scope, list[limit-1].ID)
	}
	return page, nil
}

// reportBatch is how many receipts the report reads per statement.
const reportBatch = 1000

// MonthlyReport totals a village's redemptions and arrivals in one month
// (Asia/Shanghai days), per good and overall, from one snapshot.
func (s *Service) MonthlyReport(ctx context.Context, parent, month string) (Report, error) {
	var v fault.Violations
	village := household.ParseVillageParent(parent, "parent", &v)
	today := s.Today()
	from, to, err := ParseMonth("month", month, today)
	var fe *fault.Error
	if errors.As(err, &fe) {
		v = append(v, fe.Violations...)
	}
	if err := v.Err(); err != nil {
		return Report{}, err
	}
	var goods []*Good
	var receipts []*Receipt
	var arrivals []*Arrival
	err = s.store.Read(ctx, func(tx Reader) error {
		goods, receipts, arrivals = nil, nil, nil
		for _, archived := range []bool{false, true} {
			gs, err := tx.Goods(ctx, village, archived)
			if err != nil {
				return err
			}
			goods = append(goods, gs...)
		}
		q := ReceiptQuery{Village: village, From: from, To: to, Limit: reportBatch}
		for {
			list, err := tx.Receipts(ctx, q)
			if err != nil {
				return err
			}
			receipts = append(receipts, list...)
			if len(list) < reportBatch {
				break
			}
			q.Before = list[len(list)-1].ID
		}
		var err error
		arrivals, err = tx.Arrivals(ctx, village, "", from, to)
		return err
	})
	if err != nil {
		return Report{}, err
	}
	return BuildReport(village, month, from, to, today, goods, receipts, arrivals), nil
}
