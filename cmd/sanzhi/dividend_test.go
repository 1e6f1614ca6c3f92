package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/scoring/dividend"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

const yantou = "330483105208"

func yantouRule(version int, shares, pts string) string {
	return fmt.Sprintf(`kind: dividend_rule
village: "%s"
version: %d
name: 堰头村股份+积分分红
split: {shares_percent: %s, points_percent: %s}
points: {balance: credit}
household_cap: 800
exclusions: {black_list: points}
public_notice_days: 1
`, yantou, version, shares, pts)
}

// A clerk runs a round of the demo county from the command line through
// 公示 to the bank's file: every refusal on the way writes nothing, and
// the file adds up to the pool to the fen.
func TestDividendCLI(t *testing.T) {
	db := demoCopy(t)
	dir := t.TempDir()
	clerk, reviewer := "sz_demo_clerk_yantou", "sz_demo_reviewer_yantou"
	dv := func(args ...string) (string, error) {
		return run(t, append(append([]string{"dividend"}, args...), "--database", db)...)
	}

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(yantouRule(7, "60", "30")), 0o600))
	out, err := run(t, "dividend", "rule", "lint", bad)
	require.Error(t, err)
	assert.Contains(t, out, bad+":5:8: split: shares_percent 60 + points_percent 30 = 90; the two parts must add up to exactly 100")
	_, err = dv("rule", "upload", bad, "--key", clerk)
	require.Error(t, err, "an invalid rule is not stored")

	good := filepath.Join(dir, "rule.yaml")
	require.NoError(t, os.WriteFile(good, []byte(yantouRule(7, "70", "30")), 0o600))
	out, err = run(t, "dividend", "rule", "lint", good)
	require.NoError(t, err, out)
	assert.Contains(t, out, "70% by shares, 30% by points")
	out, err = dv("rule", "upload", good, "--key", clerk)
	require.NoError(t, err, out)
	name := "villages/" + yantou + "/dividendRules/7"
	assert.Contains(t, out, name+": draft")
	_, err = dv("rule", "activate", name, "--key", clerk)
	require.Error(t, err, "a clerk does not activate")
	out, err = dv("rule", "activate", name, "--key", reviewer)
	require.NoError(t, err, out)
	assert.Contains(t, out, name+": active")

	day := string(points.AddDays(household.Today(time.Now()), -1))
	create := func(key, village, pool, date string) (string, error) {
		return dv("round", "create", "--village", village, "--title", "2025年度分红", "--pool", pool, "--record-date", date, "--key", key)
	}
	_, err = create(clerk, yantou, "-1", day)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "round.pool")
	_, err = create(clerk, yantou, "1000.001", day)
	require.Error(t, err)
	_, err = create(clerk, yantou, "50000", string(points.AddDays(household.Today(time.Now()), 2)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "in the future")
	_, err = create(clerk, "330483102215", "50000", day)
	require.Error(t, err, "a round of another village")
	assert.Contains(t, err.Error(), "outside the scope")
	_, err = create(reviewer, yantou, "50000", day)
	require.Error(t, err, "a reviewer does not create rounds")

	out, err = create(clerk, yantou, "123456.78", day)
	require.NoError(t, err, out)
	round := regexp.MustCompile(`villages/\d+/dividendRounds/[0-9a-f-]{36}`).FindString(out)
	require.NotEmpty(t, round, out)
	assert.Contains(t, out, ": draft, ")

	_, err = dv("round", "review", round, "--approve", "--key", clerk)
	require.Error(t, err, "not by its creator (nor by a clerk at all)")
	out, err = dv("round", "review", round, "--approve", "--key", reviewer)
	require.NoError(t, err, out)
	assert.Contains(t, out, "on_notice")
	_, err = dv("round", "approve", round, "--key", reviewer)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "public notice runs until")
	_, err = dv("round", "payout", round, "--key", clerk)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "only an approved round is paid out")

	// A household's statement, in Chinese by default.
	out, err = dv("round", "show", round, "--key", clerk)
	require.NoError(t, err, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Greater(t, len(lines), 100)
	first := strings.Split(lines[1], "\t")
	out, err = dv("round", "statement", round, "--household", "villages/"+yantou+"/households/"+first[0], "--key", clerk)
	require.NoError(t, err, out)
	assert.Contains(t, out, "户主："+first[1])
	assert.Contains(t, out, "本户应得：")
	assert.Contains(t, out, "每户封顶：¥800.00")

	// The notice ends tomorrow: approve it as the reviewer would then.
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	p, err := st.Store().Principals().PrincipalByKey(ctx, access.HashKey(reviewer))
	require.NoError(t, err)
	later := func() time.Time { return time.Now().Add(48 * time.Hour) }
	_, err = dividend.NewService(st.Store().Dividends(), later).ApproveRound(ctx, p, round)
	require.NoError(t, err)
	st.Close()

	file := filepath.Join(dir, "payout.csv")
	out, err = dv("round", "payout", round, "-o", file, "--key", clerk)
	require.NoError(t, err, out)
	assert.Contains(t, out, "total 123456.78 yuan")
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(raw, []byte("\xEF\xBB\xBF")))
	recs, err := csv.NewReader(bytes.NewReader(raw[3:])).ReadAll()
	require.NoError(t, err)
	sum := decimal.Zero
	for _, r := range recs[1:] {
		amount := decimal.RequireFromString(r[4])
		assert.True(t, amount.LessThanOrEqual(decimal.NewFromInt(800)), "the cap holds: %s", r[4])
		sum = sum.Add(amount)
	}
	assert.Equal(t, "123456.78", sum.StringFixed(2), "the file pays the pool to the fen")

	out, err = dv("round", "verify", round, "--key", clerk)
	require.NoError(t, err, out)
	assert.Contains(t, out, "replayed from inputs:")
	assert.Regexp(t, `replayed from inputs: +[0-9a-f]{64} IDENTICAL`, out)
	assert.Regexp(t, `recomputed from ledger: +[0-9a-f]{64} IDENTICAL`, out)
}
