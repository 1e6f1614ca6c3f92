package dividend

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/yamldoc"
)

// DocKind is the value of a rule document's top-level "kind" field.
const DocKind = "dividend_rule"

// Limits on rule documents.
const (
	// MaxDocumentBytes is the largest rule document accepted.
	MaxDocumentBytes = 64 << 10
	// MaxVersion is the largest version number.
	MaxVersion = 1_000_000
	// MaxNoticeDays bounds the 公示 of a round, as catalogues bound theirs.
	MaxNoticeDays = 30
	// maxAreas bounds the areas a rule may list.
	maxAreas = 50
	// maxNameLen bounds the rule's title, in characters.
	maxNameLen = 100
)

// Balance says which of a household's points balances the points part of
// the pool is shared by (scoring/points.Balance).
type Balance string

const (
	// Credit is the for-credit points in force at the record date, above
	// the base: effective, not expired, after caps. It can be limited to
	// some areas.
	Credit Balance = "credit"
	// Redeemable is what the 兑换超市 could still pay out at the record
	// date: earned points net of redemptions (no validity, no areas).
	Redeemable Balance = "redeemable"
)

// BlackList says what a live 黑榜 listing at the record date costs a
// household.
type BlackList string

const (
	// KeepAll: the listing changes nothing.
	KeepAll BlackList = "none"
	// LosePoints: the household gets nothing from the points part; its
	// shares part stays. Shares are the household's property in the
	// collective; the points part is the reward for conduct.
	LosePoints BlackList = "points"
	// LoseAll: the household gets nothing from this round.
	LoseAll BlackList = "all"
)

// Rule is a parsed, valid rule document.
type Rule struct {
	Village string
	Version int
	Name    string
	// SharesPercent and PointsPercent split the pool; they add up to
	// exactly 100 and have at most two decimal places.
	SharesPercent decimal.Decimal
	PointsPercent decimal.Decimal
	// Balance and Areas say which points count (Areas: credit only; empty
	// means every area).
	Balance Balance
	Areas   []string
	// Cap is the most one household receives, in yuan (whole fen); zero
	// means no cap.
	Cap decimal.Decimal
	// BlackList is what a live 黑榜 listing costs.
	BlackList BlackList
	// NoticeDays is the length of a round's 公示 in calendar days.
	NoticeDays int
	// Hash is the lower-case hex SHA-256 of the document's bytes; a round
	// pins it.
	Hash string
}

// LintErrors is every problem found in a rule document, sorted by line
// and column; ParseRule returns it. It converts to an Invalid fault
// (reason DIVIDEND_RULE_INVALID, one violation per problem) under
// errors.As.
type LintErrors yamldoc.Problems

func (e LintErrors) Error() string { return yamldoc.Problems(e).Error() }

// Fault returns the problems as an Invalid fault, one violation per
// problem on the request's field "document", described as
// "line N:C: path: message".
func (e LintErrors) Fault() *fault.Error {
	f := yamldoc.Problems(e).Fault("DIVIDEND_RULE_INVALID", "dividend rule")
	for i, p := range e {
		f.Violations[i] = fault.Violation{Field: "document", Description: p.String()}
	}
	return f
}

// As lets errors.As convert the problems into a *fault.Error.
func (e LintErrors) As(target any) bool { return yamldoc.SetFault(target, e.Fault) }

var (
	areaPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	rootFields  = []string{"kind", "village", "version", "name", "split", "points", "household_cap",
		"exclusions", "public_notice_days"}
)

