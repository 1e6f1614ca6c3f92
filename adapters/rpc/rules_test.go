package rpc

import (
	"regexp"
	"strings"
	"testing"
	"unicode"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/sanzhi/sanzhi/fault"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// codeLike are fragments that make a sentence read as code.
var codeLike = regexp.MustCompile(`regex|\^|\$|\[0|\\\.|\{[0-9]+(,[0-9]*)?\}|list \[|value must|value length|%!`)

func hasHan(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
}

// TestEveryRuleHasASentence walks every field constraint of the API's
// protos: each rule id (and each regular expression) must have a sentence
// in English and in zh-CN that does not read as code. A new rule kind or
// pattern in a proto fails here until it is described.
func TestEveryRuleHasASentence(t *testing.T) {
	t.Parallel()
	seen := map[string]int{}
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		for i := range md.Fields().Len() {
			fd := md.Fields().Get(i)
			fr, _ := proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
			if fr == nil {
				continue
			}
			for _, r := range ruleRefs(fr) {
				where := string(fd.FullName()) + " " + r.ID
				seen[r.ID]++
				s, ok := describe(r.ID, r.Rules, r.Value)
				if !assert.True(t, ok, "%s has no sentence", where) {
					continue
				}
				assert.NotEmpty(t, s.EN, where)
				assert.True(t, hasHan(s.ZH), "%s: the zh-CN sentence is Chinese, got %q", where, s.ZH)
				assert.NotRegexp(t, codeLike, s.EN, where)
				assert.NotRegexp(t, codeLike, s.ZH, where)
			}
		}
		for i := range md.Messages().Len() {
			walk(md.Messages().Get(i))
		}
	}
	files := 0
	protoregistry.GlobalFiles.RangeFilesByPackage("sanzhi.v1", func(fd protoreflect.FileDescriptor) bool {
		files++
		for i := range fd.Messages().Len() {
			walk(fd.Messages().Get(i))
		}
		return true
	})
	require.Greater(t, files, 5)
	// The kinds the API uses today; the walk above found each of them.
	for _, id := range []string{"required", "string.pattern", "string.min_len", "string.max_len", "string.max_bytes", "string.in",
		"enum.defined_only", "enum.not_in", "int32.gte_lte", "int64.gte", "uint64.gte", "repeated.min_items",
		"repeated.max_items", "repeated.unique"} {
		assert.Positive(t, seen[id], "rule %s is used by the protos", id)
	}
	_ = sanzhiv1.File_sanzhi_v1_household_proto
}

// TestUnknownRuleIsRefused shows the table test has teeth: a rule id or a
// pattern without a sentence is reported as missing.
func TestUnknownRuleIsRefused(t *testing.T) {
	t.Parallel()
	_, ok := describe("string.email", nil, protoreflect.Value{})
	assert.False(t, ok)
	fr := &validate.FieldRules{Type: &validate.FieldRules_String_{String_: &validate.StringRules{Pattern: proto.String(`^x+$`)}}}
	refs := ruleRefs(fr)
	require.Len(t, refs, 1)
	_, ok = describe(refs[0].ID, refs[0].Rules, refs[0].Value)
	assert.False(t, ok, "an undescribed pattern has no sentence")
}

// TestValidationSentences: what a clerk reads for real violations, in
// both languages, with the rule id as the reason.
func TestValidationSentences(t *testing.T) {
	t.Parallel()
	v, err := NewValidator()
	require.NoError(t, err)
	err = v.Validate(&sanzhiv1.CreateHouseholdRequest{Parent: "村/1", RequestId: "r", Household: &sanzhiv1.Household{
		HeadName: "徐阿大", Group: 120, Facts: &sanzhiv1.HouseholdFacts{Members: 3, AnnualIncome: "5万", LandAreaMu: "1",
			CollectiveShares: "0", ExistingBankDebt: "0", Source: "登记", AsOfDate: "2026/1/1"}}})
	var f *fault.Error
	require.ErrorAs(t, err, &f)
	got := map[string]fault.Violation{}
	for _, v := range f.Violations {
		got[v.Field] = v
	}
	want := map[string][3]string{
		"parent":                        {"string.pattern", "must be a village name: villages/{village code}", "必须是村名称，形如 villages/{村代码}"},
		"household.group":               {"int32.gte_lte", "must be between 1 and 99", "必须在 1 到 99 之间"},
		"household.facts.annual_income": {"string.pattern", "must be an amount in yuan such as 54000 or 54000.50: digits only, at most 2 decimal places", "必须是以元为单位的金额，如 54000 或 54000.50：只能是数字，最多两位小数"},
		"household.facts.as_of_date":    {"string.pattern", "must be a date written like 2026-01-31", "必须是形如 2026-01-31 的日期"},
	}
	for field, w := range want {
		require.Contains(t, got, field)
		assert.Equal(t, w[0], got[field].Reason, field)
		assert.Equal(t, w[1], got[field].Description, field)
		assert.Equal(t, w[2], got[field].ZH, field)
	}
	assert.NotRegexp(t, codeLike, f.Message)

	err = v.Validate(&sanzhiv1.ReviewEvidenceRequest{Name: "villages/1/households/2/evidence/3"})
	require.ErrorAs(t, err, &f)
	require.Len(t, f.Violations, 1)
	assert.Equal(t, fault.Violation{Field: "decision", Reason: "enum.not_in", Description: "must be chosen", ZH: "必须选择一项"}, f.Violations[0])

	err = v.Validate(&sanzhiv1.GrantConsentRequest{Parent: "villages/330483102201/households/h", Bank: "banks/b",
		Purposes: []string{"marketing", "marketing"}, Channel: "fax", AuthorisationHash: strings.Repeat("a", 64)})
	require.ErrorAs(t, err, &f)
	got = map[string]fault.Violation{}
	for _, v := range f.Violations {
		got[v.Field] = v
	}
	assert.Equal(t, "must be one of: app, counter, paper", got["channel"].Description)
	assert.Equal(t, "必须是以下之一：app、counter、paper", got["channel"].ZH)
	assert.Equal(t, "must be one of: assessment, post_loan", got["purposes[0]"].Description)
	assert.Equal(t, "must not list the same item twice", got["purposes"].Description)
}
