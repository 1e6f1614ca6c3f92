package rpc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	examples "github.com/sanzhi/sanzhi/examples/catalogues"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
)

// county is the county of villageA and villageB.
const county = "330483"

func example(t testing.TB, file string) string {
	t.Helper()
	b, err := examples.FS.ReadFile(file)
	require.NoError(t, err)
	return string(b)
}

// replaceOnce replaces the one occurrence of old in s.
func replaceOnce(t testing.TB, s, old, new string) string {
	t.Helper()
	require.Equal(t, 1, strings.Count(s, old), "%q occurs once", old)
	return strings.Replace(s, old, new, 1)
}

// countyDoc is the shipped county base as version n.
func countyDoc(t testing.TB, n int) string {
	return replaceOnce(t, example(t, examples.CountyFile), "\nversion: 1\n", fmt.Sprintf("\nversion: %d\n", n))
}

// villageDoc is 南阳村's shipped document, moved to village as version n
// on county version base.
func villageDoc(t testing.TB, village string, n, base int) string {
	doc := example(t, examples.VillageFile("nanyang"))
	doc = replaceOnce(t, doc, `village: "330483102215"`, `village: "`+village+`"`)
	doc = replaceOnce(t, doc, "\nbase_version: 1\n", fmt.Sprintf("\nbase_version: %d\n", base))
	return replaceOnce(t, doc, "\nversion: 1\n", fmt.Sprintf("\nversion: %d\n", n))
}

// lineOf returns the 1-based line of the first line of doc containing s.
func lineOf(t testing.TB, doc, s string) int {
	t.Helper()
	return lineOfNth(t, doc, s, 1)
}

// lineOfNth returns the 1-based line of the nth line of doc containing s.
func lineOfNth(t testing.TB, doc, s string, nth int) int {
	t.Helper()
	for i, l := range strings.Split(doc, "\n") {
		if strings.Contains(l, s) {
			if nth--; nth == 0 {
				return i + 1
			}
		}
	}
	require.Failf(t, "not in the document", "%q", s)
	return 0
}

// placeOf returns "LINE:COLUMN" (1-based) of token on the nth line of doc
// containing s: where a lint problem about that value is reported.
func placeOf(t testing.TB, doc, s string, nth int, token string) string {
	t.Helper()
	n := lineOfNth(t, doc, s, nth)
	l := strings.Split(doc, "\n")[n-1]
	i := strings.Index(l, token)
	require.GreaterOrEqual(t, i, 0, "%q is not on line %d", token, n)
	return fmt.Sprintf("%d:%d", n, utf8.RuneCountInString(l[:i])+1)
}

func TestCatalogues(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		// The county base every test builds on: uploaded by one operator,
		// activated by another.
		base, err := e.cats.UploadCatalogue(e.as("operator"), &sanzhiv1.UploadCatalogueRequest{Parent: "counties/" + county, Document: countyDoc(t, 1)})
		require.NoError(t, err)
		_, err = e.cats.ActivateCatalogue(e.as("operator-2"), &sanzhiv1.ActivateCatalogueRequest{Name: base.Name})
		require.NoError(t, err)
		t.Run("Lifecycle", func(t *testing.T) { testCatalogueLifecycle(t, e) })
		t.Run("BadInput", func(t *testing.T) { testCatalogueBadInput(t, e) })
		t.Run("Paging", func(t *testing.T) { testCataloguePaging(t, e) })
	})
}

