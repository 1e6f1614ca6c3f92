package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// A clerk lists a demo household's members and sets them from a CSV file;
// bad rows are named by row and nothing is stored; another village's
// clerk is refused.
func TestHouseholdMembers(t *testing.T) {
	db := demoCopy(t)
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	var h *household.Household
	require.NoError(t, st.Store().Households().Read(ctx, func(r household.Reader) error {
		hs, err := r.Households(ctx, household.ListQuery{Village: nanyang, Limit: 1})
		h = hs[0]
		return err
	}))
	st.Close()
	name := h.Name()
	key := []string{"--database", db, "--key", "sz_demo_clerk_nanyang"}

	out, err := run(t, append([]string{"household", "members", name}, key...)...)
	require.NoError(t, err)
	assert.Contains(t, out, h.HeadName)
	assert.Contains(t, out, "户主")
	assert.Contains(t, out, h.HeadIDMasked)

	dir := t.TempDir()
	lines := []string{"\ufeff编号,姓名,与户主关系,身份证号,劳动力状况"}
	for _, m := range h.Members {
		lines = append(lines, strconv.Itoa(int(m.Number))+","+m.Name+","+m.Relation.Words().ZH+",,"+m.Labour.Words().ZH)
	}
	good := filepath.Join(dir, "good.csv")
	require.NoError(t, os.WriteFile(good, []byte(strings.Join(append(lines, ",沈小宝,孙子女,330483202501010018,非劳动力"), "\n")), 0o600))
	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Join(append(lines, ",沈小宝,孙子女,330483202501010017,非劳动力", ",,子女,,劳动力"), "\n")), 0o600))

	out, err = run(t, append([]string{"household", "set-members", name, bad}, key...)...)
	require.Error(t, err)
	n := len(h.Members)
	assert.Contains(t, out, "row "+strconv.Itoa(n+1)+" (household.members["+strconv.Itoa(n)+"].id_number)")
	assert.Contains(t, out, "row "+strconv.Itoa(n+2)+" (household.members["+strconv.Itoa(n+1)+"].name)")
	assert.Contains(t, err.Error(), "nothing stored")

	out, err = run(t, "household", "set-members", name, good, "--database", db, "--key", "sz_demo_clerk_yantou")
	require.Error(t, err, "another village's clerk")
	assert.NotContains(t, out, "沈小宝")

	out, err = run(t, append([]string{"household", "set-members", name, good}, key...)...)
	require.NoError(t, err, out)
	assert.Contains(t, out, "沈小宝")
	assert.Contains(t, out, "330483********0018")
	assert.NotContains(t, out, "330483202501010018")
	assert.Contains(t, out, "facts version 2: "+strconv.Itoa(n+1)+" people")
}
