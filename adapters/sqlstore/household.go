package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// householdColumns selects a household joined to its latest facts version;
// scanHousehold reads them in this order.
const householdColumns = `h.id, h.village_code, h.head_name, h.head_id_masked, h.head_id_key,
	h.head_id_cipher, h.head_id_index, h.group_no, h.address, h.registered_on,
	h.create_time, h.update_time,
	f.version, f.members, f.labourers, f.annual_income, f.land_area_mu,
	f.collective_shares, f.existing_bank_debt, f.dishonest_debtor, f.source,
	f.as_of, f.recorded_by, f.record_time`

const householdFrom = ` FROM households h
	JOIN household_facts f ON f.household_id = h.id AND f.version = h.facts_version`

func scanHousehold(r interface{ Scan(...any) error }) (*household.Household, error) {
	h := &household.Household{}
	f := &h.Facts
	err := r.Scan(&h.ID, &h.Village, &h.HeadName, &h.HeadIDMasked, &h.HeadID.KeyID,
		&h.HeadID.Ciphertext, &h.HeadID.Index, &h.Group, &h.Address, date[household.Date]{&h.Registered},
		ts{&h.CreateTime}, ts{&h.UpdateTime},
		&f.Version, &f.Members, &f.Labourers, money{&f.AnnualIncome}, money{&f.LandAreaMu},
		money{&f.CollectiveShares}, money{&f.ExistingDebt}, &f.DishonestDebtor, &f.Source,
		date[household.Date]{&f.AsOf}, &f.RecordedBy, ts{&f.RecordTime})
	return h, err
}

func (tx *Tx) oneHousehold(ctx context.Context, what, where string, args ...any) (*household.Household, error) {
	h, err := scanHousehold(tx.q.QueryRow(ctx, `SELECT `+householdColumns+householdFrom+` WHERE `+where, args...))
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "HOUSEHOLD_NOT_FOUND", "%s not found", what)
	}
	return h, internal(err, "reading a household")
}

// householdTx is a transaction of the household port: its reads carry the
// members of the latest version. The other contexts' ports (evidence,
// lending) read a household through Tx itself, without members, which
// they do not use: a member read on each of their many household reads
// would be a query for nothing.
type householdTx struct{ *Tx }

// withMembers adds the members of h's latest version to h.
func (tx householdTx) withMembers(ctx context.Context, h *household.Household, err error) (*household.Household, error) {
	if err != nil {
		return nil, err
	}
	return h, tx.members(ctx, map[string]*household.Household{h.ID: h},
		`m.household_id = $1 AND m.version = $2`, h.ID, h.Facts.Version)
}

// Household implements household.Reader.
func (tx householdTx) Household(ctx context.Context, village, id string) (*household.Household, error) {
	h, err := tx.Tx.Household(ctx, village, id)
	return tx.withMembers(ctx, h, err)
}

// HouseholdByIndex implements household.Reader.
func (tx householdTx) HouseholdByIndex(ctx context.Context, index []byte) (*household.Household, error) {
	h, err := tx.Tx.HouseholdByIndex(ctx, index)
	return tx.withMembers(ctx, h, err)
}

// HouseholdByRequest implements household.Reader.
func (tx householdTx) HouseholdByRequest(ctx context.Context, village, requestID string) (*household.Household, string, error) {
	h, hash, err := tx.Tx.HouseholdByRequest(ctx, village, requestID)
	h, err = tx.withMembers(ctx, h, err)
	return h, hash, err
}

// Households implements household.Reader: the page's members in one
// query, by the id range the page covers, each at its latest version.
func (tx householdTx) Households(ctx context.Context, q household.ListQuery) ([]*household.Household, error) {
	out, err := tx.Tx.Households(ctx, q)
	if err != nil || len(out) == 0 || q.HeadsOnly {
		return out, err
	}
	byID := make(map[string]*household.Household, len(out))
	for _, h := range out {
		byID[h.ID] = h
	}
	return out, tx.members(ctx, byID, `m.household_id > $1 AND m.household_id <= $2 AND EXISTS (SELECT 1 FROM households h
		WHERE h.id = m.household_id AND h.facts_version = m.version AND h.village_code = $3)`,
		q.AfterID, out[len(out)-1].ID, q.Village)
}

const memberColumns = `m.household_id, m.member_no, m.name, m.relation, m.id_masked, m.id_key,
	m.id_cipher, m.id_index, m.labour`

