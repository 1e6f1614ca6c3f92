package sqlstore

import (
	"context"

	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
)

// MaxScannedEntries bounds the rows one ListVisibleEntries call reads past
// the coarse filter, so that a caller who sees few entries of a long log
// gets a short page and a token instead of a scan of the whole log.
const MaxScannedEntries = 5000

// ListVisibleEntries returns up to limit leaves that match q and that
// visible admits, in seq order. q.Scope narrows the query (audit.ScopeFor);
// visible (audit.Visible) decides each row, before paging, so a page is
// never short because rows were dropped after it was cut. more reports that
// entries may follow after resume (a seq to continue from): either the
// page is full, or the scan budget ran out first.
func (s *Store) ListVisibleEntries(ctx context.Context, q EntryQuery, limit int, visible func(audit.Entry) bool) (out []Leaf, resume int64, more bool, err error) {
	batch := max(limit+1, 64)
	scanned := 0
	for {
		bq := q
		bq.Limit = batch
		leaves, err := s.ListEntries(ctx, bq)
		if err != nil {
			return nil, 0, false, err
		}
		for _, l := range leaves {
			scanned++
			q.AfterSeq = int64(l.Seq)
			e, err := audit.ParseEntry(l.Data)
			if err != nil {
				return nil, 0, false, fault.Wrap(err, fault.Internal, "AUDIT_ENTRY_CORRUPT", "stored entry %d is not canonical", l.Seq)
			}
			if !visible(e) {
				continue
			}
			if len(out) == limit {
				// One more visible entry exists: the page is full.
				return out, int64(out[limit-1].Seq), true, nil
			}
			out = append(out, l)
		}
		if len(leaves) < batch {
			return out, 0, false, nil // the end of the log
		}
		if scanned >= MaxScannedEntries {
			return out, q.AfterSeq, true, nil
		}
	}
}
