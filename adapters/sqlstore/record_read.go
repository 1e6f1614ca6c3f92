package sqlstore

import (
	"context"

	"github.com/sanzhi/sanzhi/audit"
)

// RecordRead puts a read that changes nothing on record (group commit,
// see recorder): for transports whose read is itself worth an entry,
// such as a regulator's export of the log.
func (s *Store) RecordRead(ctx context.Context, rec audit.Record) error {
	return s.records.Append(ctx, rec)
}
