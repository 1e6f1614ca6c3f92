package app_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending/credit"
)

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
// same filter where the last page stopped, and pages no other filter.
// Real stores, both engines: entries written, sequenced, then listed.
func TestListEntriesOwnsItsTokens(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		const village = "330483102215"
		require.NoError(t, st.Lending().Write(ctx, func(tx credit.Writer) error {
			for i := range 5 {
				actor := "clerk"
				if i == 2 {
					actor = "reviewer" // another actor's entry, between the clerk's
				}
				if err := tx.Record(ctx, audit.Record{Time: since.Add(time.Duration(i) * time.Hour), Actor: actor,
					Action: "household.update", Subject: fmt.Sprintf("villages/%s/households/h%d", village, i)}); err != nil {
					return err
				}
			}
			return nil
		}))
		_, _, err := st.Integrate(ctx, 100)
		require.NoError(t, err)

		p := &access.Principal{Role: access.Regulator}
		f := app.EntryFilter{Actor: "clerk", Village: village, Since: since}
		var subjects []string
		token := ""
		for range 10 {
			page, err := app.ListEntries(ctx, st, p, f, 1, token)
			require.NoError(t, err)
			for _, e := range page.Entries {
				subjects = append(subjects, e.Entry.Subject)
			}
			if token = page.NextToken; token == "" {
				break
			}
			// Another filter's token, or a bad size, is refused by name.
			other := f
			other.Actor = "reviewer"
			_, err = app.ListEntries(ctx, st, p, other, 2000, token)
			assert.Equal(t, []string{"page_token", "page_size"}, violatedFields(t, err))
		}
		assert.Equal(t, []string{"villages/" + village + "/households/h0", "villages/" + village + "/households/h1",
			"villages/" + village + "/households/h3", "villages/" + village + "/households/h4"}, subjects,
			"every clerk entry once, in order, across pages of one")

		backwards := f
		backwards.Until = f.Since
		_, err = app.ListEntries(ctx, st, p, backwards, 0, "")
		assert.Equal(t, []string{"end_time"}, violatedFields(t, err))
	})
}
