package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/demo"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// The demo county comes with the bank's book (`sanzhi demo seed`): lines
// of which some are assessed through a working-age member and some carry
// the bad-credit-record knock-out after the bank's arrears reports. An
// officer reports a status on a demo line from the command line; a bad
// report names its field and stores nothing; a risk manager is refused.
func TestLoanStatusCommands(t *testing.T) {
	db := demoCopy(t)
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	type lineInfo struct {
		line     *credit.Line
		decision *credit.Decision
		statuses []*credit.LoanStatus
	}
	var lines []lineInfo
	require.NoError(t, st.Store().Lending().Read(ctx, func(tx credit.Reader) error {
		ls, err := tx.Lines(ctx, credit.ListQuery{Bank: demo.Bank, Limit: 1000})
		if err != nil {
			return err
		}
		for _, l := range ls {
			d, err := tx.Decision(ctx, l.DecisionID)
			if err != nil {
				return err
			}
			ss, err := tx.LineStatuses(ctx, l.ID, 0, 100)
			if err != nil {
				return err
			}
			lines = append(lines, lineInfo{l, d, ss})
		}
		return nil
	}))
	st.Close()
	require.Greater(t, len(lines), 20, "the demo bank's book")
	var throughMember, knockedOut, clean *lineInfo
	for i := range lines {
		li := &lines[i]
		ko := slices.ContainsFunc(li.decision.Explanation.KnockOuts, func(t credit.Text) bool { return t.Code == "bad_credit_record" })
		switch {
		case li.decision.ApplicantMember > 1 && li.decision.Eligible && throughMember == nil:
			throughMember = li
		case ko && knockedOut == nil:
			knockedOut = li
		case li.decision.Eligible && len(li.statuses) > 0 && !li.statuses[0].Final() && li.statuses[0].DaysPastDue == 0 && clean == nil:
			clean = li
		}
	}
	require.NotNil(t, throughMember, "a household assessed through a working-age member")
	assert.Equal(t, throughMember.decision.ApplicantMember, throughMember.line.ApplicantMember)
	require.NotNil(t, knockedOut, "a household a bank reported in arrears, knocked out")
	assert.True(t, slices.ContainsFunc(knockedOut.statuses, func(s *credit.LoanStatus) bool { return s.Defaulted || s.DaysPastDue > 90 }))
	require.NotNil(t, clean, "a line paid on time")
	// `policy explain` reads the same repayment record as an assessment.
	out, err := run(t, "policy", "explain", "--database", db, "--household", knockedOut.line.Household)
	require.NoError(t, err, out)
	assert.Contains(t, out, "有不良信用记录")

	name := credit.LineName(clean.line.Bank, clean.line.Product, clean.line.ID)
	today := string(household.Today(time.Now()))
	officer := []string{"--database", db, "--key", "sz_demo_bank_officer"}
	count := func() int {
		out, err := run(t, append([]string{"loan", "statuses", name, "--page-size", "1000"}, officer...)...)
		require.NoError(t, err, out)
		return len(splitLines(out)) - 1 // the header
	}
	n := count()
	assert.Equal(t, len(clean.statuses), n)

	out, err = run(t, append([]string{"loan", "report-status", name, "--event-id", "cli-1", "--as-of", today,
		"--days-past-due", "3", "--overdue-principal", "-5", "--overdue-interest", "1", "--classification", "normal"}, officer...)...)
	require.Error(t, err)
	assert.Contains(t, out, "overdue_principal: must not be negative")
	assert.Contains(t, err.Error(), "nothing stored")
	out, err = run(t, "loan", "report-status", name, "--event-id", "cli-1", "--as-of", today, "--classification", "normal",
		"--database", db, "--key", "sz_demo_bank_risk")
	require.Error(t, err, out)
	assert.Equal(t, n, count(), "nothing stored")

	report := append([]string{"loan", "report-status", name, "--event-id", "cli-1", "--as-of", today,
		"--days-past-due", "12", "--overdue-principal", "800", "--overdue-interest", "3.5", "--classification", "special_mention"}, officer...)
	out, err = run(t, report...)
	require.NoError(t, err, out)
	assert.Contains(t, out, "recorded")
	assert.Contains(t, out, "special_mention 关注")
	out, err = run(t, report...)
	require.NoError(t, err, out)
	assert.Contains(t, out, "already recorded")
	assert.Equal(t, n+1, count())
	out, err = run(t, append([]string{"loan", "statuses", name}, officer...)...)
	require.NoError(t, err)
	assert.Contains(t, splitLines(out)[1], "cli-1", "newest first")
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}
