package pii

import (
	"errors"

	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Sealer is the household.Sealer of a keyring.
type Sealer struct{ Keyring *Keyring }

// errNoKey answers a sealer built without a keyring (a CLI command that
// opened the store without its data key): an error, never a nil panic.
var errNoKey = errors.New("no data key is loaded to seal 身份证号 with")

// Seal implements household.Sealer; the household id is bound in as
// associated data so a ciphertext cannot be moved to another household.
func (s Sealer) Seal(householdID string, id idnum.PersonID) (household.SealedID, error) {
	if s.Keyring == nil {
		return household.SealedID{}, errNoKey
	}
	sealed, err := s.Keyring.Seal([]byte(id.Raw()), []byte(householdID))
	if err != nil {
		return household.SealedID{}, err
	}
	return household.SealedID{KeyID: sealed.KeyID, Ciphertext: sealed.Ciphertext, Index: s.Keyring.BlindIndex(id.Raw())}, nil
}

// Index implements household.Sealer. Without a keyring there is no index
// to match, so nothing is found by 身份证号.
func (s Sealer) Index(id idnum.PersonID) []byte {
	if s.Keyring == nil {
		return nil
	}
	return s.Keyring.BlindIndex(id.Raw())
}

// Open implements household.Sealer: the number sealed for householdID.
func (s Sealer) Open(householdID string, sealed household.SealedID) (idnum.PersonID, error) {
	if s.Keyring == nil {
		return idnum.PersonID{}, errNoKey
	}
	raw, err := s.Keyring.Open(Sealed{KeyID: sealed.KeyID, Ciphertext: sealed.Ciphertext}, []byte(householdID))
	if err != nil {
		return idnum.PersonID{}, err
	}
	return idnum.ParsePersonID(string(raw))
}
