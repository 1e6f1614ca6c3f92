package lending

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

const (
	bank  = "banks/tongxiang-rcb"
	today = household.Date("2025-06-10")
)

func activeLine() Line {
	return Line{
		ID: "l1", Household: testHousehold, Bank: bank,
		Limit: dec("100000"), Drawn: dec("30000"), Rate: dec("0.0435"),
		Status: StatusActive, ValidUntil: "2026-06-10", DecisionID: "d1", Version: 3,
	}
}

func TestAvailable(t *testing.T) {
	tests := []struct{ limit, drawn, want string }{
		{"100000", "0", "100000"},
		{"100000", "30000.50", "69999.5"},
		{"100000", "100000", "0"},
		{"50000", "80000", "0"}, // limit lowered below drawn
		{"0", "10", "0"},
	}
	for _, tt := range tests {
		l := Line{Limit: dec(tt.limit), Drawn: dec(tt.drawn)}
		assert.True(t, l.Available().Equal(dec(tt.want)), "%s-%s: got %s", tt.limit, tt.drawn, l.Available())
	}
}

func TestStatusOn(t *testing.T) {
	tests := []struct {
		name       string
		status     Status
		validUntil household.Date
		day        household.Date
		want       Status
	}{
		{"active before", StatusActive, "2025-06-11", "2025-06-10", StatusActive},
		{"active on valid-until", StatusActive, "2025-06-10", "2025-06-10", StatusExpired},
		{"active after", StatusActive, "2025-06-09", "2025-06-10", StatusExpired},
		{"no valid-until fails closed", StatusActive, "", "2025-06-10", StatusExpired},
		{"frozen stays frozen after expiry", StatusFrozen, "2025-01-01", "2025-06-10", StatusFrozen},
		{"frozen before expiry", StatusFrozen, "2026-01-01", "2025-06-10", StatusFrozen},
		{"closed stays closed", StatusClosed, "2025-01-01", "2025-06-10", StatusClosed},
		{"stored expired stays expired", StatusExpired, "2026-01-01", "2025-06-10", StatusExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := Line{Status: tt.status, ValidUntil: tt.validUntil}
			assert.Equal(t, tt.want, l.StatusOn(tt.day))
		})
	}
}

func eligible(limit, rate string) rules.Decision {
	return rules.Decision{Bank: bank, Eligible: true, Limit: dec(limit), Rate: dec(rate), On: today, ValidUntil: "2026-06-10"}
}

func ineligible() rules.Decision {
	return rules.Decision{Bank: bank, Eligible: false, Limit: decimal.Zero, Rate: decimal.Zero, On: today, ValidUntil: "2026-06-10"}
}

func TestApply(t *testing.T) {
	t.Run("opens a line from the zero value", func(t *testing.T) {
		l := Apply(Line{}, eligible("80000", "0.05"), "d9")
		assert.Equal(t, bank, l.Bank)
		assert.True(t, l.Limit.Equal(dec("80000")))
		assert.True(t, l.Drawn.IsZero())
		assert.True(t, l.Rate.Equal(dec("0.05")))
		assert.Equal(t, StatusActive, l.Status)
		assert.Equal(t, household.Date("2026-06-10"), l.ValidUntil)
		assert.Equal(t, "d9", l.DecisionID)
		assert.Equal(t, 1, l.Version)
	})
	t.Run("eligible updates limit and rate, keeps drawn", func(t *testing.T) {
		l := Apply(activeLine(), eligible("20000", "0.06"), "d2")
		assert.True(t, l.Limit.Equal(dec("20000")))
		assert.True(t, l.Drawn.Equal(dec("30000")))
		assert.True(t, l.Available().IsZero())
		assert.True(t, l.Rate.Equal(dec("0.06")))
		assert.Equal(t, 4, l.Version)
	})
	t.Run("ineligible zeroes limit, keeps drawn and rate", func(t *testing.T) {
		l := Apply(activeLine(), ineligible(), "d2")
		assert.True(t, l.Limit.IsZero())
		assert.True(t, l.Drawn.Equal(dec("30000")))
		assert.True(t, l.Rate.Equal(dec("0.0435")))
		assert.Equal(t, StatusActive, l.Status)
		assert.Equal(t, "d2", l.DecisionID)
		_, err := Drawdown(l, dec("1"), UseAgriculture, today)
		requireFault(t, err, fault.FailedPrecondition, ReasonInsufficientAvailable)
	})
	t.Run("renews an expired line", func(t *testing.T) {
		old := activeLine()
		old.Status = StatusExpired
		l := Apply(old, eligible("100000", "0.0435"), "d2")
		assert.Equal(t, StatusActive, l.StatusOn(today))
	})
	t.Run("does not lift a freeze", func(t *testing.T) {
		l := Apply(Freeze(activeLine(), "blacklist"), eligible("100000", "0.0435"), "d2")
		assert.Equal(t, StatusFrozen, l.Status)
		assert.Equal(t, "d2", l.DecisionID)
	})
	t.Run("closed line unchanged", func(t *testing.T) {
		closed := activeLine()
		closed.Drawn = decimal.Zero
		closed, err := Close(closed)
		require.NoError(t, err)
		requireFault(t, CanApply(closed, eligible("1", "0.1")), fault.FailedPrecondition, ReasonLineClosed)
		assert.Equal(t, closed, Apply(closed, eligible("1", "0.1"), "d2"))
	})
	t.Run("other bank's decision unchanged", func(t *testing.T) {
		d := eligible("1", "0.1")
		d.Bank = "banks/other"
		requireFault(t, CanApply(activeLine(), d), fault.FailedPrecondition, ReasonBankMismatch)
		assert.Equal(t, activeLine(), Apply(activeLine(), d, "d2"))
	})
	t.Run("CanApply ok", func(t *testing.T) {
		require.NoError(t, CanApply(activeLine(), eligible("1", "0.1")))
		require.NoError(t, CanApply(Line{}, eligible("1", "0.1")))
	})
}

