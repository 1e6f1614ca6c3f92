package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
)

// pagedEntries answers every listing with no entries and "more after
// resume", and remembers the query it was asked.
type pagedEntries struct {
	q      sqlstore.EntryQuery
	limit  int
	calls  int
	resume int64
}

func (s *pagedEntries) ListVisibleEntries(_ context.Context, q sqlstore.EntryQuery, limit int, _ func(audit.Entry) bool) ([]sqlstore.Leaf, int64, bool, error) {
	s.q, s.limit = q, limit
	s.calls++
	return nil, s.resume, true, nil
}

func violatedFields(t *testing.T, err error) []string {
	t.Helper()
	var fe *fault.Error
	require.True(t, errors.As(err, &fe), "%v", err)
	require.Equal(t, fault.Invalid, fe.Kind)
	var out []string
	for _, v := range fe.Violations {
		out = append(out, v.Field)
	}
	return out
}

// TestListEntriesOwnsItsTokens: the token ListEntries issues resumes the
// same filter where the store left off, and pages no other filter.
func TestListEntriesOwnsItsTokens(t *testing.T) {
	ctx := context.Background()
	p := &access.Principal{Role: access.Regulator}
	st := &pagedEntries{resume: 41}
	f := app.EntryFilter{Actor: "clerk", Village: "330483102215", Since: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}

	page, err := app.ListEntries(ctx, st, p, f, 0, "")
	require.NoError(t, err)
	require.NotEmpty(t, page.NextToken)
	assert.Equal(t, int64(-1), st.q.AfterSeq)
	assert.Equal(t, 50, st.limit)
	assert.Equal(t, "villages/330483102215/", st.q.SubjectPrefix)
	require.NotNil(t, st.q.Scope)

	_, err = app.ListEntries(ctx, st, p, f, 7, page.NextToken)
	require.NoError(t, err)
	assert.Equal(t, int64(41), st.q.AfterSeq)
	assert.Equal(t, 7, st.limit)

	other := f
	other.Actor = "reviewer"
	_, err = app.ListEntries(ctx, st, p, other, 2000, page.NextToken)
	assert.Equal(t, []string{"page_token", "page_size"}, violatedFields(t, err))

	backwards := f
	backwards.Until = f.Since
	_, err = app.ListEntries(ctx, st, p, backwards, 0, "")
	assert.Equal(t, []string{"end_time"}, violatedFields(t, err))
	assert.Equal(t, 2, st.calls, "refused requests read nothing")
}
