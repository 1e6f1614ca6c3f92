package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
)

// tableCounts counts the rows of every table: what "writes nothing" means.
func tableCounts(t *testing.T, db string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	defer st.Close()
	out := map[string]int64{}
	for _, table := range []string{"audit_queue", "audit_leaves", "evidence", "ledger_entries", "household_points",
		"households", "household_facts", "domain_events", "policy_versions", "catalogues", "principals"} {
		var n int64
		err := st.Store().Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
			return q.QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n)
		})
		require.NoError(t, err, table)
		out[table] = n
	}
	return out
}

func TestPolicySimulate(t *testing.T) {
	dir := t.TempDir()
	db := demoCopy(t)

	// The draft: C needs 30 more points, AA's base amount rises.
	src, err := os.ReadFile(policyExample)
	require.NoError(t, err)
	draft := strings.Replace(string(src), "\nversion: 1\n", "\nversion: 2\n", 1)
	draft = strings.Replace(draft, "{grade: C, min_score: 300,", "{grade: C, min_score: 330,", 1)
	draft = strings.Replace(draft, "AA: 200000, A: 100000", "AA: 220000, A: 100000", 1)
	require.NotEqual(t, string(src), draft)
	newFile := filepath.Join(dir, "v2.yaml")
	require.NoError(t, os.WriteFile(newFile, []byte(draft), 0o600))

	before := tableCounts(t, db)
	sim := func(extra ...string) (string, error) {
		return run(t, append([]string{"policy", "simulate", "--database", db, "--policy", newFile,
			"--against", policyExample, "--as-of", "2026-06-30", "--no-progress"}, extra...)...)
	}

	// Table, zh-CN.
	zh, err := sim()
	require.NoError(t, err, zh)
	assert.Contains(t, zh, "等级迁移（行：对照等级，列：新等级）")
	assert.Contains(t, zh, "对照＼新")
	assert.Contains(t, zh, "tongxiang-rcb/sanzhi-xindai v2")
	assert.Contains(t, zh, "失去授信户: ")
	assert.Contains(t, zh, "评分分布")
	assert.Regexp(t, `授信总额（元）\s+[\d,]+\s+[\d,]+\s+-[\d,]+`, zh, "raising C's threshold lowers the exposure")
	again, err := sim()
	require.NoError(t, err)
	assert.Equal(t, stripTiming(zh), stripTiming(again), "deterministic")

	// English.
	en, err := sim("--lang", "en")
	require.NoError(t, err, en)
	assert.Contains(t, en, "Grade migration")
	assert.Contains(t, en, "Households losing a line: ")

	// CSV, with per-household lines.
	csvFile, hhFile := filepath.Join(dir, "r.csv"), filepath.Join(dir, "hh.csv")
	_, err = sim("--format", "csv", "--out", csvFile, "--households-csv", hhFile)
	require.Error(t, err, "per-household rows are for regulators only")
	assert.Contains(t, err.Error(), "regulators only")
	_, err = sim("--format", "csv", "--out", csvFile, "--households-csv", hhFile, "--key", "sz_demo_regulator")
	require.NoError(t, err)
	raw, err := os.ReadFile(csvFile)
	require.NoError(t, err)
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	require.NoError(t, err)
	sections := map[string][][]string{}
	var cur string
	for _, rec := range records {
		if len(rec) == 2 && rec[0] == "section" {
			cur = rec[1]
			continue
		}
		sections[cur] = append(sections[cur], rec)
	}
	for _, s := range []string{"summary", "grade_migration", "eligibility_changes", "exposure_by_village", "score_distribution", "knockouts"} {
		assert.NotEmpty(t, sections[s], "section %s", s)
	}
	var households, lost int
	var exposureChange string
	for _, rec := range sections["summary"] {
		switch rec[0] {
		case "households":
			households, _ = strconv.Atoi(rec[2])
		case "lost":
			lost, _ = strconv.Atoi(rec[3])
		case "exposure":
			exposureChange = rec[3]
		}
	}
	assert.Positive(t, households)
	assert.Positive(t, lost)
	assert.True(t, strings.HasPrefix(exposureChange, "-"), "exposure change %q", exposureChange)
	assert.Equal(t, []string{"base_grade", "AAA", "AA", "A", "B", "C", "D"}, sections["grade_migration"][0])
	migrated := 0
	for _, rec := range sections["grade_migration"][1:] {
		for _, c := range rec[1:] {
			n, err := strconv.Atoi(c)
			require.NoError(t, err)
			migrated += n
		}
	}
	assert.Equal(t, households, migrated, "every household is in the matrix once")

	hhRaw, err := os.ReadFile(hhFile)
	require.NoError(t, err)
	hh, err := csv.NewReader(bytes.NewReader(hhRaw)).ReadAll()
	require.NoError(t, err)
	assert.Len(t, hh, households+1)
	assert.Equal(t, "household", hh[0][0])
	for _, rec := range hh[1:] {
		assert.Contains(t, rec[2], "*", "head names are masked")
	}

	// HTML: self-contained, parses, has the charts.
	htmlFile := filepath.Join(dir, "r.html")
	_, err = sim("--format", "html", "--out", htmlFile)
	require.NoError(t, err)
	page, err := os.ReadFile(htmlFile)
	require.NoError(t, err)
	doc, err := html.Parse(bytes.NewReader(page))
	require.NoError(t, err)
	svgs, rects := 0, 0
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "svg":
				svgs++
			case "rect":
				rects++
			case "script", "link":
				t.Errorf("the page must be self-contained, found <%s>", n.Data)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	assert.Equal(t, 2, svgs, "score distribution and village exposure charts")
	assert.Positive(t, rects)
	assert.Contains(t, string(page), "<svg")
	assert.Contains(t, string(page), "等级迁移")

	// A village filter, and no base policy.
	out, err := run(t, "policy", "simulate", "--database", db, "--policy", newFile, "--village", nanyang, "--no-progress", "--lang", "en")
	require.NoError(t, err, out)
	assert.Contains(t, out, "scope 330483102215")
	assert.Contains(t, out, "Against    none")
	assert.NotContains(t, out, "330483105208")

	// Errors.
	// The demo activates the example policy: --against-active reads it.
	active, err := run(t, "policy", "simulate", "--database", db, "--policy", newFile, "--against-active",
		"--as-of", "2026-06-30", "--no-progress")
	require.NoError(t, err, active)
	assert.Equal(t, stripTiming(zh), stripTiming(active), "the active policy is the example")
	_, err = run(t, "policy", "simulate", "--database", db, "--policy", newFile, "--against-active", "--bank", "no-such-bank", "--no-progress")
	require.Error(t, err, "no active policy stored")
	assert.Contains(t, err.Error(), "active policy")
	_, err = run(t, "policy", "simulate", "--database", db, "--policy", newFile, "--against-active", "--against", policyExample)
	require.Error(t, err)
	_, err = run(t, "policy", "simulate", "--database", db, "--policy", newFile, "--format", "pdf")
	require.Error(t, err)
	_, err = run(t, "policy", "simulate", "--database", db, "--policy", newFile, "--as-of", "2999-01-01")
	require.Error(t, err)

	// Each simulation that produced output wrote exactly one audit
	// entry; nothing else changed.
	after := tableCounts(t, db)
	assert.Equal(t, int64(7), after["audit_queue"]+after["audit_leaves"]-before["audit_queue"]-before["audit_leaves"])
	for _, tb := range []string{"audit_queue", "audit_leaves"} {
		delete(before, tb)
		delete(after, tb)
	}
	assert.Equal(t, before, after, "a simulation writes nothing but its audit entry")
}

func stripTiming(s string) string {
	if i := strings.Index(s, "已模拟"); i >= 0 {
		return s[:i]
	}
	return s
}
