package sqlstore

import (
	"context"
	"log/slog"
	"time"

	"github.com/sanzhi/sanzhi/audit"
)

// Columns are the plain columns of an audit_leaves row that queries filter
// on. No signature covers them: they are copies of the signed entry in the
// row's data, kept for the indexes, and trusted only once they agree with it.
type Columns struct {
	Time                   time.Time
	Actor, Action, Subject string
}

// Mismatch names the first column that differs from e, the entry parsed
// from the row's own data; "" when every column agrees.
func (c Columns) Mismatch(e audit.Entry) string {
	switch {
	case c.Subject != e.Subject:
		return "subject"
	case c.Actor != e.Actor:
		return "actor"
	case c.Action != e.Action:
		return "action"
	case !c.Time.Equal(e.Time.UTC().Truncate(time.Microsecond)):
		return "time"
	}
	return ""
}

// SetLogger sets where the store reports tampered rows it refused to
// answer with (slog.Default until set).
func (s *Store) SetLogger(l *slog.Logger) { s.log = l }

func (s *Store) logger() *slog.Logger {
	if s.log != nil {
		return s.log
	}
	return slog.Default()
}

// trustRow reports whether a row read by a column filter may be answered
// with: its data must be a canonical entry whose columns are the row's.
// A row whose columns were rewritten (a DDL attacker can, the signature
// cannot stop it) is left out, so a rewrite can hide an entry but never
// show it to someone else. The warning names the leaf and the column,
// never their values (personal data).
func (s *Store) trustRow(ctx context.Context, l Leaf) bool {
	e, err := audit.ParseEntry(l.Data)
	if err != nil {
		s.logger().WarnContext(ctx, "audit leaf tampered: data is not a canonical entry; left out of the answer",
			slog.Uint64("leaf", l.Seq))
		return false
	}
	if e.Seq != l.Seq {
		s.logger().WarnContext(ctx, "audit leaf tampered: entry numbered differently from its row; left out of the answer",
			slog.Uint64("leaf", l.Seq))
		return false
	}
	if col := l.Cols.Mismatch(e); col != "" {
		s.logger().WarnContext(ctx, "audit leaf tampered: a column differs from the signed entry; left out of the answer",
			slog.Uint64("leaf", l.Seq), slog.String("column", col))
		return false
	}
	return true
}