func testCatalogueLifecycle(t *testing.T, e *env) {
	clerk, reviewer := e.as("clerk-a"), e.as("reviewer-a")
	parent := "villages/" + villageA

	base, err := e.cats.GetCatalogue(clerk, &sanzhiv1.GetCatalogueRequest{Name: "counties/" + county + "/catalogues/active"})
	require.NoError(t, err, "village staff read their county's base")
	assert.Equal(t, sanzhiv1.CatalogueKind_CATALOGUE_KIND_COUNTY, base.Kind)
	assert.Equal(t, sanzhiv1.CatalogueState_CATALOGUE_STATE_ACTIVE, base.State)
	assert.Equal(t, catalogue.DocumentHash([]byte(countyDoc(t, 1))), base.ContentHash)
	assert.Equal(t, e.ids["operator"], base.UploadedBy)
	assert.Equal(t, e.ids["operator-2"], base.ActivatedBy)
	assert.GreaterOrEqual(t, base.ItemCount, int32(40))

	doc1 := villageDoc(t, villageA, 1, 1)
	lint, err := e.cats.LintCatalogue(clerk, &sanzhiv1.LintCatalogueRequest{Document: doc1})
	require.NoError(t, err)
	assert.True(t, lint.Valid)
	assert.True(t, lint.BaseChecked, "the base is stored, so the document is checked against it")
	assert.Equal(t, villageA, lint.VillageCode)
	require.Len(t, lint.ContentHash, 64)

	v1, err := e.cats.UploadCatalogue(clerk, &sanzhiv1.UploadCatalogueRequest{Parent: parent, Document: doc1})
	require.NoError(t, err)
	assert.Equal(t, parent+"/catalogues/1", v1.Name)
	assert.Equal(t, sanzhiv1.CatalogueState_CATALOGUE_STATE_DRAFT, v1.State)
	assert.Equal(t, lint.ContentHash, v1.ContentHash, "lint and upload agree on the hash")
	assert.Equal(t, int32(1), v1.BaseVersion)
	assert.Equal(t, doc1, v1.Document)
	assert.Empty(t, v1.ActivatedBy)
	assert.Nil(t, v1.ActivateTime)

	before, err := e.log.Publish(context.Background())
	require.NoError(t, err)
	again, err := e.cats.UploadCatalogue(clerk, &sanzhiv1.UploadCatalogueRequest{Parent: parent, Document: doc1})
	require.NoError(t, err, "uploading the same text again is idempotent")
	assert.Equal(t, v1.UploadTime.AsTime(), again.UploadTime.AsTime())
	after, err := e.log.Publish(context.Background())
	require.NoError(t, err)
	assert.Equal(t, before.Size, after.Size, "and writes nothing")

	_, err = e.cats.GetCatalogue(clerk, &sanzhiv1.GetCatalogueRequest{Name: parent + "/catalogues/active"})
	requireCode(t, err, codes.NotFound, "", "")

	a1, err := e.cats.ActivateCatalogue(reviewer, &sanzhiv1.ActivateCatalogueRequest{Name: v1.Name})
	require.NoError(t, err)
	assert.Equal(t, sanzhiv1.CatalogueState_CATALOGUE_STATE_ACTIVE, a1.State)
	assert.Equal(t, e.ids["reviewer-a"], a1.ActivatedBy)
	require.NotNil(t, a1.ActivateTime)
	again, err = e.cats.ActivateCatalogue(reviewer, &sanzhiv1.ActivateCatalogueRequest{Name: v1.Name})
	require.NoError(t, err, "activating the active version again is idempotent")
	assert.Equal(t, a1.ActivateTime.AsTime(), again.ActivateTime.AsTime())

	// Version 2 removes one more county item; activating it supersedes 1.
	doc2 := replaceOnce(t, villageDoc(t, villageA, 2, 1), "  - ZZ-ML-08", "  - ZZ-ML-08\n  - DZ-XF-03")
	v2, err := e.cats.UploadCatalogue(clerk, &sanzhiv1.UploadCatalogueRequest{Parent: parent, Document: doc2})
	require.NoError(t, err)
	assert.Equal(t, v1.ItemCount-1, v2.ItemCount)
	assert.NotEqual(t, v1.ContentHash, v2.ContentHash)
	_, err = e.cats.ActivateCatalogue(reviewer, &sanzhiv1.ActivateCatalogueRequest{Name: v2.Name})
	require.NoError(t, err)

	active, err := e.cats.GetCatalogue(e.as("regulator"), &sanzhiv1.GetCatalogueRequest{Name: parent + "/catalogues/active"})
	require.NoError(t, err)
	assert.Equal(t, v2.Name, active.Name)
	assert.Equal(t, doc2, active.Document)
	old, err := e.cats.GetCatalogue(e.as("operator"), &sanzhiv1.GetCatalogueRequest{Name: v1.Name})
	require.NoError(t, err)
	assert.Equal(t, sanzhiv1.CatalogueState_CATALOGUE_STATE_SUPERSEDED, old.State, "the old version stays, superseded")
	assert.NotNil(t, old.SupersedeTime)
	assert.Equal(t, doc1, old.Document, "with its text unchanged")

	list, err := e.cats.ListCatalogues(clerk, &sanzhiv1.ListCataloguesRequest{Parent: parent})
	require.NoError(t, err)
	require.Len(t, list.Catalogues, 2)
	assert.Equal(t, v2.Name, list.Catalogues[0].Name, "newest first")
	for _, c := range list.Catalogues {
		assert.Empty(t, c.Document, "lists leave the document out")
	}

	// Both writes of each version are in the audit log, about the version,
	// readable by the village's staff.
	_, err = e.log.Publish(context.Background())
	require.NoError(t, err)
	entries, err := e.audit.ListEntries(clerk, &sanzhiv1.ListEntriesRequest{Subject: v2.Name})
	require.NoError(t, err)
	require.Len(t, entries.Entries, 2)
	assert.Equal(t, "catalogue.upload", entries.Entries[0].Action)
	assert.Equal(t, "catalogue.activate", entries.Entries[1].Action)
	assert.Equal(t, e.ids["clerk-a"], entries.Entries[0].Actor)
	assert.Equal(t, e.ids["reviewer-a"], entries.Entries[1].Actor)
	assert.Equal(t, "1", entries.Entries[1].Payload["superseded_version"])
	assert.Equal(t, v2.ContentHash, entries.Entries[0].Payload["content_hash"])
	assert.Equal(t, catalogue.DocumentHash([]byte(doc2)), entries.Entries[0].RequestHash)
}

