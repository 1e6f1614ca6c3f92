package docver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
)

var (
	direct   = Doc{Reason: "CATALOGUE", ReturnHint: "to return to its content, upload it as a new version", NameNext: true}
	approved = Doc{Reason: "POLICY", Approval: true, ReturnHint: "to return to it, upload its content as a new version"}
)

// refusal asserts err is a fault of kind k with reason and message.
func refusal(t *testing.T, err error, k fault.Kind, reason, msg string) {
	t.Helper()
	var f *fault.Error
	require.ErrorAs(t, err, &f)
	assert.Equal(t, k, f.Kind)
	assert.Equal(t, reason, f.Reason)
	assert.Equal(t, msg, f.Message)
}

func TestActivate(t *testing.T) {
	const name = "p/x/2"
	for _, c := range []struct {
		doc    Doc
		st     State
		by     string
		change bool
		reason string
		msg    string
	}{
		{direct, Draft, "checker", true, "", ""},
		{direct, Active, "checker", false, "", ""},
		{direct, Draft, "maker", false, "MAKER_CHECKER", "p/x/2 was uploaded by you: a second person must activate it"},
		{direct, Active, "maker", false, "MAKER_CHECKER", "p/x/2 was uploaded by you: a second person must activate it"},
		{direct, Superseded, "checker", false, "CATALOGUE_SUPERSEDED",
			"p/x/2 was active and has been superseded; to return to its content, upload it as a new version"},
		{approved, Approved, "maker", true, "", ""}, // the two-person rule was met at approval
		{approved, Active, "maker", false, "", ""},
		{approved, Draft, "checker", false, "POLICY_NOT_APPROVED",
			"p/x/2 is a draft: a second person must approve it before it is activated"},
		{approved, Superseded, "checker", false, "POLICY_SUPERSEDED",
			"p/x/2 was active and has been superseded; to return to it, upload its content as a new version"},
	} {
		change, err := c.doc.Activate(name, c.st, "maker", c.by)
		assert.Equal(t, c.change, change, "%s %s by %s", c.doc.Reason, c.st, c.by)
		if c.reason == "" {
			assert.NoError(t, err)
			continue
		}
		refusal(t, err, fault.FailedPrecondition, c.reason, c.msg)
	}
}

func TestApprove(t *testing.T) {
	change, err := approved.Approve("p/x/1", Draft, "maker", "checker")
	require.NoError(t, err)
	assert.True(t, change)
	change, err = approved.Approve("p/x/1", Approved, "maker", "checker")
	require.NoError(t, err)
	assert.False(t, change, "approving again stores nothing")
	_, err = approved.Approve("p/x/1", Approved, "maker", "maker")
	refusal(t, err, fault.FailedPrecondition, "MAKER_CHECKER", "p/x/1 was uploaded by you: a second person must approve it")
	_, err = approved.Approve("p/x/1", Superseded, "maker", "checker")
	refusal(t, err, fault.FailedPrecondition, "POLICY_NOT_DRAFT", "p/x/1 is superseded; only a draft is approved")
}

func TestSupersedeAndReupload(t *testing.T) {
	assert.NoError(t, direct.Supersede("p/x/3", 3, 3))
	assert.NoError(t, approved.Supersede("p/x/3", 3, 2))
	refusal(t, direct.Supersede("p/x/2", 2, 3), fault.FailedPrecondition, "CATALOGUE_OLDER_THAN_ACTIVE",
		"p/x/2 is older than the active version 3; upload the change as version 4 or later")
	refusal(t, approved.Supersede("p/x/2", 2, 3), fault.FailedPrecondition, "POLICY_OLDER_THAN_ACTIVE",
		"p/x/2 is older than the active version 3")

	assert.NoError(t, approved.Reupload("p/x/2", 2, "a: 1\n", "a: 1\n"))
	refusal(t, approved.Reupload("p/x/2", 2, "a: 1\n", "a: 2\n"), fault.AlreadyExists, "POLICY_VERSION_EXISTS",
		"p/x/2 already exists with different content; versions never change: upload the document as version 3 or later")
}

func TestNumberAndName(t *testing.T) {
	for s, want := range map[string]int{"1": 1, "42": 42, "1000000": 1000000} {
		n, ok := Number(s, 1_000_000)
		assert.True(t, ok, s)
		assert.Equal(t, want, n, s)
	}
	for _, s := range []string{"", "0", "-1", "+1", "01", "1000001", "active", "1.0", " 1"} {
		_, ok := Number(s, 1_000_000)
		assert.False(t, ok, s)
	}
	n, ok := Number("99999999999", 0)
	assert.True(t, ok, "0 bounds by int only")
	assert.Equal(t, 99999999999, n)
	assert.Equal(t, "banks/b/products/p/policies/7", Name("banks/b/products/p", "policies", 7))
}

func TestList(t *testing.T) {
	versions := []int{7, 6, 5, 4, 3, 2, 1}
	read := func(before, limit int) ([]int, error) {
		var out []int
		for _, n := range versions {
			if (before == 0 || n < before) && len(out) < limit {
				out = append(out, n)
			}
		}
		return out, nil
	}
	var got []int
	token := ""
	for range 10 {
		var v fault.Violations
		page, err := List(&v, "things|x", 3, token, read, func(n int) int { return n })
		require.NoError(t, err)
		got = append(got, page.Versions...)
		if token = page.NextToken; token == "" {
			break
		}
	}
	assert.Equal(t, versions, got)

	var v fault.Violations
	first, err := List(&v, "things|x", 3, "", read, func(n int) int { return n })
	require.NoError(t, err)
	v = nil
	_, err = List(&v, "things|y", 3, first.NextToken, read, func(n int) int { return n })
	assert.True(t, fault.Is(err, fault.Invalid), "a token pages only its own list, got %v", err)

	v = nil
	v.Add("parent", "bad")
	_, err = List(&v, "things|x", 3, "", func(int, int) ([]int, error) {
		t.Fatal("read with violations")
		return nil, nil
	}, func(n int) int { return n })
	assert.True(t, fault.Is(err, fault.Invalid))
}
