package rekey

import (
	"fmt"

	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/adapters/pii"
)

// Field names one sealed column pair (key id and ciphertext) of the
// database. Every value pii.Keyring.Seal writes to storage is in one of
// these; a new sealed column must be added here, or rotation would leave
// it under a key that is then retired.
type Field string

// The sealed fields.
const (
	// HouseholdHead is the head's 身份证号: households.head_id_key and
	// head_id_cipher, sealed with the household id as context.
	HouseholdHead Field = "households.head_id"
	// Member is a member's 身份证号 in one facts version:
	// household_members.id_key and id_cipher, sealed with the household id.
	Member Field = "household_members.id"
	// WebhookSecret is a bank's webhook signing secret:
	// webhook_endpoints.secret_key_id and secret_cipher, sealed with
	// delivery.SecretContext(bank).
	WebhookSecret Field = "webhook_endpoints.secret"
	// WebhookPrevious is the secret a rotation replaced, signing beside the
	// new one for the grace period: previous_key_id and previous_cipher.
	WebhookPrevious Field = "webhook_endpoints.previous"
)

// Fields lists every sealed field, in the order Run visits them.
var Fields = []Field{HouseholdHead, Member, WebhookSecret, WebhookPrevious}

// Ref locates one sealed value: its row's primary key.
type Ref struct {
	// ID is the household id (HouseholdHead, Member) or the bank id
	// (WebhookSecret, WebhookPrevious).
	ID string
	// Version and Member are the facts version and member number of a
	// Member value; zero otherwise.
	Version int64
	Member  int32
}

// Value is a sealed value as stored.
type Value struct {
	Ref    Ref
	Sealed pii.Sealed
}

// Change replaces the sealed value at Ref, but only if it is still Old:
// a row changed since it was read is left alone.
type Change struct {
	Ref Ref
	Old pii.Sealed
	New pii.Sealed
}

// context is the associated data the value at r was sealed with; opening
// and sealing again must use exactly this, or the value would no longer
// open where the service reads it.
func (f Field) context(r Ref) ([]byte, error) {
	switch f {
	case HouseholdHead, Member:
		return []byte(r.ID), nil // pii.Sealer: bound to the household
	case WebhookSecret, WebhookPrevious:
		return delivery.SecretContext(r.ID), nil
	}
	return nil, fmt.Errorf("rekey: unknown sealed field %q", string(f))
}

// describe names the value at r for an error: ids only, never the value.
func (f Field) describe(r Ref) string {
	switch f {
	case HouseholdHead:
		return "the head's 身份证号 of household " + r.ID
	case Member:
		return fmt.Sprintf("the 身份证号 of member %d in facts version %d of household %s", r.Member, r.Version, r.ID)
	case WebhookSecret:
		return "the webhook secret of bank " + r.ID
	case WebhookPrevious:
		return "the previous webhook secret of bank " + r.ID
	}
	return fmt.Sprintf("%s %+v", string(f), r)
}