// testCatalogueBadInput: every case fails with the right code (and field,
// and line for document problems), and none of them writes anything.
func testCatalogueBadInput(t *testing.T, e *env) {
	parentB := "villages/" + villageB
	upload := func(who, parent, doc string) func() error {
		return func() error {
			_, err := e.cats.UploadCatalogue(e.as(who), &sanzhiv1.UploadCatalogueRequest{Parent: parent, Document: doc})
			return err
		}
	}
	activate := func(who, name string) func() error {
		return func() error {
			_, err := e.cats.ActivateCatalogue(e.as(who), &sanzhiv1.ActivateCatalogueRequest{Name: name})
			return err
		}
	}
	get := func(who, name string) func() error {
		return func() error {
			_, err := e.cats.GetCatalogue(e.as(who), &sanzhiv1.GetCatalogueRequest{Name: name})
			return err
		}
	}
	list := func(who string, r *sanzhiv1.ListCataloguesRequest) func() error {
		return func() error { _, err := e.cats.ListCatalogues(e.as(who), r); return err }
	}
	mustUpload := func(who, parent, doc string) string {
		c, err := e.cats.UploadCatalogue(e.as(who), &sanzhiv1.UploadCatalogueRequest{Parent: parent, Document: doc})
		require.NoError(t, err)
		return c.Name
	}

	// 农丰-like village B: 3 and 5 uploaded, 5 activated, then 6 supersedes 5.
	v3 := mustUpload("clerk-b", parentB, villageDoc(t, villageB, 3, 1))
	v5 := mustUpload("clerk-b", parentB, villageDoc(t, villageB, 5, 1))
	require.NoError(t, activate("reviewer-b", v5)())
	v6 := mustUpload("clerk-b", parentB, villageDoc(t, villageB, 6, 1))
	require.NoError(t, activate("reviewer-b", v6)())
	// The reviewer uploads version 7 itself.
	v7 := mustUpload("reviewer-b", parentB, villageDoc(t, villageB, 7, 1))
	// County version 2, still a draft, and a village version on it.
	c2 := mustUpload("operator", "counties/"+county, countyDoc(t, 2))
	onDraftBase := mustUpload("clerk-b", parentB, villageDoc(t, villageB, 8, 2))

	before := catalogueCounts(t, e)
	logBefore, err := e.log.Publish(context.Background())
	require.NoError(t, err)

	unknownKey := replaceOnce(t, villageDoc(t, villageB, 9, 1), "\nversion: 9\n", "\nversion: 9\ncolour: red\n")
	dupCode := replaceOnce(t, villageDoc(t, villageB, 9, 1), "code: NY-ML-02", "code: NY-MS-01")
	unknownBaseItem := replaceOnce(t, villageDoc(t, villageB, 9, 1), "  - ZZ-ML-08", "  - ZZ-XX-99")
	capBelowAward := replaceOnce(t, villageDoc(t, villageB, 9, 1), "annual_cap: 8\n", "annual_cap: 1\n")
	syntax := villageDoc(t, villageB, 9, 1) + "items: [\n"
	changed := replaceOnce(t, villageDoc(t, villageB, 5, 1), "annual_cap: 8\n", "annual_cap: 9\n")

	cases := []struct {
		name  string
		call  func() error
		code  codes.Code
		field string
		desc  string
	}{
		{"unknown key, with its line", upload("clerk-b", parentB, unknownKey), codes.InvalidArgument, "document",
			fmt.Sprintf("line %s: colour: unknown field", placeOf(t, unknownKey, "colour: red", 1, "colour"))},
		{"duplicate item code", upload("clerk-b", parentB, dupCode), codes.InvalidArgument, "document",
			fmt.Sprintf("line %s: items[1].code: duplicate code NY-MS-01", placeOf(t, dupCode, "code: NY-MS-01", 2, "NY-MS-01"))},
		{"removes an item the base lacks", upload("clerk-b", parentB, unknownBaseItem), codes.InvalidArgument, "document",
			fmt.Sprintf("line %s: remove[1]: county catalogue version 1 has no item ZZ-XX-99", placeOf(t, unknownBaseItem, "ZZ-XX-99", 1, "ZZ-XX-99"))},
		{"cap below one award", upload("clerk-b", parentB, capBelowAward), codes.InvalidArgument, "document", "below one award"},
		{"YAML syntax error", upload("clerk-b", parentB, syntax), codes.InvalidArgument, "document", "YAML syntax"},
		{"empty document", upload("clerk-b", parentB, ""), codes.InvalidArgument, "document", ""},
		{"same version, different content", upload("clerk-b", parentB, changed), codes.AlreadyExists, "", ""},
		{"clerk of another village uploads", upload("clerk-b", "villages/"+villageA, villageDoc(t, villageA, 9, 1)), codes.PermissionDenied, "", ""},
		{"document of another village than the parent", upload("clerk-a", "villages/"+villageA, villageDoc(t, villageB, 9, 1)), codes.InvalidArgument, "parent", "upload it to villages/" + villageB},
		{"county document under a village", upload("clerk-b", parentB, countyDoc(t, 9)), codes.InvalidArgument, "parent", "counties/" + county},
		{"base version not stored", upload("clerk-b", parentB, villageDoc(t, villageB, 9, 4)), codes.FailedPrecondition, "", ""},
		{"clerk uploads the county base", upload("clerk-b", "counties/"+county, countyDoc(t, 9)), codes.PermissionDenied, "", ""},
		{"operator uploads a village document", upload("operator", parentB, villageDoc(t, villageB, 9, 1)), codes.PermissionDenied, "", ""},
		{"bank uploads", upload("bank", parentB, villageDoc(t, villageB, 9, 1)), codes.PermissionDenied, "", ""},
		{"parent malformed", upload("clerk-b", "villages/123", villageDoc(t, villageB, 9, 1)), codes.InvalidArgument, "parent", "12 digits"},
		{"parent of the wrong collection", upload("clerk-b", "towns/"+villageB, villageDoc(t, villageB, 9, 1)), codes.InvalidArgument, "parent", ""},
		{"no credentials", func() error {
			_, err := e.cats.UploadCatalogue(context.Background(), &sanzhiv1.UploadCatalogueRequest{Parent: parentB, Document: villageDoc(t, villageB, 9, 1)})
			return err
		}, codes.Unauthenticated, "", ""},
		{"self-activation", activate("reviewer-b", v7), codes.FailedPrecondition, "", ""},
		{"activate an unknown version", activate("reviewer-b", parentB+"/catalogues/99"), codes.NotFound, "", ""},
		{"activate a superseded version", activate("reviewer-b", v5), codes.FailedPrecondition, "", ""},
		{"activate a version older than the active one", activate("reviewer-b", v3), codes.FailedPrecondition, "", ""},
		{"activate on a draft county base", activate("reviewer-b", onDraftBase), codes.FailedPrecondition, "", ""},
		{"clerk activates", activate("clerk-b", v3), codes.PermissionDenied, "", ""},
		{"reviewer of another village activates", activate("reviewer-a", v3), codes.PermissionDenied, "", ""},
		{"reviewer activates the county base", activate("reviewer-b", c2), codes.PermissionDenied, "", ""},
		{"activate the alias", activate("reviewer-b", parentB+"/catalogues/active"), codes.InvalidArgument, "name", "version number"},
		{"activate a malformed name", activate("reviewer-b", parentB+"/catalogue/3"), codes.InvalidArgument, "name", ""},
		{"get version zero", get("clerk-b", parentB+"/catalogues/0"), codes.InvalidArgument, "name", "version"},
		{"get a version that is not a number", get("clerk-b", parentB+"/catalogues/v3"), codes.InvalidArgument, "name", "version"},
		{"get a short county code", get("clerk-b", "counties/3304/catalogues/1"), codes.InvalidArgument, "name", "county code"},
		{"get an unknown version", get("clerk-b", parentB+"/catalogues/42"), codes.NotFound, "", ""},
		{"get another village's", get("clerk-a", v3), codes.PermissionDenied, "", ""},
		{"bank reads a catalogue", get("bank", v3), codes.PermissionDenied, "", ""},
		{"list page size negative", list("clerk-b", &sanzhiv1.ListCataloguesRequest{Parent: parentB, PageSize: -1}), codes.InvalidArgument, "page_size", ""},
		{"list page size too big", list("clerk-b", &sanzhiv1.ListCataloguesRequest{Parent: parentB, PageSize: 1001}), codes.InvalidArgument, "page_size", ""},
		{"list bad token", list("clerk-b", &sanzhiv1.ListCataloguesRequest{Parent: parentB, PageToken: "!!"}), codes.InvalidArgument, "page_token", ""},
		{"list another village", list("clerk-a", &sanzhiv1.ListCataloguesRequest{Parent: parentB}), codes.PermissionDenied, "", ""},
		{"lint as a bank", func() error {
			_, err := e.cats.LintCatalogue(e.as("bank"), &sanzhiv1.LintCatalogueRequest{Document: countyDoc(t, 1)})
			return err
		}, codes.PermissionDenied, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireCode(t, tc.call(), tc.code, tc.field, tc.desc)
		})
	}
	require.GreaterOrEqual(t, len(cases), 30)

	// Specific reasons a client can act on.
	for name, want := range map[string]struct {
		call   func() error
		reason string
	}{
		"maker-checker":   {activate("reviewer-b", v7), "MAKER_CHECKER"},
		"draft base":      {activate("reviewer-b", onDraftBase), "BASE_CATALOGUE_NOT_ACTIVATED"},
		"missing base":    {upload("clerk-b", parentB, villageDoc(t, villageB, 9, 4)), "BASE_CATALOGUE_MISSING"},
		"version reused":  {upload("clerk-b", parentB, changed), "CATALOGUE_VERSION_EXISTS"},
		"invalid content": {upload("clerk-b", parentB, dupCode), "CATALOGUE_INVALID"},
	} {
		st := status.Convert(want.call())
		found := false
		for _, d := range st.Details() {
			if info, ok := d.(*errdetails.ErrorInfo); ok && info.Reason == want.reason {
				found = true
			}
		}
		assert.True(t, found, "%s: want reason %s in %v", name, want.reason, st.Details())
	}

	// Every problem of a document is reported, each with its line.
	both := replaceOnce(t, dupCode, "\nversion: 9\n", "\nversion: 9\ncolour: red\n")
	st := status.Convert(upload("clerk-b", parentB, both)())
	require.Equal(t, codes.InvalidArgument, st.Code())
	var descs []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				descs = append(descs, v.Field+"|"+v.Description)
			}
		}
	}
	require.Len(t, descs, 2, "%v", descs)
	assert.True(t, strings.HasPrefix(descs[0], "document|line "), descs[0])
	assert.True(t, strings.HasPrefix(descs[1], "document|line "), descs[1])

	// Lint reports problems in its response; it is not an error.
	lint, err := e.cats.LintCatalogue(e.as("regulator"), &sanzhiv1.LintCatalogueRequest{Document: both})
	require.NoError(t, err)
	assert.False(t, lint.Valid)
	require.Len(t, lint.Problems, 2)
	assert.Equal(t, int32(lineOf(t, both, "colour: red")), lint.Problems[0].Line)
	assert.Equal(t, "colour", lint.Problems[0].Path)
	assert.Equal(t, "items[1].code", lint.Problems[1].Path)
	lint, err = e.cats.LintCatalogue(e.as("clerk-b"), &sanzhiv1.LintCatalogueRequest{Document: unknownBaseItem})
	require.NoError(t, err)
	assert.False(t, lint.Valid, "lint resolves against the stored base")
	assert.True(t, lint.BaseChecked)
	lint, err = e.cats.LintCatalogue(e.as("clerk-b"), &sanzhiv1.LintCatalogueRequest{Document: villageDoc(t, villageB, 9, 4)})
	require.NoError(t, err)
	assert.True(t, lint.Valid)
	assert.False(t, lint.BaseChecked, "county version 4 is not stored: checked on its own")
	assert.Empty(t, lint.ContentHash)

	assert.Equal(t, before, catalogueCounts(t, e), "bad input writes nothing")
	logAfter, err := e.log.Publish(context.Background())
	require.NoError(t, err)
	assert.Equal(t, logBefore.Size, logAfter.Size, "and logs nothing")
}