// members reads the member rows selected by where into their households
// (by id), in member number order.
func (tx *Tx) members(ctx context.Context, into map[string]*household.Household, where string, args ...any) error {
	rows, err := tx.q.Query(ctx, `SELECT `+memberColumns+` FROM household_members m WHERE `+where+`
		ORDER BY m.household_id, m.member_no`, args...)
	if err != nil {
		return internal(err, "reading members")
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, relation, labour string
			m                    household.Member
		)
		if err := rows.Scan(&id, &m.Number, &m.Name, &relation, &m.IDMasked, &m.ID.KeyID,
			&m.ID.Ciphertext, &m.ID.Index, &labour); err != nil {
			return internal(err, "reading members")
		}
		var ok1, ok2 bool
		m.Relation, ok1 = household.ParseRelation(relation)
		m.Labour, ok2 = household.ParseLabour(labour)
		if !ok1 || !ok2 {
			return fault.New(fault.Internal, "INTERNAL", "member %d of %s has relation %q, labour %q", m.Number, id, relation, labour)
		}
		if h := into[id]; h != nil {
			h.Members = append(h.Members, m)
		}
	}
	return internal(rows.Err(), "reading members")
}

// Household implements household.Reader.
func (tx *Tx) Household(ctx context.Context, village, id string) (*household.Household, error) {
	return tx.oneHousehold(ctx, "household villages/"+village+"/households/"+id,
		`h.id = $1 AND h.village_code = $2`, id, village)
}

// HouseholdByIndex implements household.Reader.
func (tx *Tx) HouseholdByIndex(ctx context.Context, index []byte) (*household.Household, error) {
	return tx.oneHousehold(ctx, "household with that head", `h.head_id_index = $1`, index)
}

// HouseholdByRequest implements household.Reader.
func (tx *Tx) HouseholdByRequest(ctx context.Context, village, requestID string) (*household.Household, string, error) {
	var hash string
	err := tx.q.QueryRow(ctx, `SELECT request_hash FROM households WHERE village_code = $1 AND request_id = $2`,
		village, requestID).Scan(&hash)
	if errors.Is(err, ErrNoRows) {
		return nil, "", fault.New(fault.NotFound, "HOUSEHOLD_NOT_FOUND", "no household for request %s", requestID)
	}
	if err != nil {
		return nil, "", internal(err, "reading a request")
	}
	h, err := tx.oneHousehold(ctx, "household of request "+requestID,
		`h.village_code = $1 AND h.request_id = $2`, village, requestID)
	return h, hash, err
}

// Households implements household.Reader.
func (tx *Tx) Households(ctx context.Context, q household.ListQuery) ([]*household.Household, error) {
	rows, err := tx.q.Query(ctx, `SELECT `+householdColumns+householdFrom+`
		WHERE h.village_code = $1 AND h.id > $2 AND ($3 = 0 OR h.group_no = $3)
		ORDER BY h.id LIMIT $4`, q.Village, q.AfterID, q.Group, q.Limit)
	if err != nil {
		return nil, internal(err, "listing households")
	}
	defer rows.Close()
	var out []*household.Household
	for rows.Next() {
		h, err := scanHousehold(rows)
		if err != nil {
			return nil, internal(err, "listing households")
		}
		out = append(out, h)
	}
	return out, internal(rows.Err(), "listing households")
}

const factsColumns = `version, members, labourers, annual_income, land_area_mu, collective_shares,
	existing_bank_debt, dishonest_debtor, source, as_of, recorded_by, record_time`

// FactsHistory implements household.Reader.
func (tx *Tx) FactsHistory(ctx context.Context, householdID string, before int64, limit int) ([]household.Facts, error) {
	rows, err := tx.q.Query(ctx, `SELECT `+factsColumns+` FROM household_facts
		WHERE household_id = $1 AND ($2 = 0 OR version < $2)
		ORDER BY version DESC LIMIT $3`, householdID, before, limit)
	if err != nil {
		return nil, internal(err, "listing facts")
	}
	defer rows.Close()
	var out []household.Facts
	for rows.Next() {
		var f household.Facts
		if err := rows.Scan(&f.Version, &f.Members, &f.Labourers, money{&f.AnnualIncome}, money{&f.LandAreaMu},
			money{&f.CollectiveShares}, money{&f.ExistingDebt}, &f.DishonestDebtor, &f.Source,
			date[household.Date]{&f.AsOf}, &f.RecordedBy, ts{&f.RecordTime}); err != nil {
			return nil, internal(err, "listing facts")
		}
		out = append(out, f)
	}
	return out, internal(rows.Err(), "listing facts")
}

