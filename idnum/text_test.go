package idnum

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A real-shaped number (valid region, date and check digit) and the ways
// people and attackers write it.
func TestContainsPersonID(t *testing.T) {
	today := time.Date(2026, 12, 4, 12, 0, 0, 0, chinaTime)
	const id = "330483196803150018"
	const idX = "11010519491231002X"
	if _, err := ParsePersonIDAt(id, today); err != nil {
		t.Fatalf("fixture %s is not valid: %v", id, err)
	}
	fullWidth := strings.Map(func(r rune) rune { return r - '0' + '０' }, id)
	circled := strings.Map(func(r rune) rune {
		if r == '0' {
			return '⓪'
		}
		return r - '1' + '①'
	}, id)
	for name, tc := range map[string]struct {
		text string
		want bool
	}{
		"plain":                 {id, true},
		"in a sentence":         {"户主身份证" + id + "，已核实", true},
		"ID prefix":             {"ID" + id, true},
		"letters after":         {id + "abc", true},
		"spaced groups":         {"3304 8319 6803 1500 18", true},
		"spaced 6-8-4":          {"330483 19680315 0018", true},
		"dashed":                {"330483-19680315-0018", true},
		"dotted":                {"330483.19680315.0018", true},
		"full-width digits":     {fullWidth, true},
		"ideographic spaces":    {"330483\u300019680315\u30000018", true},
		"no-break spaces":       {"3304\u00a08319\u00a06803\u00a01500\u00a018", true},
		"zero-width spaces":     {"3304\u200b83196803\u200b150018", true},
		"en dashes":             {"330483–19680315–0018", true},
		"double spaces":         {"3304  8319  6803  1500  18", true},
		"followed by a number":  {"身份证 " + id + " 123", true},
		"after a number":        {"12 " + id, true},
		"check X":               {idX, true},
		"check lower-case x":    {strings.ToLower(idX), true},
		"full-width X":          {idX[:17] + "Ｘ", true},
		"spaced with X":         {"1101 0519 4912 3100 2X", true},
		"circled digits":        {circled, true},
		"wrong check digit":     {"330483196803150019", false},
		"19 digits":             {id + "1", false},
		"17 digits":             {id[:17], false},
		"bad province":          {"990483196803150018"[:17] + "0", false},
		"digits around it":      {"0000000000000000000000" + id + "abcdef0123456789abcdef", false},
		"padded into hex":       {"abcdef" + id + "abcdef0123", true},
		"a sha-256":             {"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", false},
		"uuid":                  {"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", false},
		"village code and date": {"villages/330483102201 2026-12-04 13:55", false},
		"amount":                {"借款 86000.50 元", false},
		"phone numbers":         {"13800138000 13900139000", false},
		"empty":                 {"", false},
	} {
		assert.Equal(t, tc.want, containsPersonIDAt(tc.text, today), "%s: %q", name, tc.text)
	}
}

func TestFreeTextProblem(t *testing.T) {
	assert.Empty(t, FreeTextProblem("理由", "reason", "家庭困难，申请复核"))
	msg := FreeTextProblem("理由", "reason", "ID 3304 8319 6803 1500 18")
	assert.Contains(t, msg, "理由不得包含身份证号")
	assert.Contains(t, msg, "reason must not contain an ID number")
	assert.NotContains(t, msg, "3304")
}

func TestRedactText(t *testing.T) {
	assert.Equal(t, "户主 110105********002X 已核实", RedactText("户主 11010519491231002X 已核实"))
	assert.Equal(t, "[redacted: contains an ID number]", RedactText("户主 1101 0519 4912 3100 2X"))
	assert.Equal(t, "amount 86000.50", RedactText("amount 86000.50"))
}

// Hashes and UUIDs are not skipped, so check they do not trip the
// detector: a candidate must be a whole valid ID.
func TestNoFalsePositivesOnIdentifiers(t *testing.T) {
	today := time.Date(2026, 12, 4, 12, 0, 0, 0, chinaTime)
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b [32]byte
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		h := hex.EncodeToString(b[:])
		u := fmt.Sprintf("%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:32])
		assert.False(t, containsPersonIDAt(h, today), h)
		assert.False(t, containsPersonIDAt("villages/330483102201/households/"+u, today), u)
	}
}

// TestMayHoldIDNeverHidesAnID checks the cheap test before the full
// one: every text the full detector flags passes it, on the cases above
// and on random ASCII made of digits, separators, X and letters.
func TestMayHoldIDNeverHidesAnID(t *testing.T) {
	today := time.Date(2026, 12, 4, 12, 0, 0, 0, chinaTime)
	texts := []string{"330483196803150018", "3304 8319 6803 1500 18", "330483-19680315-0018", "330483.19680315.0018",
		"3304\t8319\n6803\r1500\v18", "3304_8319_6803_1500_18", "11010519491231002X", "ID330483196803150018abc",
		"1101 0519 4912 3100 2x", "０３３０４８３１９６８０３１５００１８"}
	r := rand.New(rand.NewPCG(3, 4))
	const alphabet = "0123456789 -._\t\n\v\f\rXxab/"
	const seps = " -._\t\n\v\f\r"
	pick := func(from string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = from[r.IntN(len(from))]
		}
		return string(b)
	}
	for range 50000 {
		// A real number, cut by random separators, in random text.
		id := []string{"330483196803150018", "11010519491231002X", "11010519491231002x"}[r.IntN(3)]
		var b strings.Builder
		b.WriteString(pick(alphabet, r.IntN(6)))
		for i := range len(id) {
			b.WriteByte(id[i])
			if r.IntN(4) == 0 {
				b.WriteString(pick(seps, 1+r.IntN(2)))
			}
		}
		b.WriteString(pick(alphabet, r.IntN(6)))
		texts = append(texts, b.String(), pick(alphabet, 18+r.IntN(12)))
	}
	found := 0
	for _, s := range texts {
		if containsPersonIDAt(s, today) {
			found++
			assert.True(t, mayHoldID(s), "%q holds an ID number", s)
		}
	}
	assert.Greater(t, found, 10, "the random texts must hold some ID numbers for the check to mean anything")
	assert.False(t, mayHoldID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), "a UUID is settled by the cheap test")
	// A UUIDv7 of tonight: 20 digits in one run across its hyphens, in
	// groups of 5, 4, 4, 4 and 3, none of whose windows makes 18.
	assert.False(t, mayHoldID("villages/330483102215/households/01a24894-7077-7642-8881-139faa19dfb7"),
		"a long run whose groups never make 18 characters")
	assert.True(t, mayHoldID("01a24894-7077-7642-8881-1faa19dfb7"), "groups of 5, 4, 4, 4 and 1 make 18: the full path decides")
	assert.False(t, mayHoldID("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"), "a hash too")
}

// BenchmarkContainsPersonIDUUIDv7 is an audit record's subject whose
// UUIDv7 holds 20 digits in a run across its hyphens.
func BenchmarkContainsPersonIDUUIDv7(b *testing.B) {
	s := "villages/330483102215/households/01a24894-7077-7642-8881-139faa19dfb7"
	for b.Loop() {
		if ContainsPersonID(s) {
			b.Fatal("no ID number here")
		}
	}
}
