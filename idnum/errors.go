package idnum

// Reason classifies why an identifier was rejected. API layers map a Reason
// to a field violation without parsing the human-readable message, and the
// set of reasons is part of this package's stable API.
type Reason string

// Reasons reported by ParsePersonID, ParsePersonIDAt and ParseVillageCode.
const (
	// ReasonLength: the input has the wrong number of characters.
	ReasonLength Reason = "length"
	// ReasonFormat: a character that must be a digit (or the check
	// character X) is something else.
	ReasonFormat Reason = "format"
	// ReasonRegion: the administrative region prefix is not a known
	// province or is not a county-level code.
	ReasonRegion Reason = "region"
	// ReasonBirthDate: the embedded birth date is not a real calendar date,
	// lies in the future, or is implausibly early.
	ReasonBirthDate Reason = "birth_date"
	// ReasonCheckDigit: the final character does not match the GB 11643
	// check digit computed from the first 17 digits.
	ReasonCheckDigit Reason = "check_digit"
	// ReasonLevel: a statistical division code names a town or county rather
	// than a village or community.
	ReasonLevel Reason = "level"
)

// Error reports why an identifier was rejected. Msg is meant for people
// (API responses, operator logs) and never contains a complete personal ID
// number, so it is safe to log and to return to clients.
type Error struct {
	Reason Reason
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func newError(r Reason, msg string) *Error { return &Error{Reason: r, Msg: msg} }
