package evidence

// SubmitInput is one submission as typed (or read from a CSV row); the
// service parses and validates every field. Field names in violations are
// the proto's: parent, kind, item_code, quantity, occurred_on, note,
// attachments, witness, system_source, level, stars, valid_until, period,
// proposed_amount, request_id.
type SubmitInput struct {
	// Parent is the household: villages/{v}/households/{id}.
	Parent string
	Kind   Kind
	// Points.
	ItemCode string
	Quantity int32
	// StarRating.
	Level Level
	Stars int32
	// StarRating, RedList, BlackList, Recommendation: YYYY-MM-DD.
	ValidUntil string
	// Recommendation.
	Period         string
	Creditworthy   bool
	ProposedAmount string // yuan, decimal
	// Every kind.
	OccurredOn   string // YYYY-MM-DD
	Note         string
	Attachments  []Attachment
	Witness      string
	SystemSource string
	// RequestID makes the submission idempotent within the village.
	RequestID string
}

// RedeemInput is a 兑换超市 redemption.
type RedeemInput struct {
	Household string // villages/{v}/households/{id}
	Amount    string // points, decimal
	Note      string
	RequestID string
}

// Filter selects evidence for List; empty fields do not filter.
type Filter struct {
	// Parent is villages/{v} or villages/{v}/households/{id}.
	Parent   string
	Kind     Kind
	State    State
	ItemCode string
}

// Page is one page of evidence and the token for the next.
type Page struct {
	Evidence  []*Evidence
	NextToken string
}

// RowResult is the outcome of one row of a batch: the stored evidence (new
// or, for a repeated request id, the original), or why the row was not
// imported.
type RowResult struct {
	Row      int
	Evidence *Evidence
	// Duplicate is true when the row's request id was already imported
	// with the same content: nothing was written.
	Duplicate bool
	Err       error
}

// MaxBatch bounds one batch call; larger imports are split by the client
// (the CLI does).
const MaxBatch = 1000