func TestDrawdown(t *testing.T) {
	frozen := Freeze(activeLine(), "blacklist")
	expired := activeLine()
	expired.ValidUntil = today
	closed := activeLine()
	closed.Status = StatusClosed
	tests := []struct {
		name   string
		line   Line
		amount string
		use    Use
		day    household.Date
		kind   fault.Kind
		reason string // "" = success
		field  string // for Invalid
	}{
		{"ok", activeLine(), "1000.50", UseAgriculture, today, 0, "", ""},
		{"ok exactly available", activeLine(), "70000", UseLivestock, today, 0, "", ""},
		{"ok day before expiry", activeLine(), "1", UseMedical, "2026-06-09", 0, "", ""},
		{"over available by a fen", activeLine(), "70000.01", UseBusiness, today, fault.FailedPrecondition, ReasonInsufficientAvailable, ""},
		{"frozen", frozen, "1", UseAgriculture, today, fault.FailedPrecondition, ReasonLineFrozen, ""},
		{"expired on valid-until", expired, "1", UseAgriculture, today, fault.FailedPrecondition, ReasonLineExpired, ""},
		{"closed", closed, "1", UseAgriculture, today, fault.FailedPrecondition, ReasonLineClosed, ""},
		{"housing", activeLine(), "1", UseHousingPurchase, today, fault.FailedPrecondition, ReasonUseForbidden, ""},
		{"securities", activeLine(), "1", UseSecurities, today, fault.FailedPrecondition, ReasonUseForbidden, ""},
		{"relending", activeLine(), "1", UseRelending, today, fault.FailedPrecondition, ReasonUseForbidden, ""},
		{"unknown use", activeLine(), "1", "gambling", today, fault.Invalid, "INVALID_ARGUMENT", "use"},
		{"bad day", activeLine(), "1", UseAgriculture, "", fault.Invalid, "INVALID_ARGUMENT", "day"},
		{"zero amount", activeLine(), "0", UseAgriculture, today, fault.Invalid, "INVALID_ARGUMENT", "amount"},
		{"negative amount", activeLine(), "-5", UseAgriculture, today, fault.Invalid, "INVALID_ARGUMENT", "amount"},
		{"sub-fen amount", activeLine(), "0.001", UseAgriculture, today, fault.Invalid, "INVALID_ARGUMENT", "amount"},
		{"huge amount", activeLine(), "1e30", UseAgriculture, today, fault.Invalid, "INVALID_ARGUMENT", "amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Drawdown(tt.line, dec(tt.amount), tt.use, tt.day)
			if tt.reason == "" {
				require.NoError(t, err)
				assert.True(t, got.Drawn.Equal(tt.line.Drawn.Add(dec(tt.amount))))
				assert.Equal(t, tt.line.Version+1, got.Version)
				return
			}
			requireFault(t, err, tt.kind, tt.reason)
			if tt.field != "" {
				requireInvalidField(t, err, tt.field)
			}
			assert.Equal(t, tt.line, got, "a refused drawdown leaves the line unchanged")
		})
	}
}