// ParseRule parses and validates a rule document strictly: unknown or
// repeated keys, values of the wrong type or out of range, percentages
// that do not add up to 100, areas with redeemable points are each a
// problem with its line. The error is LintErrors.
func ParseRule(src []byte) (*Rule, error) {
	r := &yamldoc.Reader{MaxNumberLen: 20}
	root := r.Load(src, MaxDocumentBytes, "kind: dividend_rule, village: ..., version: ..., ...")
	if root == nil {
		return nil, lintResult(r.Problems)
	}
	m := r.Fields(root, "", rootFields)
	rule := &Rule{BlackList: KeepAll}
	if s, ok := r.Str(m.Require("kind"), "kind"); ok && s != DocKind {
		r.Add(m.Get("kind"), "kind", "must be %q, got %q", DocKind, s)
	}
	if s, ok := r.Str(m.Require("village"), "village"); ok {
		if _, err := idnum.ParseVillageCode(s); err != nil {
			r.Add(m.Get("village"), "village", "%s", err.Error())
		} else {
			rule.Village = s
		}
	}
	rule.Version, _ = r.Integer(m.Require("version"), "version", 1, MaxVersion)
	rule.Name, _ = r.Text(m.Require("name"), "name", maxNameLen)
	splitOK := readSplit(r, m.Require("split"), rule)
	readPoints(r, m, rule, splitOK)
	if n := m.Get("household_cap"); n != nil {
		if d, ok := r.Decimal(n, "household_cap", "5000 or 2500.50"); ok {
			switch {
			case !d.IsPositive():
				r.Add(n, "household_cap", "must be positive, got %s; leave the field out for no cap", d)
			case !d.Equal(d.Truncate(2)):
				r.Add(n, "household_cap", "must be in whole fen (at most two decimal places), got %s", d)
			case d.GreaterThan(MaxPool):
				r.Add(n, "household_cap", "must be at most %s yuan, got %s", MaxPool, d)
			default:
				rule.Cap = d
			}
		}
	}
	if ex := r.Fields(m.Get("exclusions"), "exclusions", []string{"black_list"}); ex != nil {
		if s, ok := r.Str(ex.Require("black_list"), "exclusions.black_list"); ok {
			switch b := BlackList(s); b {
			case KeepAll, LosePoints, LoseAll:
				rule.BlackList = b
			default:
				r.Add(ex.Get("black_list"), "exclusions.black_list", "must be %q, %q or %q, got %q", KeepAll, LosePoints, LoseAll, s)
			}
		}
	}
	rule.NoticeDays, _ = r.Integer(m.Require("public_notice_days"), "public_notice_days", 1, MaxNoticeDays)
	if err := lintResult(r.Problems); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(src)
	rule.Hash = hex.EncodeToString(sum[:])
	return rule, nil
}

// readSplit reads split: {shares_percent, points_percent}; both between 0
// and 100 with at most two decimal places, adding up to exactly 100.
func readSplit(r *yamldoc.Reader, n *yaml.Node, rule *Rule) bool {
	sm := r.Fields(n, "split", []string{"shares_percent", "points_percent"})
	if sm == nil {
		return false
	}
	percent := func(key string) (decimal.Decimal, bool) {
		path := "split." + key
		d, ok := r.Decimal(sm.Require(key), path, "60 or 37.5")
		if !ok {
			return d, false
		}
		switch {
		case d.IsNegative() || d.GreaterThan(decimal.NewFromInt(100)):
			r.Add(sm.Get(key), path, "must be between 0 and 100, got %s", d)
			return d, false
		case !d.Equal(d.Truncate(2)):
			r.Add(sm.Get(key), path, "has more than two decimal places: %s", d)
			return d, false
		}
		return d, true
	}
	sp, ok1 := percent("shares_percent")
	pp, ok2 := percent("points_percent")
	if !ok1 || !ok2 {
		return false
	}
	if total := sp.Add(pp); !total.Equal(decimal.NewFromInt(100)) {
		r.Add(n, "split", "shares_percent %s + points_percent %s = %s; the two parts must add up to exactly 100",
			sp, pp, total)
		return false
	}
	rule.SharesPercent, rule.PointsPercent = sp, pp
	return true
}

// readPoints reads points: {balance, areas}. It is required when the
// points part is above zero and pointless otherwise.
func readPoints(r *yamldoc.Reader, m *yamldoc.Map, rule *Rule, splitOK bool) {
	n := m.Get("points")
	if n == nil {
		if splitOK && rule.PointsPercent.IsPositive() {
			r.Add(m.Node(), "points", "required: points_percent is %s, so say which points count (balance: credit or redeemable)", rule.PointsPercent)
		}
		return
	}
	pm := r.Fields(n, "points", []string{"balance", "areas"})
	if pm == nil {
		return
	}
	if s, ok := r.Str(pm.Require("balance"), "points.balance"); ok {
		switch b := Balance(s); b {
		case Credit, Redeemable:
			rule.Balance = b
		default:
			r.Add(pm.Get("balance"), "points.balance", "must be %q or %q, got %q", Credit, Redeemable, s)
		}
	}
	an := pm.Get("areas")
	if an == nil {
		return
	}
	if rule.Balance == Redeemable {
		r.Add(an, "points.areas", "applies to credit points only: redeemable points are not kept by area; remove it or use balance: credit")
		return
	}
	list, ok := r.List(an, "points.areas", maxAreas)
	if !ok {
		return
	}
	if len(list) == 0 {
		r.Add(an, "points.areas", "is empty; leave the field out to count every area")
		return
	}
	for i, a := range list {
		path := yamldoc.Index("points.areas", i)
		s, ok := r.Pattern(a, path, areaPattern, 32, "an area code of the catalogue, e.g. minsheng")
		if !ok {
			continue
		}
		if slices.Contains(rule.Areas, s) {
			r.Add(a, path, "area %q is listed twice", s)
			continue
		}
		rule.Areas = append(rule.Areas, s)
	}
}

func lintResult(ps yamldoc.Problems) error {
	if s := ps.Sorted(); s != nil {
		return LintErrors(s)
	}
	return nil
}
