package access

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Bank is a partner bank as people read it: the id its principals are
// scoped by (Scope.Bank, banks/{id}) and its name. A household chooses a
// bank by name, never by id.
type Bank struct {
	ID     string
	Name   string // in Chinese, as on the bank's sign: 桐乡农商银行
	NameEN string // optional
}

var bankID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// MaxBankName bounds a bank's name, in characters.
const MaxBankName = 64

// Validate checks the id's shape (that of banks/{id}) and that the bank
// has a Chinese name of sensible length.
func (b *Bank) Validate() error {
	switch {
	case !bankID.MatchString(b.ID):
		return fmt.Errorf("bank id %q: lower-case letters, digits and '-', at most 63", b.ID)
	case strings.TrimSpace(b.Name) == "":
		return fmt.Errorf("bank %s needs a name", b.ID)
	case utf8.RuneCountInString(b.Name) > MaxBankName || utf8.RuneCountInString(b.NameEN) > MaxBankName:
		return fmt.Errorf("bank %s: a name is at most %d characters", b.ID, MaxBankName)
	}
	return nil
}