// InsertHousehold implements household.Writer.
func (tx *Tx) InsertHousehold(ctx context.Context, h *household.Household, requestID, requestHash string) error {
	// ON CONFLICT DO NOTHING rather than a failing insert: a unique
	// violation would abort a PostgreSQL transaction, and the caller needs
	// to go on reading to explain the conflict.
	n, err := tx.q.Exec(ctx, `INSERT INTO households (id, village_code, head_name, head_id_masked,
		head_id_key, head_id_cipher, head_id_index, group_no, address, registered_on, facts_version,
		request_id, request_hash, create_time, update_time)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT DO NOTHING`,
		h.ID, h.Village, h.HeadName, h.HeadIDMasked, h.HeadID.KeyID, h.HeadID.Ciphertext, h.HeadID.Index,
		h.Group, h.Address, string(h.Registered), h.Facts.Version, requestID, requestHash,
		tsArg(h.CreateTime), tsArg(h.UpdateTime))
	if err != nil {
		return internal(err, "inserting a household")
	}
	if n == 0 {
		return fault.New(fault.AlreadyExists, "HOUSEHOLD_EXISTS", "household already registered")
	}
	if err := tx.InsertFacts(ctx, h.ID, h.Facts); err != nil {
		return err
	}
	return tx.InsertMembers(ctx, h.ID, h.Facts.Version, h.Members)
}

// InsertMembers implements household.Writer. One statement for the
// whole list: a household's members are written together, and the demo
// county writes thousands.
func (tx *Tx) InsertMembers(ctx context.Context, householdID string, version int64, ms []household.Member) error {
	if len(ms) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO household_members (household_id, version, member_no, name,
		relation, id_masked, id_key, id_cipher, id_index, labour) VALUES `)
	args := make([]any, 0, 10*len(ms))
	for i, m := range ms {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(")
		for j := range 10 {
			if j > 0 {
				q.WriteString(", ")
			}
			fmt.Fprintf(&q, "$%d", 10*i+j+1)
		}
		q.WriteString(")")
		args = append(args, householdID, version, m.Number, m.Name, m.Relation.String(), m.IDMasked, m.ID.KeyID,
			m.ID.Ciphertext, m.ID.Index, m.Labour.String())
	}
	if _, err := tx.q.Exec(ctx, q.String(), args...); err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "MEMBER_EXISTS",
				"a member number, a 身份证号 or the head is twice in version %d of household %s", version, householdID)
		}
		return internal(err, "inserting members")
	}
	return nil
}

// MaxMemberNumber implements household.Writer.
func (tx *Tx) MaxMemberNumber(ctx context.Context, householdID string) (int32, error) {
	var n int32
	err := tx.q.QueryRow(ctx, `SELECT COALESCE(MAX(member_no), 0) FROM household_members WHERE household_id = $1`,
		householdID).Scan(&n)
	return n, internal(err, "reading member numbers")
}

// UpdateHousehold implements household.Writer.
func (tx *Tx) UpdateHousehold(ctx context.Context, h *household.Household) error {
	n, err := tx.q.Exec(ctx, `UPDATE households SET head_name = $1, group_no = $2, address = $3,
		facts_version = $4, update_time = $5 WHERE id = $6`,
		h.HeadName, h.Group, h.Address, h.Facts.Version, tsArg(h.UpdateTime), h.ID)
	if err != nil {
		return internal(err, "updating a household")
	}
	if n == 0 {
		return fault.New(fault.NotFound, "HOUSEHOLD_NOT_FOUND", "household %s not found", h.ID)
	}
	// The head's name is not versioned: the head member of every version
	// is the household's head as named now.
	_, err = tx.q.Exec(ctx, `UPDATE household_members SET name = $1
		WHERE household_id = $2 AND relation = 'head' AND name <> $1`, h.HeadName, h.ID)
	return internal(err, "renaming the head member")
}

// InsertFacts implements household.Writer.
func (tx *Tx) InsertFacts(ctx context.Context, householdID string, f household.Facts) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO household_facts (household_id, `+factsColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		householdID, f.Version, f.Members, f.Labourers, moneyArg(f.AnnualIncome), moneyArg(f.LandAreaMu),
		moneyArg(f.CollectiveShares), moneyArg(f.ExistingDebt), f.DishonestDebtor, f.Source,
		string(f.AsOf), f.RecordedBy, tsArg(f.RecordTime))
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "FACTS_VERSION_EXISTS",
				"facts version %d of household %s already exists", f.Version, householdID)
		}
		return internal(err, "inserting facts")
	}
	return nil
}
