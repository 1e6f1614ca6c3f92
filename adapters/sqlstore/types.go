package sqlstore

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/dectext"
)

// timeLayout is how instants are written: UTC, fixed-width microseconds, so
// SQLite's TEXT columns sort and compare correctly; PostgreSQL parses it
// into TIMESTAMPTZ.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// ts carries an instant to and from both engines.
type ts struct{ t *time.Time }

func tsArg(t time.Time) string { return t.UTC().Truncate(time.Microsecond).Format(timeLayout) }

func (s ts) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*s.t = v.UTC()
	case string:
		return s.parse(v)
	case []byte:
		return s.parse(string(v))
	default:
		return fmt.Errorf("cannot scan %T into a time", src)
	}
	return nil
}

func (s ts) parse(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("bad stored time %q: %w", v, err)
	}
	*s.t = t.UTC()
	return nil
}

// nullTS scans a nullable instant.
type nullTS struct{ t **time.Time }

func (s nullTS) Scan(src any) error {
	if src == nil {
		*s.t = nil
		return nil
	}
	var t time.Time
	if err := (ts{&t}).Scan(src); err != nil {
		return err
	}
	*s.t = &t
	return nil
}

// date scans a calendar date (DATE in PostgreSQL, TEXT in SQLite) into its
// YYYY-MM-DD form.
type date[T ~string] struct{ d *T }

func (s date[T]) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*s.d = T(v.Format(time.DateOnly))
	case string:
		*s.d = T(v)
	case []byte:
		*s.d = T(v)
	default:
		return fmt.Errorf("cannot scan %T into a date", src)
	}
	return nil
}

// money carries a decimal (NUMERIC in PostgreSQL, canonical TEXT in SQLite:
// never a float).
type money struct{ d *decimal.Decimal }

func moneyArg(d decimal.Decimal) string { return dectext.String(d) }

func (m money) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case int64:
		*m.d = decimal.NewFromInt(v)
		return nil
	default:
		return fmt.Errorf("cannot scan %T into a decimal; money must never be a float", src)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return fmt.Errorf("bad stored amount %q: %w", s, err)
	}
	*m.d = d
	return nil
}