// catalogueCounts counts versions per state across the county and both
// villages, as the regulator sees them.
func catalogueCounts(t *testing.T, e *env) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, parent := range []string{"counties/" + county, "villages/" + villageA, "villages/" + villageB} {
		resp, err := e.cats.ListCatalogues(e.as("regulator"), &sanzhiv1.ListCataloguesRequest{Parent: parent, PageSize: 1000})
		require.NoError(t, err)
		for _, c := range resp.Catalogues {
			n[parent+"|"+c.State.String()]++
		}
	}
	return n
}

func testCataloguePaging(t *testing.T, e *env) {
	parent := "counties/" + county
	var want []string
	for n := 20; n < 27; n++ {
		c, err := e.cats.UploadCatalogue(e.as("operator"), &sanzhiv1.UploadCatalogueRequest{Parent: parent, Document: countyDoc(t, n)})
		require.NoError(t, err)
		want = append([]string{c.Name}, want...)
	}
	var got []string
	token := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		resp, err := e.cats.ListCatalogues(e.as("clerk-a"), &sanzhiv1.ListCataloguesRequest{Parent: parent, PageSize: 3, PageToken: token})
		require.NoError(t, err)
		assert.LessOrEqual(t, len(resp.Catalogues), 3)
		for _, c := range resp.Catalogues {
			got = append(got, c.Name)
		}
		if token = resp.NextPageToken; token == "" {
			break
		}
		// A token is bound to its parent.
		_, err = e.cats.ListCatalogues(e.as("regulator"), &sanzhiv1.ListCataloguesRequest{Parent: "villages/" + villageA, PageToken: token})
		requireCode(t, err, codes.InvalidArgument, "page_token", "")
	}
	require.GreaterOrEqual(t, len(got), len(want))
	assert.Equal(t, want, got[:len(want)], "newest first")
}