func TestRulesForbiddenUses(t *testing.T) {
	r := Rules{ForbiddenUses: []Use{UseConsumption}}
	_, err := r.Drawdown(activeLine(), dec("1"), UseConsumption, today)
	requireFault(t, err, fault.FailedPrecondition, ReasonUseForbidden)
	_, err = r.Drawdown(activeLine(), dec("1"), UseHousingPurchase, today)
	require.NoError(t, err, "only the rules' own uses are forbidden")

	d := DefaultRules()
	d.ForbiddenUses[0] = UseAgriculture
	assert.Equal(t, UseHousingPurchase, DefaultRules().ForbiddenUses[0], "DefaultRules is a fresh copy")
}

func TestRepayment(t *testing.T) {
	frozen := Freeze(activeLine(), "blacklist")
	expired := activeLine()
	expired.Status = StatusExpired
	tests := []struct {
		name   string
		line   Line
		amount string
		reason string
	}{
		{"partial", activeLine(), "10000", ""},
		{"all", activeLine(), "30000", ""},
		{"frozen may repay", frozen, "5000", ""},
		{"expired may repay", expired, "5000", ""},
		{"more than drawn", activeLine(), "30000.01", ReasonRepaymentExceedsDrawn},
		{"nothing drawn", Line{Status: StatusActive}, "1", ReasonRepaymentExceedsDrawn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Repayment(tt.line, dec(tt.amount))
			if tt.reason == "" {
				require.NoError(t, err)
				assert.True(t, got.Drawn.Equal(tt.line.Drawn.Sub(dec(tt.amount))))
				assert.Equal(t, tt.line.Status, got.Status)
				assert.Equal(t, tt.line.Version+1, got.Version)
				return
			}
			requireFault(t, err, fault.FailedPrecondition, tt.reason)
			assert.Equal(t, tt.line, got)
		})
	}
	for _, bad := range []string{"0", "-1", "0.001"} {
		_, err := Repayment(activeLine(), dec(bad))
		requireInvalidField(t, err, "amount")
	}
}

func TestFreezeUnfreezeClose(t *testing.T) {
	f := Freeze(activeLine(), "blacklist")
	assert.Equal(t, StatusFrozen, f.Status)
	assert.Equal(t, "blacklist", f.FreezeReason)
	assert.Equal(t, 4, f.Version)

	again := Freeze(f, "overdue")
	assert.Equal(t, f, again, "freezing is idempotent and keeps the first reason")

	closed := activeLine()
	closed.Status = StatusClosed
	assert.Equal(t, closed, Freeze(closed, "x"), "a closed line stays closed")

	u := Unfreeze(f)
	assert.Equal(t, StatusActive, u.Status)
	assert.Empty(t, u.FreezeReason)
	assert.Equal(t, 5, u.Version)
	assert.Equal(t, u, Unfreeze(u), "unfreezing an active line is a no-op")
	_, err := Drawdown(u, dec("1"), UseAgriculture, today)
	require.NoError(t, err)

	_, err = Close(activeLine())
	requireFault(t, err, fault.FailedPrecondition, ReasonLineHasBalance)
	paid, err := Repayment(activeLine(), dec("30000"))
	require.NoError(t, err)
	c, err := Close(paid)
	require.NoError(t, err)
	assert.Equal(t, StatusClosed, c.Status)
	c2, err := Close(c)
	require.NoError(t, err)
	assert.Equal(t, c, c2)
}

func TestCheckTotalExposure(t *testing.T) {
	tests := []struct {
		name              string
		other, this, cap_ string
		reason            string
		field             string
	}{
		{"under", "100000", "50000", "200000", "", ""},
		{"exactly at cap", "150000", "50000", "200000", "", ""},
		{"a fen over", "150000", "50000.01", "200000", ReasonTotalExposureExceeded, ""},
		{"no cap", "1000000000", "1", "0", "", ""},
		{"other banks alone over", "300000", "0", "200000", ReasonTotalExposureExceeded, ""},
		{"negative cap", "0", "0", "-1", "INVALID_ARGUMENT", "total_exposure_cap"},
		{"negative other", "-1", "0", "10", "INVALID_ARGUMENT", "other_banks_drawn"},
		{"negative this", "0", "-1", "10", "INVALID_ARGUMENT", "this_line_drawn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckTotalExposure(dec(tt.other), dec(tt.this), dec(tt.cap_))
			switch {
			case tt.reason == "":
				require.NoError(t, err)
			case tt.field != "":
				requireInvalidField(t, err, tt.field)
			default:
				requireFault(t, err, fault.FailedPrecondition, tt.reason)
			}
		})
	}
}
